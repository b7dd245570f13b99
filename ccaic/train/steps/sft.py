"""step.sft: supervised fine-tuning of the policy model on step.sft_data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccaic.plan.model import TrainingPlan
from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext
from ccaic.train.steps.training import check_batches, train


class Sft(StoredStep):
    name = "sft"
    model = "model"

    def preflight(self, plan: TrainingPlan, world_size: int) -> None:
        check_batches(plan.stages.sft.training, world_size, "sft")

    def key(self, ctx: RunContext) -> dict[str, Any]:
        return {"stage": "sft", "data": upstream(ctx, "sft_data").key,
                "model": ctx.policy.identity, "seed": ctx.seed,
                "training": ctx.plan.stages.sft.training.model_dump(mode="json"),
                **ctx.world_key}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        rows = upstream(ctx, "sft_data").rows

        def trainer(work: Path, model: Path) -> dict[str, Any]:
            from ccaic.train.trainers import run_sft

            return run_sft(ctx.policy.location, rows, ctx.plan.stages.sft.training, ctx.seed,
                           work, model, ctx.log, chat_template=ctx.template,
                           revision=ctx.policy.revision)

        return Computed([], train(ctx, self.name, stage, trainer, ctx.policy.hub_id))
