"""Statement scores: `consensus <name> { ... }`. Each entry's attrs are the consensus block's
attributes that method takes (with their defaults); the block's own attributes (threshold,
top_k, scores) are in ccaic.check.schema. An attribute two methods share (gac and
gac_disagree) is declared once and means the same in both.

`meta`: `title` (figure titles and axes), `range` (the span of the axes and the threshold
curve), `bounds` (the values a `threshold` may take, None for an unbounded end: GAC is a
probability, a bridging intercept is not), `extras` (what the method reports beside its score,
written `<name>_<extra>`), `unless` ({name: other}: `name` does nothing beside `other`, which
decides, so `ccaic check` warns, CCAI217; as the groupings' and sources' entries say it),
`selects_only` (attributes that act only when this method selects, e.g. bridging's
`max_factor`; given to a block that selects by another method they do nothing, CCAI217).
"""

from __future__ import annotations

from typing import Any

from ccaic.registry import Attr, Entry, Registry

GAC_ATTRS = {
    "smoothing": Attr("choice", "per-group agreement estimate: polis (A+1)/(S+2) or none A/S "
                      "(the same as prior laplace / none)", choices=("polis", "none"),
                      default="polis"),
    "prior": Attr("choice", "pseudo-counts per group: laplace 1, jeffreys 0.5, none 0 "
                  "(default: from smoothing)", choices=("laplace", "jeffreys", "none")),
    "agreement": Attr("choice", "agree: P(agree); effective: P(agree) * (1 - P(disagree))",
                      choices=("agree", "effective"), default="agree"),
    "combine": Attr("choice", "product over groups, or its k-th root (geometric)",
                    choices=("product", "geometric"), default="product"),
}

BRIDGING_ATTRS = {
    "factors": Attr("int", "bridging: latent factors (default 1)", minimum=1, maximum=10,
                    default=1),
    "lambda_i": Attr("number", "bridging: L2 weight on the mean square of each intercept "
                     "vector and on mu^2 (default 0.15)", minimum=0, default=0.15),
    "lambda_f": Attr("number", "bridging: L2 weight on the mean square of each factor matrix "
                     "(default 0.03)", minimum=0, default=0.03),
    "pass": Attr("choice_or_number", "bridging: passes left out (\"exclude\"), or fitted as "
                 "this rating between disagree 0 and agree 1 (0.5: halfway)",
                 choices=("exclude",), minimum=0, maximum=1, default="exclude"),
    "max_factor": Attr("number", "bridging: select only statements with |factor| below this "
                       "(Community Notes: 0.5)", minimum=0, exclusive_minimum=True),
}

#: What the GAC pair shares beside its title: a probability, and `prior` wins over `smoothing`.
GAC_META: dict[str, Any] = {"range": (0.0, 1.0), "bounds": (0.0, 1.0), "extras": (),
                            "unless": {"smoothing": "prior"}}

#: Targets are ccaic.assembly.scores.ScoreMethod objects (not imported here: check stays pure).
SCORES: Registry[Any] = Registry("score", (
    Entry("gac", "ccaic.assembly.scores.gac:GAC",
          "group-aware consensus: the product over groups of each group's agreement",
          GAC_ATTRS, {"title": "group-aware consensus", **GAC_META}),
    Entry("gac_disagree", "ccaic.assembly.scores.gac_disagree:GAC_DISAGREE",
          "group-aware consensus of disagreement", GAC_ATTRS,
          {"title": "group-aware consensus (disagree)", **GAC_META}),
    Entry("bridging", "ccaic.assembly.scores.bridging:BRIDGING",
          "Community Notes' bridging: the statement intercept of a matrix factorization",
          BRIDGING_ATTRS, {"title": "bridging intercept", "range": (-1.0, 1.0),
                           "bounds": (None, None), "extras": ("factor",),
                           "selects_only": ("max_factor",)}),
))

#: Computed in every build beside the selecting method: the artifact has always carried both.
ALWAYS = ("gac", "gac_disagree")


def block_attrs() -> dict[str, Attr]:
    """Every method's attributes, for the consensus block of the schema."""
    return {name: attr for entry in SCORES for name, attr in entry.attrs.items()}
