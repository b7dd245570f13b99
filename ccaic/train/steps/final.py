"""step.final: the model of the last trainer step (the one step.final needs) copied into
final/, with plan.json, the constitution and the model card. Not a stage folder: final/ is
rewritten when the plan or the source model changes, else reused."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import ccaic.registry.steps as step_registry
from ccaic.artifacts import checked
from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.diagnostics import DiagnosticError, error
from ccaic.plan.model import Lora, TrainingPlan
from ccaic.registry.steps import stage_of, step_of
from ccaic.train.steps.base import Outcome, upstream
from ccaic.train.steps.context import Output, RunContext


def _shipped(plan: TrainingPlan) -> tuple[str, str | None] | None:
    """(address, plan.stages name) of the step whose model final/ ships: the one step.final
    needs (None: final/ ships nothing, or no registered step covers it)."""
    needs = plan.step("step.final").needs if plan.enabled("step.final") else ()
    name = step_of().get(needs[0]) if needs else None
    return (needs[0], stage_of(step_registry.STEPS.entry(name))) if name is not None else None


def final_lora(plan: TrainingPlan) -> Lora | None:
    """The LoRA settings of the step whose model final/ ships (DPO, else SFT), or None."""
    shipped = _shipped(plan)
    training = plan.stages.training(shipped[1]) if shipped and shipped[1] else None
    return training.lora if training is not None else None


def check_unmerged(plan: TrainingPlan) -> None:
    """`lora { merge = false }` ships the adapters alone, so they must name a base anyone can
    load: a Hub model the final stage trained on directly (CCAI522 otherwise)."""
    lora, shipped = final_lora(plan), _shipped(plan)
    if lora is None or lora.merge or shipped is None:
        return
    on_sft = plan.step(shipped[0]).model == "sft"
    if plan.policy.kind == "hf" and not on_sft:
        return
    trainer = step_of()[shipped[0]].upper()
    why = (f"{trainer} trains on the SFT stage's model, which exists only in this build"
           if on_sft else f"the base `{plan.policy.ref}` is not a Hugging Face Hub model")
    raise DiagnosticError([error(
        "CCAI522", f"`lora {{ merge = false }}` ships the adapters without their base, but {why}",
        help="remove `merge = false` (final/ then holds merged weights and the adapters in "
        "final/adapter/), or train the adapters directly on a Hub model")])


def copy_model(src: Path, dst: Path, adapters_only: bool = False) -> None:
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


def _is_current(final: Path, text: str, source: str) -> bool:
    """final/ already holds this plan's model from this source stage folder."""
    marker, record = final / "plan.json", final / "source.json"
    return (marker.is_file() and marker.read_text("utf-8") == text and record.is_file()
            and json.loads(record.read_text("utf-8"))["from"] == source)


class Final:
    """Ships the model of the step step.final needs (DPO, else SFT: see the lowering)."""

    name = "final"

    def preflight(self, plan: TrainingPlan, world_size: int) -> None:
        check_unmerged(plan)

    def execute(self, ctx: RunContext) -> Outcome:
        address = ctx.plan.step("step.final").needs[0]
        trained = upstream(ctx, ctx.step_of[address])
        src = trained.model
        assert src is not None  # step.final needs a trainer step
        final, source = ctx.out / "final", src.parent.name
        stale = ctx.world.broadcast(not _is_current(final, ctx.text, source))
        if stale:
            if ctx.world.is_main:
                self._write(ctx, src, final, address)
            ctx.world.barrier()
        if ctx.world.is_main:
            from ccaic.models.card import write_model_card

            write_model_card(ctx.plan, ctx.out, ctx.base)
        ctx.log(f"final: {final}")
        return Outcome("ran" if stale else "cached", Output(key=trained.key, model=final),
                       "final", {"from": source})

    @staticmethod
    def _write(ctx: RunContext, src: Path, final: Path, address: str) -> None:
        lora = final_lora(ctx.plan)
        copy_model(src, final, adapters_only=lora is not None and not lora.merge)
        write_text_atomic(final / "constitution.json", canonical_json(ctx.plan.constitution))
        write_text_atomic(final / "source.json", checked("final-source", canonical_json(
            {"from": src.parent.name, "step": address})))
        write_text_atomic(final / "plan.json", ctx.text)
