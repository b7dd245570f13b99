"""`run_plan`: run a TrainingPlan's steps in DAG order, content-addressed, resumable.

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

import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.diagnostics import DiagnosticError, error
from ccaic.files import read_data_bytes
from ccaic.models.card import portable_adapter_config, write_model_card
from ccaic.plan.model import TrainingPlan, plan_json
from ccaic.plan.rows import prompt_messages
from ccaic.train.progress import BuildLog, Progress, default_progress
from ccaic.store import StageDir, content_key, read_jsonl, sha256_file

ORDER = ("initial", "sl_cai", "sft_data", "sft", "pairs", "label", "dpo", "final")
ALIASES = {
    "step.initial": "initial", "step.sl_cai.critique": "sl_cai", "step.sl_cai.revision": "sl_cai",
    "step.sl_cai": "sl_cai", "step.sft_data": "sft_data", "step.sft": "sft",
    "step.pairs": "pairs", "step.label": "label", "step.dpo": "dpo", "step.final": "final",
}
STEP_OF = {"initial": ("step.initial",), "sl_cai": ("step.sl_cai.critique", "step.sl_cai.revision"),
           "sft_data": ("step.sft_data",), "sft": ("step.sft",), "pairs": ("step.pairs",),
           "label": ("step.label",), "dpo": ("step.dpo",), "final": ("step.final",)}


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


def _stage_name(until: str | None) -> str | None:
    if until is None:
        return None
    name = ALIASES.get(until, until)
    if name not in ORDER:
        raise DiagnosticError([error("CCAI515", f"unknown step `{until}`",
                                     help="one of: " + ", ".join(ORDER))])
    return name


def _pinned_rows(base: Path, rel: str, sha256: str, what: str) -> list[dict[str, Any]]:
    """The JSONL rows of a file the plan pinned; CCAI511 when it is gone or changed."""
    path = base / rel
    try:
        data = read_data_bytes(path)
    except OSError as exc:
        raise DiagnosticError([error(
            "CCAI511", f"{what} `{rel}` cannot be read: {exc.strerror or exc}",
            help=f"it is resolved against {base}; run from the .ccai file's folder or pass "
            "base_dir")]) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DiagnosticError([error(
            "CCAI511", f"{what} `{rel}` changed since the plan was compiled",
            help="re-run `ccaic build` so the plan pins the new file")])
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def _prompts(plan: TrainingPlan, base: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for ps in plan.prompts:
        rows = _pinned_rows(base, ps.path, ps.sha256, "prompt file")
        out[ps.name] = [{"id": f"{ps.name}:{i:05d}", "set": ps.name,
                         "prompt": prompt_messages(r)} for i, r in enumerate(rows)]
    return out


def _preferences(plan: TrainingPlan, base: Path) -> list[dict[str, Any]]:
    """The plan's helpfulness preference pairs as DPO rows (hard labels)."""
    if plan.preferences is None:
        return []
    from ccaic.models.labels import preference_row

    ps = plan.preferences
    return [preference_row(r, i, prompt_messages(r))
            for i, r in enumerate(_pinned_rows(base, ps.path, ps.sha256, "preference file"))]


class _Models:
    """Loads each model location once at a time (frees the previous one).

    `get(loc)` is the transformers model (scoring and, with the transformers backend,
    generation); `generator(loc)` is whatever the generation backend is (vLLM or the same
    transformers model)."""

    def __init__(self, backend: str = "transformers", chat_template: str | None = None,
                 plan: TrainingPlan | None = None) -> None:
        self.backend = backend
        self.chat_template = chat_template  # the plan's, set on every tokenizer loaded
        self.plan = plan  # sizes vLLM's context and batched tokens
        self.location: tuple[str, str | None, str] | None = None
        self.lm: Any = None

    def generator(self, location: str, revision: str | None = None) -> Any:
        return self.get(location, self.backend, revision)

    def get(self, location: str, backend: str = "transformers",
            revision: str | None = None) -> Any:
        """revision: the Hub revision the plan pins (None for folders and unpinned ids)."""
        if self.location != (location, revision, backend):
            self.free()
            from ccaic.models.lm import LM

            try:
                if backend == "vllm":
                    from ccaic.train.generation import VLLMGenerator

                    self.lm = VLLMGenerator(location, revision,
                                            chat_template=self.chat_template, plan=self.plan)
                else:
                    self.lm = LM(location, revision, chat_template=self.chat_template)
            except OSError as exc:
                raise DiagnosticError([error(
                    "CCAI513", f"model `{location}` could not be loaded: {exc}",
                    help="check the id or folder; without network access only models already "
                    "in the Hugging Face cache or on disk can be used")]) from None
            self.location = (location, revision, backend)
        return self.lm

    def free(self) -> None:
        if self.lm is not None:
            self.lm.free()
        self.lm = None
        self.location = None


