"""step.label: the feedback model's preference between each pair, in both A/B orders."""

from __future__ import annotations

from typing import Any

from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext


class Label(StoredStep):
    name = "label"
    dataset = "pairs_labelled.jsonl"

    def key(self, ctx: RunContext) -> dict[str, Any]:
        from ccaic.models.identity import model_identity

        plan = ctx.plan
        return {"stage": "label", "pairs": upstream(ctx, "pairs").key, "seed": ctx.seed,
                "feedback": model_identity(plan.feedback, ctx.base, ctx.seed),
                "settings": plan.stages.label.model_dump(mode="json", exclude={"enabled"}),
                "constitution": plan.constitution.model_dump(mode="json")}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        from ccaic.train.stages import run_label

        rows, counts = run_label(self._judge(ctx), upstream(ctx, "pairs").rows, ctx.plan, stage,
                                 ctx.progress)
        return Computed(rows, counts)

    @staticmethod
    def _judge(ctx: RunContext) -> Any:
        """The feedback model: a remote endpoint, or loaded like the policy."""
        feedback = ctx.plan.feedback
        if feedback.kind == "openai":
            from ccaic.models.remote import RemoteLM

            return RemoteLM(feedback, concurrency=ctx.plan.stages.label.concurrency)
        from ccaic.models.load import model_location, model_revision

        return ctx.models.get(model_location(feedback, str(ctx.base), ctx.seed),
                              revision=model_revision(feedback))
