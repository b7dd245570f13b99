"""step.pairs: two samples per prompt from the SFT model (only the held-out prompts when
rlaif.split holds some out of SFT)."""

from __future__ import annotations

from typing import Any

from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext


class Pairs(StoredStep):
    name = "pairs"
    dataset = "pairs.jsonl"

    def key(self, ctx: RunContext) -> dict[str, Any]:
        plan = ctx.plan
        return {"stage": "pairs", "sft": upstream(ctx, "sft").key, "seed": ctx.seed,
                **ctx.gen_key,
                "settings": plan.stages.pairs.model_dump(mode="json", exclude={"enabled"}),
                "prompts": [p.model_dump(mode="json") for p in plan.prompts], **ctx.split_key}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        from ccaic.train.stages import run_pairs

        model = upstream(ctx, "sft").model
        assert model is not None
        prompts = ctx.for_pairs(ctx.all_prompts)
        rows, counts = run_pairs(ctx.models.generator(str(model)), prompts, ctx.plan, stage,
                                 ctx.progress)
        return Computed(rows, counts)
