"""The training steps: what `plan.steps` names, in the order the runner walks them.

Each entry is pure data, so `ccaic check`, the lowering, `ccaic build --until`, `ccaic show`
and the report read the step list, the block each step is configured by and that block's
attributes (with their defaults) without importing ccaic.train or torch. `target` names the
step's implementation (a `ccaic.train.steps.base.TrainStep`), imported only by the runner.

meta of each entry:
    addresses   the plan addresses the step covers (`step.<name>...`), in plan.steps order
    block       the plan's sub-block that configures it (None: no block), shared by the steps
                a block switches (sft_data and sft both follow `sft`)
    outputs     the files its stage folder holds once committed (`model` is a folder)
    losses      True for a trainer step: the report plots its training loss
    blocks      nested blocks of its block (`lora`), when this entry declares the block
    training, lora_learning_rate   a trainer step's Training defaults and LoRA learning rate
    stage       the plan.stages field holding its settings, when not named like its block

How it joins the DAG (the lowering builds plan.steps from these alone):
    needs       the addresses its first address needs (each later address needs the one
                before); needs_when: {setting: {value: needs}} overrides them by a setting
    model       the model it starts from, a Step.model value ("policy", "feedback", "sft",
                "final"), or a tuple of those: the first whose step is on ("policy",
                "feedback" and "final" always are)
    ships       it trains a model step.final can ship: final ships the last one that is on
    final       the step that ships (on when any `ships` step is)
    replaces    the steps it takes the place of: their stages are turned off when it is on

A step whose settings are not a plan.stages field of ccaic.plan.model (every built-in's is)
has them lowered from its attributes generically, into plan.stages.<block>, and joins the plan
only when the plan writes its block: registering one changes no existing plan.

Attribute defaults are read from the plan models (ccaic.plan.model), so each is written once.

A new step, settings block included, is its module under ccaic/train/steps/ and one Entry
here (plus docs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from pydantic import BaseModel

from ccaic.plan.model import (
    DpoStage,
    LabelStage,
    Lora,
    PairsStage,
    Sampling,
    SftStage,
    SlCaiStage,
    Stages,
    Training,
)
from ccaic.registry import Entry, Registry
from ccaic.registry.attrs import Attr, BlockSpec


def _defaulted(attrs: Mapping[str, Attr], **defaults: object) -> dict[str, Attr]:
    """attrs with each named attribute's default filled in (the value the plan then holds)."""
    return {name: replace(attr, default=defaults[name]) if name in defaults else attr
            for name, attr in attrs.items()}


def _fields(model: BaseModel) -> dict[str, object]:
    """Every field's value (model_dump would leave out the omitted defaults)."""
    return {name: getattr(model, name) for name in type(model).model_fields}


LORA = BlockSpec(
    doc="LoRA adapters (peft) instead of full fine-tuning.",
    attrs=_defaulted({
        "r": Attr("int", "adapter rank", minimum=1),
        "alpha": Attr("number", "scaling numerator (lora_alpha)", minimum=0,
                      exclusive_minimum=True),
        "dropout": Attr("number", "adapter dropout", minimum=0, maximum=1),
        "target_modules": Attr("list:string", "module names to adapt; default: all linear layers"),
        "enabled": Attr("bool", "train LoRA adapters (default true when the block is present)"),
        "merge": Attr("bool", "final/ holds the weights with the adapters merged in (default "
                      "true); false: the adapters alone, on a Hub base model"),
    }, enabled=True, **_fields(Lora())),
)

