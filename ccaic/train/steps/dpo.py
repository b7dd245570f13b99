"""step.dpo: preference optimisation, on the AI-labelled pairs (method "dpo") or on
(revision, original) pairs (method "revision_pairs"), plus the plan's helpfulness preferences.
It starts from the SFT model when SFT ran, else from the policy model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.plan.model import TrainingPlan
from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep
from ccaic.train.steps.context import Output, Row, RunContext
from ccaic.train.steps.training import check_batches, train


def _data(ctx: RunContext) -> Output | None:
    """The step whose rows become pairs: label (method "dpo") or sl_cai (revision_pairs)."""
    return ctx.output("sl_cai" if ctx.plan.stages.dpo.method == "revision_pairs" else "label")


def _rows(ctx: RunContext) -> list[Row]:
    from ccaic.train.sampling import mix
    from ccaic.train.stages import revision_pair_rows

    data = _data(ctx)
    rows = data.rows if data is not None else []
    if ctx.plan.stages.dpo.method == "revision_pairs":
        rows = revision_pair_rows(ctx.for_pairs(rows))
    return mix(rows + ctx.preferences, ctx.plan.stages.dpo.helpful_fraction, ctx.seed)


class Dpo(StoredStep):
    name = "dpo"
    dataset = "pairs.jsonl"
    model = "model"
    reads_back = False  # the trained model is what later steps use

    def preflight(self, plan: TrainingPlan, world_size: int) -> None:
        check_batches(plan.stages.dpo.training, world_size, "rlaif")

    def key(self, ctx: RunContext) -> dict[str, Any]:
        data, sft = _data(ctx), ctx.output("sft")
        return {"stage": "dpo", "data": data.key if data is not None else None,
                "start": sft.key if sft is not None else ctx.policy.identity, "seed": ctx.seed,
                "settings": ctx.plan.stages.dpo.model_dump(mode="json", exclude={"enabled"}),
                **ctx.preference_pin(), **ctx.world_key}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        rows = _rows(ctx)
        if not rows:
            raise DiagnosticError([error(
                "CCAI512", "there are no preference pairs to train DPO on",
                help="check the pairs/label counts in build.log; with "
                "revision_pairs, every prompt needs a kept revision")])
        sft = ctx.output("sft")
        start = str(sft.model) if sft is not None else ctx.policy.location
        settings = ctx.plan.stages.dpo

        def trainer(work: Path, model: Path) -> dict[str, Any]:
            from ccaic.train.trainers import run_dpo

            return run_dpo(start, rows, settings.training, settings.beta, settings.soft_labels,
                           ctx.seed, work, model, ctx.log, chat_template=ctx.template,
                           revision=None if sft is not None else ctx.policy.revision)

        hub_base = ctx.policy.hub_id if sft is None else None
        return Computed(rows, train(ctx, self.name, stage, trainer, hub_base))
