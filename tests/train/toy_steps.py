"""Toy training steps registered only by tests: proof that a new step, settings block included,
plugs into `ccaic check`, the lowering, plan.json and the runner through its module and one
registry entry alone (this file stands for both; nothing else names it).

`toy` trains from the policy after the initial answers, with its own block (`toy { rounds }`);
`orpo` stands in for ORPO, one step that takes the place of SFT and DPO."""

from __future__ import annotations

import shutil
from typing import Any

from ccaic.registry import Entry, Registry
from ccaic.registry.attrs import Attr
from ccaic.registry.steps import STEPS
from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext


class _CopyTrainer(StoredStep):
    """"Trains" by copying the policy model into its stage folder; its key holds its settings
    (plan.stages.<name>) and the key of the step it reads."""

    model = "model"
    reads: str  # the step whose output it counts

    def key(self, ctx: RunContext) -> dict[str, Any]:
        return {"stage": self.name, "data": upstream(ctx, self.reads).key,
                "settings": ctx.plan.stages.settings(self.name),
                "model": ctx.policy.identity, "seed": ctx.seed}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        shutil.copytree(ctx.policy.location, stage.file("model"))
        return Computed([], {"rows": len(upstream(ctx, self.reads).rows)})


class ToyTrainer(_CopyTrainer):
    name = "toy"
    reads = "initial"

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        done = super().compute(ctx, stage)
        return Computed(done.rows, {**done.counts,
                                    "rounds": ctx.plan.stages.settings("toy")["rounds"]})


class OneStepTrainer(_CopyTrainer):
    name = "orpo"
    reads = "sl_cai"


TOY = Entry("toy", "toy_steps:ToyTrainer", "A toy trainer with its own settings block.",
            attrs={"rounds": Attr("int", "toy rounds", minimum=1, default=1),
                   "enabled": Attr("bool", "run this step (default true)", default=True)},
            meta={"addresses": ("step.toy",), "block": "toy", "outputs": ("model",),
                  "needs": ("step.initial",), "model": "policy", "ships": True})

ORPO = Entry("orpo", "toy_steps:OneStepTrainer", "One-step preference training (toy ORPO).",
             attrs={"beta": Attr("number", "odds-ratio weight", minimum=0,
                                 exclusive_minimum=True, default=0.1),
                    "enabled": Attr("bool", "run this step (default true)", default=True)},
             meta={"addresses": ("step.orpo",), "block": "orpo", "outputs": ("model",),
                   "needs": ("step.sl_cai.revision",), "model": "policy", "ships": True,
                   "replaces": ("sft_data", "sft", "pairs", "label", "dpo")})


def with_steps(*added: Entry) -> Registry[object]:
    """The built-in registry with `added` just before step.final (the order the runner walks)."""
    built_in = [STEPS.entry(name) for name in STEPS.names()]
    return Registry("training step", (*built_in[:-1], *added, built_in[-1]))