TRAINING_ATTRS = {
    "epochs": Attr("number", "passes over the data", minimum=0, exclusive_minimum=True),
    "learning_rate": Attr("number", "peak learning rate", minimum=0, exclusive_minimum=True),
    "batch_size": Attr("int", "per-device batch size", minimum=1),
    "gradient_accumulation": Attr("int", "micro-batches per optimiser step", minimum=1),
    "max_length": Attr("int", "longest tokenized example kept", minimum=8),
    "max_steps": Attr("int", "stop after this many optimiser steps (-1: no limit)", minimum=-1),
    "total_batch_size": Attr("int", "examples per optimiser step over all devices; a multiple "
                             "of batch_size", minimum=1),
    "save_steps": Attr("int", "checkpoint every this many steps (resume)", minimum=1),
    "enabled": Attr("bool", "run this stage (default true)"),
    "precision": Attr("choice", "mixed (default: fp32 master weights, bf16 autocast on CUDA), "
                      "bf16 (pure bf16 weights) or fp32", choices=("mixed", "bf16", "fp32")),
    "lr_scheduler": Attr("choice", "learning-rate schedule (default: the trainer's linear)",
                         choices=("linear", "cosine", "constant", "constant_with_warmup")),
    "warmup_ratio": Attr("number", "share of steps warming the learning rate up (default 0)",
                         minimum=0, maximum=0.5),
    "eval_fraction": Attr("number", "share of rows held out to report eval loss (default 0)",
                          minimum=0, maximum=0.5),
}

GENERATION_ATTRS = {
    "max_new_tokens": Attr("int", "longest generation", minimum=1),
    "temperature": Attr("number", "sampling temperature (0 = greedy)", minimum=0),
    "top_p": Attr("number", "nucleus sampling mass", minimum=0, maximum=1,
                  exclusive_minimum=True),
    "batch_size": Attr("int", "prompts generated together", minimum=1),
}

LORA_SFT_LEARNING_RATE = 1e-4  # TRL PEFT guide: ~10x full fine-tuning; osccai 2e-4
LORA_DPO_LEARNING_RATE = 5e-6  # alignment-handbook's LoRA DPO example
SFT_TRAINING = SftStage().training  # the plan model's defaults, not a second copy
DPO_TRAINING = DpoStage().training


def _training(default: Training, enabled: bool) -> dict[str, Attr]:
    """A trainer block's attributes over its stage's full fine-tuning defaults."""
    values = {k: v for k, v in _fields(default).items() if k != "lora"}
    return _defaulted(TRAINING_ATTRS, enabled=enabled, **values)


def _trainer_meta(default: Training, lora_learning_rate: float) -> dict[str, object]:
    """What the lowering needs beyond the attributes: the Training defaults and LoRA's rate."""
    return {"training": default, "lora_learning_rate": lora_learning_rate, "losses": True,
            "blocks": {"lora": LORA}}


_SL = SlCaiStage()
_SFT = SftStage()
_PAIRS = PairsStage()
_LABEL = LabelStage()
_DPO = DpoStage()
JUDGE_DEFAULT = None  # `enabled` of pairs/label: on when rlaif runs with method "dpo"

