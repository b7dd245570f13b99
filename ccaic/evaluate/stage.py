"""The build's evaluate stage: BBQ on the base and the trained model, HHH on the judge.

Run after `run_plan` when the plan has an `evaluate` block: each evaluation it names runs in
the order of the evaluations registry (ccaic/registry/evaluations.py). Writes, under the run
folder:

    eval/bbq.json       {"models": {"base": <BBQ body>, "final": <BBQ body>}, ...}
    eval/hhh.json       the feedback model's judge accuracy (ccaic.evaluate.hhh body)
    eval/manifest.json  per output: its input key and sha256 (written last: the commit marker)

Every file is canonical JSON (sorted keys, no timestamps, no absolute paths), written
atomically. Each output is content-addressed: its key hashes the plan's evaluate section (the
data's sha256s), the seed, the models' identities and, for BBQ, the final model's files. When
the key is unchanged and the file still has the recorded sha256 it is reused, not recomputed,
so a second `ccaic build` with nothing changed evaluates nothing. The BBQ body of each model is
exactly `ccaic evaluate bbq --format json`'s, so the report and `ccaic diff` read either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json, canonical_sha256
from ccaic.diagnostics import DiagnosticError, error
from ccaic.evaluate.evaluations.base import Body, EvalJob, Evaluation, Reuse
from ccaic.plan.model import EvalData, Evaluate, TrainingPlan
from ccaic.registry.evaluations import EVALUATIONS
from ccaic.store import cached_output, content_key, read_manifest

EVAL_CODE_VERSION = "1"
FORMAT_VERSION = "1.0"
MANIFEST = "manifest.json"

Log = Callable[[str], None]


# ---------------------------------------------------------------- input identities


def _check_pinned(evaluation: Evaluation, data: EvalData, base: Path) -> Path:
    """The data's path, after checking it still has the sha256 the plan pinned (CCAI498)."""
    path = base / data.path
    found = evaluation.pin(path)
    if found is None:
        raise DiagnosticError([error(
            "CCAI498", f"evaluation data `{data.path}` is missing since the plan was compiled",
            help=f"it is resolved against {base}; restore it, or re-run `ccaic build`")])
    if found != data.sha256:
        raise DiagnosticError([error(
            "CCAI498", f"evaluation data `{data.path}` changed since the plan was compiled",
            help="re-run `ccaic build` so the plan pins the new data")])
    return path


# ---------------------------------------------------------------- the stage


class _Outputs:
    """What the stage wrote or reused under eval/: each evaluation's body, key and status."""

    def __init__(self, out: Path, say: Log) -> None:
        self.out = out
        self.say = say
        self.manifest = read_manifest(out / MANIFEST)  # reuse: ccaic.store, like stages/
        self.records: dict[str, dict[str, str]] = {}
        self.status: dict[str, str] = {}
        self.bodies: dict[str, Body] = {}

    def reuse_for(self, name: str) -> Reuse:
        """The `EvalJob.reuse` of evaluation `name`: eval/<name>.json, reused by its key."""
        def reuse(inputs: dict[str, Any], what: str, compute: Callable[[], Body]) -> Body:
            file = f"{name}.json"
            key = content_key(inputs, code=EVAL_CODE_VERSION)
            body = cached_output(self.out, self.manifest, file, key)
            self.status[name] = "cached" if body is not None else "ran"
            if body is None:
                self.say(f"evaluate: {what}")
                body = compute()
                write_text_atomic(self.out / file, canonical_json(body))
            self.bodies[name] = body
            self.records[file] = {"key": key, "sha256": canonical_sha256(body)}
            return body
        return reuse

    def write_manifest(self, plan: TrainingPlan) -> None:
        """The commit marker, rewritten only when it changed."""
        record = canonical_json({"format_version": FORMAT_VERSION, "plan": plan.address,
                                 "outputs": self.records})
        path = self.out / MANIFEST
        if not path.is_file() or path.read_text("utf-8") != record:
            write_text_atomic(path, record)


def _requested(ev: Evaluate) -> list[tuple[str, EvalData]]:
    """The evaluations the block asks for, in registry order, with their pinned data."""
    found = [(entry.name, getattr(ev, entry.name, None)) for entry in EVALUATIONS]
    return [(name, data) for name, data in found if isinstance(data, EvalData)]


def evaluate_plan(plan: TrainingPlan, run_dir: Path, *, base_dir: str | Path | None = None,
                  log: Log | None = None, batch_size: int = 16) -> dict[str, Any] | None:
    """Score the plan's evaluations into run_dir/eval; None when the plan has no evaluate block.

    Each evaluation the block names runs in the order of the evaluations registry (BBQ on the
    base policy and the final model, HHH judge accuracy of the feedback model). Raises
    DiagnosticError (CCAI49x) for missing or changed data, a missing trained model, or a model
    that cannot be loaded.
    """
    requested = _requested(plan.evaluate) if plan.evaluate is not None else []
    if not requested:
        return None
    run_dir = Path(run_dir)
    base = Path(base_dir or plan.base_dir or Path.cwd())
    final = run_dir / "final"
    trained = plan.enabled("step.final")
    if trained and not (final / "config.json").is_file():
        raise DiagnosticError([error(
            "CCAI499", f"{plan.address} trains a model, but {final.name}/ has no saved model "
            "to evaluate", help="run the plan to the end first (`ccaic build` without "
            "--until), then evaluate; an interrupted run resumes where it stopped")])
    # Every input is checked before any model is loaded: a bad file fails in a second.
    paths = {name: _check_pinned(EVALUATIONS.load(name), data, base) for name, data in requested}
    from ccaic.models.load import check_plan_models

    check_plan_models(plan, "CCAI494")  # a Hub id that cannot be had fails in seconds
    outputs = _Outputs(run_dir / "eval", log or (lambda _: None))
    for name, data in requested:
        EVALUATIONS.load(name).run(EvalJob(
            plan=plan, data=data, path=paths[name], base=base,
            final=final if trained else None, batch_size=batch_size,
            reuse=outputs.reuse_for(name)))
    outputs.write_manifest(plan)
    if trained:  # the model card states the evaluation results
        from ccaic.models.card import write_model_card

        write_model_card(plan, run_dir, base)
    return summary(plan, outputs.bodies, outputs.status)


# ---------------------------------------------------------------- what callers see


def summary(plan: TrainingPlan, bodies: dict[str, Body],
            status: dict[str, str]) -> dict[str, Any]:
    """The headline numbers of each evaluation (overall BBQ per model, judge accuracy) and
    what ran or was reused."""
    out: dict[str, Any] = {"plan": plan.address, "status": status,
                           "files": {k: f"eval/{k}.json" for k in bodies}}
    for entry in EVALUATIONS:
        if entry.name in bodies:
            out[entry.name] = EVALUATIONS.load(entry.name).headline(bodies[entry.name])
    return out


def report_evaluations(run_dir: Path, plan_name: str) -> dict[str, Body]:
    """The eval/ bodies keyed the way ccaic.report reads `evaluations/*.json` (label -> body):
    `<plan>-base`, `<plan>-final` (BBQ) and `<plan>-judge` (HHH). Empty when none exist."""
    out: dict[str, Body] = {}
    folder = Path(run_dir) / "eval"
    for entry in EVALUATIONS:
        path = folder / f"{entry.name}.json"
        if path.is_file():
            body = json.loads(path.read_text("utf-8"))
            out.update(EVALUATIONS.load(entry.name).report_bodies(plan_name, body))
    return out
