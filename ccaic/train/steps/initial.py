"""step.initial: the policy model's first answers to every prompt (red-team and helpful)."""

from __future__ import annotations

from typing import Any

from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep
from ccaic.train.steps.context import RunContext


class Initial(StoredStep):
    name = "initial"
    dataset = "responses.jsonl"

    def key(self, ctx: RunContext) -> dict[str, Any]:
        plan = ctx.plan
        return {"stage": "initial", "model": ctx.policy.identity, "seed": ctx.seed, **ctx.gen_key,
                "sampling": plan.stages.initial.sampling.model_dump(mode="json"),
                "prompts": [p.model_dump(mode="json") for p in plan.prompts]}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        from ccaic.train.stages import run_initial

        lm = ctx.models.generator(ctx.policy.location, ctx.policy.revision)
        rows = run_initial(lm, ctx.all_prompts, ctx.plan, stage, ctx.progress)
        return Computed(rows, {"responses": len(rows)})