STEPS: Registry[object] = Registry("training step", (
    Entry("initial", "ccaic.train.steps.initial:Initial",
          "Initial responses to the prompts.",
          attrs=_defaulted(GENERATION_ATTRS, **_fields(Sampling())),
          meta={"addresses": ("step.initial",), "block": "initial",
                "outputs": ("responses.jsonl",), "needs": (), "model": "policy"}),
    Entry("sl_cai", "ccaic.train.steps.sl_cai:SlCai", "Critique and revision rounds.",
          attrs=_defaulted({
              **GENERATION_ATTRS,
              "rounds": Attr("int", "critique/revision rounds per prompt", minimum=1,
                             maximum=16),
              "fewshot": Attr("path", "few-shot exemplars, JSON or JSONL"),
              "enabled": Attr("bool", "run this stage (default true)"),
              "stop": Attr("list:string", "extra stop strings cut from generations"),
              "all_rounds": Attr("bool", "SFT on every round's revision, not only the last"),
              "drop_truncated": Attr("bool", "drop revisions cut off at max_new_tokens "
                                     "(default true)"),
          }, **_fields(_SL.sampling), rounds=_SL.rounds, enabled=_SL.enabled, stop=_SL.stop,
              all_rounds=_SL.all_rounds, drop_truncated=_SL.drop_truncated),
          meta={"addresses": ("step.sl_cai.critique", "step.sl_cai.revision"),
                "block": "sl_cai", "outputs": ("revisions.jsonl",), "needs": ("step.initial",),
                "model": "policy"}),
    Entry("sft_data", "ccaic.train.steps.sft_data:SftData",
          "Conversational rows for SFT: the kept revisions and the helpful answers.",
          meta={"addresses": ("step.sft_data",), "block": "sft", "outputs": ("sft.jsonl",),
                "needs": ("step.sl_cai.revision",)}),
    Entry("sft", "ccaic.train.steps.sft:Sft", "Supervised fine-tuning on the revisions.",
          attrs=_training(SFT_TRAINING, _SFT.enabled),
          meta={"addresses": ("step.sft",), "block": "sft", "outputs": ("model",),
                "needs": ("step.sft_data",), "model": "policy", "ships": True,
                **_trainer_meta(SFT_TRAINING, LORA_SFT_LEARNING_RATE)}),
    Entry("pairs", "ccaic.train.steps.pairs:Pairs", "Response pairs sampled from the SFT model.",
          attrs=_defaulted({
              **GENERATION_ATTRS,
              "enabled": Attr("bool", "run this stage (default: on when rlaif runs "
                              "with method \"dpo\")"),
              "samples": Attr("int", "responses sampled per prompt (2)", minimum=2, maximum=2),
          }, **_fields(_PAIRS.sampling), enabled=JUDGE_DEFAULT, samples=_PAIRS.samples),
          meta={"addresses": ("step.pairs",), "block": "pairs", "outputs": ("pairs.jsonl",),
                "needs": ("step.sft",), "model": "sft"}),
    Entry("label", "ccaic.train.steps.label:Label",
          "AI preference labels from the feedback model.",
          attrs=_defaulted({
              "chain_of_thought": Attr("bool", "reason before answering; clamp to 40-60%"),
              "clamp": Attr("number", "chain-of-thought clamp around 0.5", minimum=0,
                            maximum=0.5),
              "enabled": Attr("bool", "run this stage (default: on when rlaif runs with "
                              "method \"dpo\")"),
              "batch_size": Attr("int", "comparisons scored together", minimum=1),
              "helpful": Attr("list:string", "comparison principles for pairs from "
                              "helpfulness prompts (default: one standard principle)"),
              "concurrency": Attr("int", "requests in flight to a remote feedback model "
                                  "(default 4)", minimum=1, maximum=256),
          }, chain_of_thought=_LABEL.chain_of_thought, clamp=_LABEL.clamp,
              enabled=JUDGE_DEFAULT, batch_size=_LABEL.batch_size,
              concurrency=_LABEL.concurrency),
          meta={"addresses": ("step.label",), "block": "label",
                "outputs": ("pairs_labelled.jsonl",), "needs": ("step.pairs",),
                "model": "feedback"}),
    Entry("dpo", "ccaic.train.steps.dpo:Dpo", "Preference optimisation on the labelled pairs.",
          attrs=_defaulted({
              **_training(DPO_TRAINING, _DPO.enabled),
              "method": Attr("choice", "dpo on AI labels, or revision_pairs (no judge)",
                             choices=("dpo", "revision_pairs")),
              "beta": Attr("number", "DPO temperature", minimum=0, exclusive_minimum=True),
              "soft_labels": Attr("bool", "train on the labeller's probabilities (default "
                                  "true) instead of hard 0/1 labels"),
              "split": Attr("number", "share of prompts held out of SFT, from which "
                            "preference pairs are drawn (default 0: all prompts)",
                            minimum=0, maximum=1),
              "helpful_fraction": Attr("number", "share of helpfulness pairs in the DPO "
                                       "set (default: as many as there are)",
                                       minimum=0, maximum=1),
          }, method=_DPO.method, beta=_DPO.beta, soft_labels=_DPO.soft_labels, split=_DPO.split),
          meta={"addresses": ("step.dpo",), "block": "rlaif", "stage": "dpo",
                "outputs": ("model", "pairs.jsonl"), "needs": ("step.label",),
                "needs_when": {"method": {"revision_pairs": ("step.sl_cai.revision",)}},
                "model": ("sft", "policy"), "ships": True,
                **_trainer_meta(DPO_TRAINING, LORA_DPO_LEARNING_RATE)}),
    Entry("final", "ccaic.train.steps.final:Final",
          "The last trained model, with plan.json and the constitution, in final/.",
          meta={"addresses": ("step.final",), "block": None, "outputs": (), "final": True,
                "model": "final"}),
))


