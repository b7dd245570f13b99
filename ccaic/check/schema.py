"""What each block of the language means: its labels, attributes, nested blocks and rules.

The checker walks the generic AST against these specs, so adding an attribute to the language
is one line here (and one line in docs/language.md, which a test keeps in step).
"""

from __future__ import annotations

from ccaic.registry.attrs import Attr, BlockSpec
from ccaic.registry.evaluations import EVALUATIONS
from ccaic.registry.groupings import GROUPINGS
from ccaic.registry.scores import SCORES
from ccaic.registry.scores import block_attrs as score_attrs
from ccaic.registry.sources import SOURCES, language_names

__all__ = ["Attr", "BlockSpec"]

SOURCE_KINDS = language_names()
GROUP_KINDS = GROUPINGS.names()
CONSENSUS_KINDS = SCORES.names()

LORA = BlockSpec(
    doc="LoRA adapters (peft) instead of full fine-tuning.",
    attrs={
        "r": Attr("int", "adapter rank", minimum=1),
        "alpha": Attr("number", "scaling numerator (lora_alpha)", minimum=0,
                      exclusive_minimum=True),
        "dropout": Attr("number", "adapter dropout", minimum=0, maximum=1),
        "target_modules": Attr("list:string", "module names to adapt; default: all linear layers"),
        "enabled": Attr("bool", "train LoRA adapters (default true when the block is present)"),
        "merge": Attr("bool", "final/ holds the weights with the adapters merged in (default "
                      "true); false: the adapters alone, on a Hub base model"),
    },
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

SCHEMA: dict[str, BlockSpec] = {
    "variable": BlockSpec(
        doc="An input to the build, given with --var name=value or its default.",
        labels=("name",), named=True, repeatable=True,
        attrs={
            "type": Attr("type_name", "string, number, bool, path or list",
                         choices=("string", "number", "bool", "path", "list")),
            "default": Attr("any", "value used when --var does not set it"),
            "description": Attr("string", "what the variable is for"),
        },
    ),
    "assembly": BlockSpec(
        doc="A public-input assembly: where the votes come from, how they are cleaned, grouped "
        "and turned into ranked statements.",
        labels=("name",), named=True, repeatable=True,
        attrs={
            "description": Attr("string", "what the assembly was"),
        },
        blocks={
            "source": BlockSpec(
                doc="Where statements and votes come from.",
                labels=("kind",), label_choices=SOURCE_KINDS, attrs=SOURCES.block_attrs(),
            ),
            "moderation": BlockSpec(
                doc="Rules that keep or drop statements and participants before analysis.",
                rules=("statements", "participants"),
            ),
            "groups": BlockSpec(
                doc="How participants are clustered into opinion groups.",
                labels=("kind",), label_choices=GROUP_KINDS, attrs=GROUPINGS.block_attrs(),
            ),
            "consensus": BlockSpec(
                doc="How statements are scored and selected.",
                labels=("kind",), label_choices=CONSENSUS_KINDS,
                attrs={
                    "threshold": Attr("number", "select statements scoring at least this",
                                      minimum=0, maximum=1),
                    "top_k": Attr("int", "select at most this many statements", minimum=1),
                    "scores": Attr("list:string", "further methods to compute and report "
                                   'beside the selecting one, e.g. ["bridging"]'),
                    **score_attrs(),
                },
            ),
            "stability": BlockSpec(
                doc="How robust the selection is to resampling participants and to the grouping.",
                attrs={
                    "bootstrap": Attr("int", "number of bootstrap resamples", minimum=0),
                    "seed": Attr("int", "random seed", minimum=0),
                    "groupings": Attr("list:string",
                                      "alternative groupings to compare, e.g. "
                                      '["export", "kmeans:3"]'),
                },
            ),
        },
    ),
    "constitution": BlockSpec(
        doc="A constitution: principles rendered from an assembly's selected statements, "
        "or written by hand.",
        labels=("name",), named=True, repeatable=True,
        attrs={
            "from": Attr("ref:assembly",
                         "the assembly whose selected statements become principles"),
            "extends": Attr("ref:constitution", "start from another constitution's principles"),
            "description": Attr("string", "what this constitution is"),
            "template": Attr("template", "principle text for each selected statement",
                             template_context="statement"),
            "critique": Attr("template", "critique request for each principle",
                             template_context="principle"),
            "revision": Attr("template", "revision request for each principle",
                             template_context="principle"),
        },
        rules=("statements",),
        blocks={
            "principle": BlockSpec(
                doc="A hand-written principle.",
                labels=("id",), named=True, repeatable=True,
                attrs={
                    "text": Attr("string", "the principle, e.g. \"Choose the response that ...\"",
                                 required=True),
                    "critique": Attr("string", "critique request (default derived from text)"),
                    "revision": Attr("string", "revision request (default derived from text)"),
                    "weight": Attr("number", "relative chance of being drawn", minimum=0,
                                   exclusive_minimum=True),
                    "tags": Attr("list:string", "themes, for reports and diffs"),
                },
            ),
            "edit": BlockSpec(
                doc="Override the principle rendered from one statement.",
                labels=("statement",), repeatable=True,
                attrs={
                    "text": Attr("string", "the new principle text", required=True),
                    "reason": Attr("string", "why the edit was made"),
                },
            ),
            "merge": BlockSpec(
                doc="Merge several statements into one principle.",
                labels=("id",), named=True, repeatable=True,
                attrs={
                    "statements": Attr("list:any", "statement ids merged", required=True),
                    "text": Attr("string", "the merged principle text", required=True),
                    "reason": Attr("string", "why they were merged"),
                },
            ),
        },
    ),
    "plan": BlockSpec(
        doc="How a model is trained on a constitution, and evaluated.",
        labels=("name",), named=True, repeatable=True,
        attrs={
            "constitution": Attr("ref:constitution", "the constitution to train on", required=True),
            "model": Attr("string",
                          "policy model: builtin:tiny, a Hugging Face id or a local path"),
            "feedback_model": Attr("string", "model that labels preferences (default: model)"),
            "prompts": Attr("path", "red-team prompts, JSONL"),
            "helpful_prompts": Attr("path", "helpfulness prompts, JSONL"),
            "helpful_preferences": Attr("path", "helpfulness preference pairs for DPO, JSONL "
                                        "with prompt, chosen, rejected"),
            "chat_template": Attr("path", 'chat template for the policy model: "chatml", '
                                  '"zephyr" or a Jinja file (default: the model\'s own)'),
            "seed": Attr("int", "seed for every random choice", minimum=0),
        },
        blocks={
            "initial": BlockSpec(doc="Initial responses to the prompts.",
                                 attrs=dict(GENERATION_ATTRS)),
            "sl_cai": BlockSpec(
                doc="Critique and revision rounds.",
                attrs={
                    **GENERATION_ATTRS,
                    "rounds": Attr("int", "critique/revision rounds per prompt", minimum=1,
                                   maximum=16),
                    "fewshot": Attr("path", "few-shot exemplars, JSON or JSONL"),
                    "enabled": Attr("bool", "run this stage (default true)"),
                    "stop": Attr("list:string", "extra stop strings cut from generations"),
                    "all_rounds": Attr("bool", "SFT on every round's revision, not only the last"),
                    "drop_truncated": Attr("bool", "drop revisions cut off at max_new_tokens "
                                           "(default true)"),
                },
            ),
            "sft": BlockSpec(doc="Supervised fine-tuning on the revisions.",
                             attrs=dict(TRAINING_ATTRS), blocks={"lora": LORA}),
            "pairs": BlockSpec(
                doc="Response pairs sampled from the SFT model.",
                attrs={**GENERATION_ATTRS,
                       "enabled": Attr("bool", "run this stage (default: on when rlaif runs "
                                       "with method \"dpo\")"),
                       "samples": Attr("int", "responses sampled per prompt (2)", minimum=2,
                                       maximum=2)},
            ),
            "label": BlockSpec(
                doc="AI preference labels from the feedback model.",
                attrs={
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
                },
            ),
            "rlaif": BlockSpec(
                doc="Preference optimisation on the labelled pairs.",
                attrs={
                    **TRAINING_ATTRS,
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
                },
                blocks={"lora": LORA},
            ),
            "evaluate": BlockSpec(
                doc="Evaluations run on the trained model.",
                attrs=EVALUATIONS.block_attrs(),
            ),
        },
    ),
}

# Fields a moderation rule's `where` may test, per subject, with their types.
RULE_FIELDS: dict[str, dict[str, str]] = {
    "statements": {
        "id": "any", "text": "string", "author": "any", "moderated": "number",
        "meta": "bool", "agrees": "number", "disagrees": "number", "passes": "number",
        "votes": "number", "duplicate_of": "any",  # ccaic.assembly.duplicates
    },
    "participants": {
        "id": "any", "votes": "number", "agrees": "number", "disagrees": "number",
        "passes": "number", "group": "any",
    },
}

FUNCTIONS = {
    "file": "file(path): a file read at build time (an id list: one id per line or CSV's first "
    "column)",
}

# What a template sees, per context (attribute access beyond these is an error).
TEMPLATE_CONTEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "statement": {
        "statement": ("id", "text", "author", "gac", "gac_disagree", "agrees", "disagrees",
                      "passes", "votes", "groups", "rank", "score", "scores", "polarization",
                      "adjusted_polarization"),
        "assembly": ("name", "participants", "statements", "groups", "threshold", "selected"),
        "constitution": ("name",),
    },
    "principle": {
        "principle": ("id", "text", "weight", "tags", "statements"),
        "constitution": ("name",),
    },
}