def _check_batches(plan: TrainingPlan, world_size: int) -> None:
    """Before anything runs: each trainer stage's total_batch_size splits over the processes
    (CCAI521), so a launch on the wrong number of devices fails in a second, not after
    generation."""
    from ccaic.train.dist import accumulation_steps

    for block, stage in (("sft", plan.stages.sft), ("rlaif", plan.stages.dpo)):
        if stage.enabled:
            t = stage.training
            accumulation_steps(t.total_batch_size, t.batch_size, world_size, block)


def _prepare_resume(stage: str, work: Path, log: BuildLog) -> None:
    """Before a trainer stage: rank 0 sets half-saved checkpoints aside and says which one
    training resumes from; the other ranks wait, then all read the same folder."""
    from ccaic.train.checkpoints import last_complete, set_aside_incomplete
    from ccaic.train.dist import world

    w = world()
    if w.is_main:
        set_aside_incomplete(work, lambda line: log(f"{stage}: {line}"))
        last = last_complete(work)
        if last is not None:
            log(f"{stage}: resuming from the last trainer checkpoint ({Path(last).name})")
    w.barrier()


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full(exc: BaseException) -> bool:
    """True when exc, or an exception it was raised from, is "no space left on device"
    (torch.save and safetensors wrap the OSError in their own errors)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _DISK_FULL:
            return True
        if "No space left on device" in str(seen) or "Disk quota exceeded" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def _disk_full_is_a_diagnostic(stage: str, out: Path) -> Iterator[None]:
    """A full disk while training (usually mid-checkpoint) is CCAI520, not a crash: the
    half-written checkpoint is set aside on the next run, which resumes from the last good one."""
    try:
        yield
    except DiagnosticError:
        raise
    except Exception as exc:
        if not disk_full(exc):
            raise
        raise DiagnosticError([error(
            "CCAI520", f"{stage}: the disk filled up while training wrote to {out}",
            help="free some space and run the build again: it sets the half-written "
            "checkpoint aside and resumes from the last complete one")]) from None


def _copy_model(src: Path, dst: Path, adapters_only: bool = False) -> None:
    """src into dst atomically; adapters_only: the LoRA adapters (src/adapter) and the
    tokenizer files instead of the merged weights (`lora { merge = false }`)."""
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if adapters_only:
        shutil.copytree(src / "adapter", tmp)
        for path in src.iterdir():
            if path.is_file() and (path.name.startswith(("tokenizer", "special_tokens"))
                                   or path.name in ("chat_template.jinja", "vocab.json",
                                                    "merges.txt")):
                shutil.copy2(path, tmp / path.name)
    else:
        shutil.copytree(src, tmp)
    shutil.rmtree(dst, ignore_errors=True)
    os.replace(tmp, dst)


def final_lora(plan: TrainingPlan) -> Any:
    """The LoRA settings of the stage whose model final/ ships (DPO, else SFT), or None."""
    st = plan.stages
    if st.dpo.enabled:
        return st.dpo.training.lora
    return st.sft.training.lora if st.sft.enabled and st.sl_cai.enabled else None


def _check_unmerged(plan: TrainingPlan) -> None:
    """`lora { merge = false }` ships the adapters alone, so they must name a base anyone can
    load: a Hub model the final stage trained on directly (CCAI522 otherwise)."""
    lora = final_lora(plan)
    if lora is None or lora.merge:
        return
    st = plan.stages
    on_sft = st.dpo.enabled and st.sft.enabled and st.sl_cai.enabled
    if plan.policy.kind == "hf" and not on_sft:
        return
    why = ("DPO trains on the SFT stage's model, which exists only in this build" if on_sft
           else f"the base `{plan.policy.ref}` is not a Hugging Face Hub model")
    raise DiagnosticError([error(
        "CCAI522", f"`lora {{ merge = false }}` ships the adapters without their base, but {why}",
        help="remove `merge = false` (final/ then holds merged weights and the adapters in "
        "final/adapter/), or train the adapters directly on a Hub model")])


def run_plan(plan: TrainingPlan, out_dir: str | Path, until: str | None = None,
             progress: Progress | None = None, base_dir: str | Path | None = None,
             generation_backend: str | None = None) -> RunResult:
    """Run the plan's steps into out_dir, re-using committed stages.

    Under `accelerate launch` every rank calls this with the same arguments: generation is
    sharded by batch, trainers run data-parallel, and rank 0 alone writes files (the others
    wait for it at a barrier after each stage). generation_backend: `auto` / `vllm` /
    `transformers`, else $CCAIC_GENERATION_BACKEND, else auto.
    """
    from ccaic.train.dist import world
    from ccaic.train.generation import resolve_backend

    w = world()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = (progress or default_progress()) if w.is_main else Progress()
    log = BuildLog(out / "build.log", enabled=w.is_main)
    stop = _stage_name(until)
    base = Path(base_dir or plan.base_dir or Path.cwd())
    text = plan_json(plan)
    backend = resolve_backend(generation_backend
                              or getattr(plan, "generation_backend", None))
    # transformers keeps the keys it always had; vLLM samples differently, so it gets its own
    gen_key: dict[str, Any] = {"backend": backend} if backend != "transformers" else {}
    # data-parallel training sums gradients in another order: its own keys (one process keeps
    # the keys it always had)
    world_key: dict[str, Any] = {"world": w.size} if w.distributed else {}
    if w.is_main and (not (out / "plan.json").is_file()
                      or (out / "plan.json").read_text("utf-8") != text):
        write_text_atomic(out / "plan.json", text)
    log(f"run {plan.address} plan_sha256={plan.plan_sha256} until={stop or 'final'} "
        f"backend={backend}" + (f" world={w.size}" if w.distributed else ""))
    result = RunResult(out_dir=out)
    st = plan.stages
    _check_batches(plan, w.size)
    _check_unmerged(plan)
    prompts = _prompts(plan, base)
    red, helpful = prompts.get("red_team", []), prompts.get("helpful", [])
    from ccaic.train.sampling import held_out, mix

    # prompts held out of SFT: preference pairs come from them (rlaif.split)
    held = held_out([r["id"] for r in red + helpful], st.dpo.split, plan.seed)
    split_key: dict[str, Any] = {"split": st.dpo.split} if st.dpo.split > 0 else {}
    template = plan.chat_template.text if plan.chat_template else None
    models = _Models(backend, template, plan)
    from ccaic.models.identity import model_identity
    from ccaic.models.load import check_plan_models, model_location, model_revision

    policy_loc = model_location(plan.policy, str(base), plan.seed)
    policy_id = model_identity(plan.policy, base, plan.seed)
    policy_rev = model_revision(plan.policy)
    hub_id = plan.policy.name if plan.policy.kind == "hf" else None
    check_plan_models(plan, "CCAI513")  # an id that cannot be had fails in seconds
    if plan.chat_template is not None:  # the same weights rendered differently
        policy_id["chat_template"] = plan.chat_template.sha256
    seed = plan.seed

    def record(stage: str, sd: StageDir | None, status: str, extra: dict[str, Any]) -> None:
        for address in STEP_OF[stage]:
            result.steps[address] = {
                "status": status,
                "dir": sd.path.relative_to(out).as_posix() if sd is not None else None,
                **extra}

    def begin(stage: str, key_inputs: dict[str, Any]) -> tuple[StageDir, bool]:
        sd = StageDir(out, stage, content_key(key_inputs))
        if w.broadcast(sd.done):  # rank 0 decides, so no rank runs a stage the others skip
            log(f"{stage}: cached ({sd.path.name})")
            record(stage, sd, "cached", {"counts": sd.manifest().get("counts", {})})
            return sd, True
        sd.path.mkdir(parents=True, exist_ok=True)
        log(f"{stage}: running ({sd.path.name})")
        return sd, False

    def save(sd: StageDir, name: str, rows: list[dict[str, Any]]) -> str:
        """Rank 0 writes the dataset (every rank holds the same gathered rows)."""
        return sd.write_jsonl(name, rows) if w.is_main else ""

    def finish(stage: str, sd: StageDir, counts: dict[str, Any], files: dict[str, str],
               t0: float) -> None:
        if w.is_main:
            sd.commit({"counts": counts, "files": files})
            sd.clear_parts()
        w.barrier()  # the others go on only once the stage is committed
        if sd.reused:
            log(f"{stage}: resumed, {sd.reused} batch(es) kept from an interrupted run")
        dt = time.perf_counter() - t0
        log(f"{stage}: done in {dt:.1f}s counts={json.dumps(counts, sort_keys=True)}")
        record(stage, sd, "ran", {"counts": counts})

    def done_after(stage: str) -> bool:
        if stop == stage:
            result.stopped_after = stage
            return True
        return False

    def off(stage: str) -> None:
        record(stage, None, "off", {})

    try:
        # ---- initial
        k_initial = {"stage": "initial", "model": policy_id, "seed": seed, **gen_key,
                     "sampling": st.initial.sampling.model_dump(mode="json"),
                     "prompts": [p.model_dump(mode="json") for p in plan.prompts]}
        sd_init, cached = begin("initial", k_initial)
        if cached:
            initial = read_jsonl(sd_init.file("responses.jsonl"))
        else:
            t0 = time.perf_counter()
            from ccaic.train.stages import run_initial

            initial = run_initial(models.generator(policy_loc, policy_rev), red + helpful,
                                  plan, sd_init, progress)
            h = save(sd_init, "responses.jsonl", initial)
            finish("initial", sd_init, {"responses": len(initial)},
                   {"responses.jsonl": h}, t0)
        if done_after("initial"):
            return result
        init_red = [r for r in initial if r["set"] == "red_team"]
        init_helpful = [r for r in initial if r["set"] == "helpful"]

        # ---- critique -> revision
        k_sl = {"stage": "sl_cai", "initial": sd_init.key, "model": policy_id, "seed": seed,
                **gen_key,
                "settings": st.sl_cai.model_dump(mode="json", exclude={"enabled", "all_rounds"}),
                "constitution": plan.constitution.model_dump(mode="json")}
        revisions: list[dict[str, Any]] = []
        sd_sl: StageDir | None = None
        if st.sl_cai.enabled:
            sd_sl, cached = begin("sl_cai", k_sl)
            if cached:
                revisions = read_jsonl(sd_sl.file("revisions.jsonl"))
            else:
                t0 = time.perf_counter()
                from ccaic.train.stages import run_sl_cai

                revisions, counts = run_sl_cai(models.generator(policy_loc, policy_rev),
                                               init_red, plan, sd_sl, progress,
                                               st.sl_cai.drop_truncated)
                h = save(sd_sl, "revisions.jsonl", revisions)
                finish("sl_cai", sd_sl, counts, {"revisions.jsonl": h}, t0)
        else:
            off("sl_cai")
        if done_after("sl_cai"):
            return result

        # ---- SFT data and SFT
        sft_model: Path | None = None
        sd_sft: StageDir | None = None
        if st.sft.enabled and sd_sl is not None:
            from ccaic.train.stages import sft_rows

            k_data = {"stage": "sft_data", "sl_cai": sd_sl.key, "initial": sd_init.key,
                      "all_rounds": st.sl_cai.all_rounds, **split_key}
            sd_data, cached = begin("sft_data", k_data)
            if cached:
                sft_data = read_jsonl(sd_data.file("sft.jsonl"))
            else:
                t0 = time.perf_counter()
                sft_data = sft_rows([r for r in revisions if r["id"] not in held],
                                    [h for h in init_helpful if h["id"] not in held],
                                    st.sl_cai.all_rounds)
                if not any(r["source"] == "red_team" for r in sft_data):
                    dropped = sd_sl.manifest()["counts"].get("dropped", {})
                    raise DiagnosticError([error(
                        "CCAI512", "every revision was dropped, so the SFT set has no "
                        f"critique/revision rows (dropped: {json.dumps(dropped)})",
                        help="raise sl_cai.max_new_tokens (most drops are `truncated`), or set "
                        "sl_cai.drop_truncated = false for smoke runs with builtin:tiny")])
                h = save(sd_data, "sft.jsonl", sft_data)
                finish("sft_data", sd_data, {
                    "rows": len(sft_data),
                    "red_team": sum(r["source"] == "red_team" for r in sft_data),
                    "helpful": sum(r["source"] == "helpful" for r in sft_data)},
                    {"sft.jsonl": h}, t0)
            if done_after("sft_data"):
                return result
            k_sft = {"stage": "sft", "data": sd_data.key, "model": policy_id, "seed": seed,
                     "training": st.sft.training.model_dump(mode="json"), **world_key}
            sd_sft, cached = begin("sft", k_sft)
            sft_model = sd_sft.file("model")
            if not cached:
                t0 = time.perf_counter()
                models.free()
                progress.start("step.sft", 1)
                from ccaic.train.trainers import run_sft

                _prepare_resume("sft", sd_sft.file("checkpoints"), log)
                with _disk_full_is_a_diagnostic("sft", out):
                    counts = run_sft(policy_loc, sft_data, st.sft.training, seed,
                                     sd_sft.file("checkpoints"), sft_model, log,
                                     chat_template=template, revision=policy_rev)
                progress.advance(1)
                progress.finish()
                if w.is_main:
                    shutil.rmtree(sd_sft.file("checkpoints"), ignore_errors=True)
                    portable_adapter_config(sft_model / "adapter", hub_id, policy_rev)
                finish("sft", sd_sft, counts, {}, t0)
        else:
            off("sft_data")
            off("sft")
        if done_after("sft_data") or done_after("sft"):
            return result

        # ---- pairs and labels
        labelled: list[dict[str, Any]] = []
        sd_label: StageDir | None = None
        if st.pairs.enabled and sft_model is not None and sd_sft is not None:
            k_pairs = {"stage": "pairs", "sft": sd_sft.key, "seed": seed, **gen_key,
                       "settings": st.pairs.model_dump(mode="json", exclude={"enabled"}),
                       "prompts": [p.model_dump(mode="json") for p in plan.prompts], **split_key}
            sd_pairs, cached = begin("pairs", k_pairs)
            if cached:
                pairs = read_jsonl(sd_pairs.file("pairs.jsonl"))
            else:
                t0 = time.perf_counter()
                from ccaic.train.stages import run_pairs

                pairs, counts = run_pairs(models.generator(str(sft_model)),
                                          [r for r in red + helpful if not held or r["id"] in held],
                                          plan, sd_pairs, progress)
                h = save(sd_pairs, "pairs.jsonl", pairs)
                finish("pairs", sd_pairs, counts, {"pairs.jsonl": h}, t0)
            if done_after("pairs"):
                return result
            if st.label.enabled:
                k_label = {"stage": "label", "pairs": sd_pairs.key, "seed": seed,
                           "feedback": model_identity(plan.feedback, base, seed),
                           "settings": st.label.model_dump(mode="json", exclude={"enabled"}),
                           "constitution": plan.constitution.model_dump(mode="json")}
                sd_label, cached = begin("label", k_label)
                if cached:
                    labelled = read_jsonl(sd_label.file("pairs_labelled.jsonl"))
                else:
                    t0 = time.perf_counter()
                    if plan.feedback.kind == "openai":
                        from ccaic.models.remote import RemoteLM

                        feedback_lm: Any = RemoteLM(plan.feedback,
                                                    concurrency=st.label.concurrency)
                    else:
                        feedback_lm = models.get(model_location(plan.feedback, str(base), seed),
                                                 revision=model_revision(plan.feedback))
                    from ccaic.train.stages import run_label

                    labelled, counts = run_label(feedback_lm, pairs, plan, sd_label, progress)
                    h = save(sd_label, "pairs_labelled.jsonl", labelled)
                    finish("label", sd_label, counts, {"pairs_labelled.jsonl": h}, t0)
            else:
                off("label")
        else:
            off("pairs")
            off("label")
        if done_after("pairs") or done_after("label"):
            return result

        # ---- DPO
        final_src: Path | None = sft_model
        final_stage = "sft" if sft_model is not None else None
        if st.dpo.enabled:
            start_loc = str(sft_model) if sft_model is not None else policy_loc
            start_id = sd_sft.key if sd_sft is not None else policy_id
            if st.dpo.method == "revision_pairs":
                from ccaic.train.stages import revision_pair_rows

                rows = revision_pair_rows([r for r in revisions if not held or r["id"] in held])
                data_key = sd_sl.key if sd_sl is not None else None
            else:
                rows = labelled
                data_key = sd_label.key if sd_label is not None else None
            rows = mix(rows + _preferences(plan, base), st.dpo.helpful_fraction, seed)
            k_dpo = {"stage": "dpo", "data": data_key, "start": start_id, "seed": seed,
                     "settings": st.dpo.model_dump(mode="json", exclude={"enabled"}),
                     **({"preferences": plan.preferences.sha256} if plan.preferences else {}),
                     **world_key}
            sd_dpo, cached = begin("dpo", k_dpo)
            if not cached:
                if not rows:
                    raise DiagnosticError([error(
                        "CCAI512", "there are no preference pairs to train DPO on",
                        help="check the pairs/label counts in build.log; with "
                        "revision_pairs, every prompt needs a kept revision")])
                t0 = time.perf_counter()
                models.free()
                progress.start("step.dpo", 1)
                from ccaic.train.trainers import run_dpo

                _prepare_resume("dpo", sd_dpo.file("checkpoints"), log)
                with _disk_full_is_a_diagnostic("dpo", out):
                    counts = run_dpo(start_loc, rows, st.dpo.training, st.dpo.beta,
                                     st.dpo.soft_labels, seed, sd_dpo.file("checkpoints"),
                                     sd_dpo.file("model"), log, chat_template=template,
                                     revision=None if sft_model is not None else policy_rev)
                progress.advance(1)
                progress.finish()
                if w.is_main:
                    shutil.rmtree(sd_dpo.file("checkpoints"), ignore_errors=True)
                    from_hub = sft_model is None and hub_id is not None
                    portable_adapter_config(sd_dpo.file("model") / "adapter",
                                            hub_id if from_hub else None, policy_rev)
                h = save(sd_dpo, "pairs.jsonl", rows)
                finish("dpo", sd_dpo, counts, {"pairs.jsonl": h}, t0)
            final_src = sd_dpo.file("model")
            final_stage = "dpo"
        else:
            off("dpo")
        if done_after("dpo"):
            return result

        # ---- final
        if final_src is not None:
            final = out / "final"
            marker = final / "plan.json"
            stale = w.broadcast(not (
                marker.is_file() and marker.read_text("utf-8") == text
                and (final / "source.json").is_file()
                and json.loads((final / "source.json").read_text("utf-8"))["from"]
                == final_src.parent.name))
            if stale:
                if w.is_main:
                    lora = final_lora(plan)
                    _copy_model(final_src, final, adapters_only=lora is not None
                                and not lora.merge)
                    write_text_atomic(final / "constitution.json",
                                      canonical_json(plan.constitution))
                    write_text_atomic(final / "source.json", canonical_json(
                        {"from": final_src.parent.name, "step": f"step.{final_stage}"}))
                    write_text_atomic(final / "plan.json", text)
                w.barrier()
                record("final", None, "ran", {"from": final_src.parent.name})
            else:
                record("final", None, "cached", {"from": final_src.parent.name})
            result.steps["step.final"]["dir"] = "final"
            result.final = final
            if w.is_main:
                write_model_card(plan, out, base)
            log(f"final: {final}")
        else:
            off("final")
        result.stopped_after = "final"
        return result
    finally:
        models.free()
        if w.is_main:
            write_text_atomic(out / "run.json", canonical_json({
                "format_version": "1.0", "plan": plan.address, "plan_sha256": plan.plan_sha256,
                "stopped_after": result.stopped_after,
                "steps": {a: {k: v for k, v in s.items() if k != "status"}
                          for a, s in result.steps.items()}}))
        if hasattr(progress, "close"):
            progress.close()


def file_digest(path: Path) -> str:
    return sha256_file(path)
