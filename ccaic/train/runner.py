"""`run_plan`: run a TrainingPlan's steps in DAG order, content-addressed, resumable.

The runner walks `plan.steps` in order and knows no step: each address is covered by an entry
of the step registry (ccaic.registry.steps), whose implementation (ccaic.train.steps) declares
its key, what it reads and what it writes. A step runs when the plan turns it on and every step
it needs has an output; otherwise it is recorded as off.

Layout of the output folder:

    plan.json                       the plan (canonical JSON)
    build.log                       what ran, when, how fast (the only file with times)
    run.json                        per-step status, stage folders and counts (no times)
    stages/<name>-<key16>/          one folder per stage and input hash:
        parts/NNNNNN.jsonl          generation batches (atomic; kept until the stage commits)
        *.jsonl                     the stage's dataset(s)
        model/                      trained model (sft, dpo); checkpoints/ while training
        manifest.json               written last: the commit marker
    final/                          the final model + plan.json + constitution.json

Re-running with the same plan re-uses every committed stage; changing an input changes the
keys of that stage and every stage after it, and only those run again. A run killed at any
point resumes: committed stages are skipped, generation resumes at the first missing batch,
training resumes from the last trainer checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import ccaic.registry.steps as step_registry
from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.diagnostics import DiagnosticError, error
from ccaic.plan.model import TrainingPlan, plan_json
from ccaic.registry import Registry
from ccaic.registry.steps import addresses, step_of
from ccaic.train.dist import World
from ccaic.train.progress import BuildLog, Progress, default_progress
from ccaic.train.steps.base import Outcome, TrainStep
from ccaic.train.steps.context import Models, Policy, RunContext, prompt_rows


@dataclass
class RunResult:
    out_dir: Path
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    final: Path | None = None
    stopped_after: str | None = None

    @property
    def ran(self) -> list[str]:
        return [a for a, s in self.steps.items() if s["status"] == "ran"]

    def count(self, status: str) -> int:
        """Steps with this status: `ran`, `cached` (reused) or `off` (turned off by the plan)."""
        return sum(s["status"] == status for s in self.steps.values())


def _stop_name(until: str | None, steps: Registry[object]) -> str | None:
    """The step `--until` names (a step name, one of its addresses, or `step.<name>`)."""
    if until is None:
        return None
    aliases = {**step_of(steps), **{f"step.{name}": name for name in steps.names()}}
    name = aliases.get(until, until)
    if name not in steps:
        raise DiagnosticError([error("CCAI515", f"unknown step `{until}`",
                                     help="one of: " + ", ".join(steps.names()))])
    return name


def _walk(plan: TrainingPlan, steps: Registry[object]) -> list[str]:
    """The plan's steps in plan.steps order, each step once (sl_cai covers two addresses)."""
    covers = step_of(steps)
    unknown = [s.address for s in plan.steps if s.address not in covers]
    if unknown:
        raise DiagnosticError([error(
            "CCAI515", f"{plan.address} has a step no training step implements: {unknown[0]}",
            help="one of: " + ", ".join(covers) + "; re-run `ccaic build` with this ccaic")])
    return list(dict.fromkeys(covers[s.address] for s in plan.steps))


def _runnable(ctx: RunContext, covered: tuple[str, ...]) -> bool:
    """On in the plan, and every step it needs (outside itself) has an output."""
    own = [ctx.plan.step(a) for a in covered]
    needs = {ctx.step_of[n] for s in own for n in s.needs if n not in covered}
    return all(s.enabled for s in own) and all(n in ctx.outputs for n in needs)


def _context(plan: TrainingPlan, text: str, out: Path, w: World, log: BuildLog,
             progress: Progress, base: Path, backend: str,
             steps: Registry[object]) -> RunContext:
    """Everything the steps share (text: plan.json, as written), with the checks that read no
    model done first."""
    from ccaic.models.identity import model_identity
    from ccaic.models.load import check_plan_models, model_location, model_revision
    from ccaic.train.sampling import held_out

    prompts = prompt_rows(plan, base)
    ids = [r["id"] for r in prompts.get("red_team", []) + prompts.get("helpful", [])]
    # prompts held out of SFT: preference pairs come from them (rlaif.split)
    held = held_out(ids, plan.stages.dpo.split, plan.seed)
    template = plan.chat_template.text if plan.chat_template else None
    location = model_location(plan.policy, str(base), plan.seed)
    identity = model_identity(plan.policy, base, plan.seed)
    check_plan_models(plan, "CCAI513")  # an id that cannot be had fails in seconds
    if plan.chat_template is not None:  # the same weights rendered differently
        identity["chat_template"] = plan.chat_template.sha256
    policy = Policy(location, identity, model_revision(plan.policy),
                    plan.policy.name if plan.policy.kind == "hf" else None)
    return RunContext(
        plan=plan, out=out, base=base, text=text, world=w, log=log,
        progress=progress, models=Models(backend, template, plan), policy=policy,
        prompts=prompts, held=held, step_of=step_of(steps),
        # transformers keeps the keys it always had; vLLM samples differently: its own keys
        gen_key={"backend": backend} if backend != "transformers" else {},
        # data-parallel training sums gradients in another order: its own keys (one process
        # keeps the keys it always had)
        world_key={"world": w.size} if w.distributed else {})


