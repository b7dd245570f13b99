"""A toy training step registered only by tests: proof that a new step plugs into the runner
through a registry entry alone (ccaic.train.runner has no per-step code)."""

from __future__ import annotations

import shutil
from typing import Any

from ccaic.registry import Entry, Registry
from ccaic.registry.steps import STEPS
from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext


class OneStepTrainer(StoredStep):
    """Stands in for ORPO, one step that replaces SFT and DPO: it "trains" by copying the
    policy model into its stage folder, and counts the initial answers it would train on."""

    name = "orpo"
    model = "model"

    def key(self, ctx: RunContext) -> dict[str, Any]:
        return {"stage": "orpo", "initial": upstream(ctx, "initial").key,
                "model": ctx.policy.identity, "seed": ctx.seed}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        shutil.copytree(ctx.policy.location, stage.file("model"))
        return Computed([], {"rows": len(upstream(ctx, "initial").rows)})


TOY_STEPS: Registry[object] = Registry("training step", (
    STEPS.entry("initial"),
    Entry("orpo", "toy_steps:OneStepTrainer", "One-step preference training (toy).",
          meta={"addresses": ("step.orpo",), "block": None, "outputs": ("model",)}),
    STEPS.entry("final"),
))
