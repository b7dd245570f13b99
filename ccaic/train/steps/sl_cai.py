"""step.sl_cai.critique + step.sl_cai.revision: critique and revise the initial red-team
answers, one principle drawn per round (the SL-CAI half of Constitutional AI)."""

from __future__ import annotations

from typing import Any

from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext


class SlCai(StoredStep):
    name = "sl_cai"
    dataset = "revisions.jsonl"

    def key(self, ctx: RunContext) -> dict[str, Any]:
        plan = ctx.plan
        return {"stage": "sl_cai", "initial": upstream(ctx, "initial").key,
                "model": ctx.policy.identity, "seed": ctx.seed, **ctx.gen_key,
                "settings": plan.stages.sl_cai.model_dump(
                    mode="json", exclude={"enabled", "all_rounds"}),
                "constitution": plan.constitution.model_dump(mode="json")}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        from ccaic.train.stages import run_sl_cai

        red = [r for r in upstream(ctx, "initial").rows if r["set"] == "red_team"]
        lm = ctx.models.generator(ctx.policy.location, ctx.policy.revision)
        rows, counts = run_sl_cai(lm, red, ctx.plan, stage, ctx.progress,
                                  ctx.plan.stages.sl_cai.drop_truncated)
        return Computed(rows, counts)
