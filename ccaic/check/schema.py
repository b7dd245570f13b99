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
from ccaic.registry.steps import step_blocks

__all__ = ["Attr", "BlockSpec"]

SOURCE_KINDS = language_names()
GROUP_KINDS = GROUPINGS.names()
CONSENSUS_KINDS = SCORES.names()

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
                attrs={
                    "duplicate_similarity": Attr(
                        "number", "how similar two statements must be for `duplicate_of` to "
                        "name one as the other's repeat (default: 0.9 with sentence "
                        "embeddings, 0.7 with TF-IDF)", minimum=0, maximum=1),
                },
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
            "draft": BlockSpec(
                doc="Draft principles with a model, checked against their statements "
                "(ccaic suggest drafts; the build reads principles.lock.json).",
                attrs={
                    "model": Attr("string", "the drafting model: builtin:tiny, a Hub id, a "
                                  "folder, openai:<model>@<url>, or feedback (the feedback "
                                  "model of the plan that trains this constitution)",
                                  required=True),
                    "judge": Attr("string", "a model that checks each draft says what its "
                                  "statements say, and nothing more"),
                    "similarity": Attr("number", "least similarity of a draft to each of its "
                                       "statements (default 0.5)", minimum=0, maximum=1,
                                       default=0.5),
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
            **step_blocks(),  # one per training step block (ccaic.registry.steps)
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

# `merge auto { similarity = S }` (a bare `auto` label) inside a constitution: the build groups
# the selected statements by meaning itself (ccaic.constitution.merges), instead of hand-written
# `merge "id" { statements = [...] text = "..." }` blocks.
MERGE_AUTO = BlockSpec(
    doc="Merge similar selected statements automatically.",
    labels=("auto",),
    attrs={
        "similarity": Attr("number", "least similarity of any two statements merged (default: "
                           "the matcher's, docs/merges.md)", minimum=0, maximum=1),
        "matcher": Attr("choice", "embedding, tfidf, or auto (embeddings when installed)",
                        choices=("auto", "embedding", "tfidf"), default="auto"),
    },
)