def _registry(steps: Registry[object] | None) -> Registry[object]:
    """`steps`, else this module's STEPS as it is now (a test may monkeypatch it)."""
    return STEPS if steps is None else steps


def addresses(name: str, steps: Registry[object] | None = None) -> tuple[str, ...]:
    """The plan addresses step `name` covers."""
    found: tuple[str, ...] = _registry(steps).entry(name).meta["addresses"]
    return found


def step_of(steps: Registry[object] | None = None) -> dict[str, str]:
    """plan address -> the name of the step that covers it."""
    reg = _registry(steps)
    return {a: name for name in reg.names() for a in addresses(name, reg)}


def stage_of(entry: Entry) -> str | None:
    """The plan.stages field holding the step's settings: `stage`, else its block's name."""
    stage: str | None = entry.meta.get("stage", entry.meta["block"])
    return stage


def settings_stages(steps: Registry[object] | None = None) -> tuple[str, ...]:
    """The stages of registered steps with no plan model (not a field of Stages): the
    lowering keeps their block's settings as plain objects in plan.stages."""
    stages = (stage_of(entry) for entry in _registry(steps))
    return tuple(dict.fromkeys(s for s in stages
                               if s is not None and s not in Stages.model_fields))


ORDER = STEPS.names()  # the runner's order; `ccaic build --until` accepts each
STEP_ADDRESSES = tuple(a for name in ORDER for a in addresses(name))
STORED_STEPS = tuple(name for name in ORDER if STEPS.entry(name).meta["outputs"])  # stages/
LOSS_STEPS = tuple(name for name in ORDER if STEPS.entry(name).meta.get("losses"))


def step_blocks(steps: Registry[object] | None = None) -> dict[str, BlockSpec]:
    """The plan's step sub-blocks for the checker's schema: each block once, from the entry
    that declares its attributes, in step order."""
    out: dict[str, BlockSpec] = {}
    for entry in _registry(steps):
        block = entry.meta["block"]
        if block is not None and entry.attrs and block not in out:
            out[block] = BlockSpec(doc=entry.doc, attrs=dict(entry.attrs),
                                   blocks=dict(entry.meta.get("blocks", {})))
    return out


def block_of_step(steps: Registry[object] | None = None) -> dict[str, str]:
    """plan address -> the block whose `enabled` turns that step on or off (`ccaic check`
    names it in CCAI503); steps no block switches are left out."""
    reg = _registry(steps)
    blocks = step_blocks(reg)
    out: dict[str, str] = {}
    for entry in reg:
        block = entry.meta["block"]
        if block in blocks and "enabled" in blocks[block].attrs:
            out.update(dict.fromkeys(addresses(entry.name, reg), block))
    return out


def switch_defaults(steps: Registry[object] | None = None) -> tuple[tuple[str, object], ...]:
    """(block, default of its `enabled`) for every block that switches steps, in step order
    (None: decided by the plan, see JUDGE_DEFAULT)."""
    blocks = step_blocks(steps)
    return tuple((block, blocks[block].attrs["enabled"].default)
                 for block in dict.fromkeys(block_of_step(steps).values()))


def trainer_defaults(steps: Registry[object] | None = None) -> dict[str, tuple[Training, float]]:
    """Each trainer block's defaults (full fine-tuning settings, LoRA learning rate): one table
    for the build and for `ccaic check`, so the two cannot drift apart."""
    return {entry.meta["block"]: (entry.meta["training"], entry.meta["lora_learning_rate"])
            for entry in _registry(steps) if "training" in entry.meta}


__all__ = ["GENERATION_ATTRS", "LORA", "LOSS_STEPS", "ORDER", "STEPS", "STEP_ADDRESSES",
           "STORED_STEPS", "TRAINING_ATTRS", "addresses", "block_of_step", "settings_stages",
           "stage_of",
           "step_blocks", "step_of", "switch_defaults", "trainer_defaults"]