def _record(result: RunResult, addresses: tuple[str, ...], outcome: Outcome | None) -> None:
    for address in addresses:
        result.steps[address] = {"status": "off", "dir": None} if outcome is None else {
            "status": outcome.status, "dir": outcome.dir, **outcome.extra}


def _write_run(result: RunResult, plan: TrainingPlan, out: Path) -> None:
    write_text_atomic(out / "run.json", canonical_json({
        "format_version": "1.0", "plan": plan.address, "plan_sha256": plan.plan_sha256,
        "stopped_after": result.stopped_after,
        "steps": {a: {k: v for k, v in s.items() if k != "status"}
                  for a, s in result.steps.items()}}))


def _step(steps: Registry[object], name: str) -> TrainStep:
    implementation = cast(type[TrainStep], steps.load(name))
    return implementation()


def _walk_steps(ctx: RunContext, names: list[str], steps: Registry[object], stop: str | None,
                result: RunResult) -> None:
    """Run each step whose needs ran, in order, recording what it did, up to `stop`."""
    for name in names:
        covered = addresses(name, steps)
        outcome = None
        if _runnable(ctx, covered):
            outcome = _step(steps, name).execute(ctx)
            ctx.outputs[name] = outcome.output
        _record(result, covered, outcome)
        if name == stop:
            break
    result.stopped_after = stop or names[-1]
    last = ctx.output(names[-1]) if result.stopped_after == names[-1] else None
    result.final = last.model if last is not None else None


def run_plan(plan: TrainingPlan, out_dir: str | Path, until: str | None = None,
             progress: Progress | None = None, base_dir: str | Path | None = None,
             generation_backend: str | None = None,
             steps: Registry[object] | None = None) -> RunResult:
    """Run the plan's steps into out_dir, re-using committed stages.

    Under `accelerate launch` every rank calls this with the same arguments: generation is
    sharded by batch, trainers run data-parallel, and rank 0 alone writes files (the others
    wait for it at a barrier after each stage). generation_backend: `auto` / `vllm` /
    `transformers`, else $CCAIC_GENERATION_BACKEND, else auto. steps: the registry that
    implements plan.steps (default: ccaic.registry.steps.STEPS as it is at the call, which a
    test may monkeypatch; or a test's own).
    """
    from ccaic.train.dist import world
    from ccaic.train.generation import resolve_backend

    steps = step_registry.STEPS if steps is None else steps
    w = world()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = (progress or default_progress()) if w.is_main else Progress()
    log = BuildLog(out / "build.log", enabled=w.is_main)
    stop = _stop_name(until, steps)
    names = _walk(plan, steps)
    base = Path(base_dir or plan.base_dir or Path.cwd())
    text = plan_json(plan)
    backend = resolve_backend(generation_backend or getattr(plan, "generation_backend", None))
    if w.is_main and (not (out / "plan.json").is_file()
                      or (out / "plan.json").read_text("utf-8") != text):
        write_text_atomic(out / "plan.json", text)
    log(f"run {plan.address} plan_sha256={plan.plan_sha256} until={stop or names[-1]} "
        f"backend={backend}" + (f" world={w.size}" if w.distributed else ""))
    result = RunResult(out_dir=out)
    for name in names:  # every enabled step's checks before any step runs
        if all(plan.enabled(a) for a in addresses(name, steps)):
            _step(steps, name).preflight(plan, w.size)
    ctx = _context(plan, text, out, w, log, progress, base, backend, steps)
    try:
        _walk_steps(ctx, names, steps, stop, result)
        return result
    finally:
        ctx.models.free()
        if w.is_main:
            _write_run(result, plan, out)
        if hasattr(progress, "close"):
            progress.close()
