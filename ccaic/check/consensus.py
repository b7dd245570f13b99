"""The `consensus` block against the score registry, from its attributes alone (no data).

A `threshold`'s range is the selecting method's (`bounds` in ccaic.registry.scores: GAC is a
probability, a bridging intercept is not). Options that would do nothing are CCAI217
warnings, as elsewhere in `ccaic check`: an attribute a method's `unless` names, given
beside the attribute that decides instead (`smoothing` beside `prior`), an attribute that acts
only when its method selects (`max_factor`) in a block that selects by another method, and a
`scores` name that repeats or names the selecting method. A method attribute that no
computed method takes at all is CCAI458 at build (ccaic.lowering.lower_assembly), where a
variable's `scores` is known.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ccaic.diagnostics import Diagnostic, warning
from ccaic.registry.attrs import Attr
from ccaic.registry.scores import SCORES
from ccaic.syntax import ast


def method_attr(block: ast.Block, name: str, attr: Attr) -> Attr:
    """`attr` as it applies in `block`: a consensus block's `threshold` takes the bounds of
    the method that selects; every other attribute is `attr` itself."""
    kind = block.labels[0].value if block.labels else ""
    if block.type.name != "consensus" or name != "threshold" or kind not in SCORES:
        return attr
    low, high = SCORES.entry(kind).meta["bounds"]
    return replace(attr, minimum=low, maximum=high)


def consensus_warnings(block: ast.Block, attrs: dict[str, ast.Attribute]) -> list[Diagnostic]:
    """CCAI217 for each consensus option that changes nothing (see the module docstring)."""
    kind = block.labels[0].value
    if kind not in SCORES:
        return []  # CCAI215 already
    listed = _listed(attrs.get("scores"))
    return [*_overridden(attrs), *_selects_only(kind, attrs, listed),
            *_redundant_scores(kind, listed)]


def _listed(attr: ast.Attribute | None) -> list[ast.StringLit]:
    """The constant names of a literal `scores` list (none for a variable: known at build)."""
    items = attr.value.items if attr is not None and isinstance(attr.value, ast.ListLit) else ()
    return [i for i in items if isinstance(i, ast.StringLit) and i.is_constant]


def _overridden(attrs: dict[str, ast.Attribute]) -> Iterator[Diagnostic]:
    pairs = {(winner, loser) for entry in SCORES
             for loser, winner in entry.meta.get("unless", {}).items()
             if winner in attrs and loser in attrs}
    for winner, loser in sorted(pairs, key=lambda p: attrs[p[1]].span.offset):
        yield warning(
            "CCAI217", f"`{loser}` is ignored: `{winner}` is given, and it decides",
            attrs[loser].name.span,
            help=f"remove `{loser}`: `{winner}` replaces it ({_doc(loser)})")


def _selects_only(kind: str, attrs: dict[str, ast.Attribute], listed: list[ast.StringLit]
                  ) -> Iterator[Diagnostic]:
    """A listed method's selection-only attribute: that method scores, but does not select."""
    names = {item.constant for item in listed}
    for entry in SCORES:
        if entry.name == kind or entry.name not in names:
            continue  # the selecting method's own; or not computed: CCAI458 at build
        for name in entry.meta.get("selects_only", ()):
            if name in attrs:
                yield warning(
                    "CCAI217", f"`{name}` is ignored: this block selects by {kind}, and "
                    f"`{name}` acts only on {entry.name}'s own selection",
                    attrs[name].name.span,
                    help=f"remove it, or select by {entry.name}: "
                    f"`consensus {entry.name} {{ ... }}`")


def _redundant_scores(kind: str, listed: list[ast.StringLit]) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for item in listed:
        if item.constant == kind:
            yield warning("CCAI217", f"`scores` lists \"{kind}\", the method that selects",
                          item.span, help=f"remove it: the block's own method ({kind}) is "
                          "always computed and reported")
        elif item.constant in seen:
            yield warning("CCAI217", f"`scores` lists \"{item.constant}\" twice", item.span,
                          help="remove the second one")
        seen.add(item.constant)


def _doc(name: str) -> str:
    return next(e.attrs[name].doc for e in SCORES if name in e.attrs)
