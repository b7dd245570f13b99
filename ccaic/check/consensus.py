"""The `consensus` block against the score registry, from its attributes alone (no data).

A `threshold`'s range is the selecting method's (`bounds` in ccaic.registry.scores: GAC is a
probability, a bridging intercept is not). Options that would do nothing are CCAI217
warnings, as elsewhere in `ccaic check`: an attribute a method's `unless` names, given
beside the attribute that decides instead (`smoothing` beside `prior`), an attribute that acts
only when its method selects (`max_factor`) in a block that selects by another method, and a
`scores` name that repeats or names the selecting method. A method attribute that no
computed method takes at all, or an unknown `scores` name, is the error CCAI458: here for a
literal `scores`, at lowering for one a variable gives (`method_problems` serves both).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from ccaic.diagnostics import Diagnostic, error, warning
from ccaic.registry.attrs import Attr
from ccaic.registry.scores import ALWAYS, SCORES
from ccaic.syntax import ast


def method_attr(block: ast.Block, name: str, attr: Attr) -> Attr:
    """`attr` as it applies in `block`: a consensus block's `threshold` takes the bounds of
    the method that selects; every other attribute is `attr` itself."""
    kind = block.labels[0].value if block.labels else ""
    if block.type.name != "consensus" or name != "threshold" or kind not in SCORES:
        return attr
    low, high = SCORES.entry(kind).meta["bounds"]
    return replace(attr, minimum=low, maximum=high)


#: The consensus block's own attributes; the others are the methods' (ConsensusSpec.options).
CONSENSUS_OWN = ("threshold", "top_k", "scores")


def consensus_diagnostics(block: ast.Block, attrs: dict[str, ast.Attribute]
                          ) -> list[Diagnostic]:
    """CCAI458 when `scores` is literal (or absent), and CCAI217 for each option that changes
    nothing (see the module docstring)."""
    kind = block.labels[0].value
    if kind not in SCORES:
        return []  # CCAI215 already
    listed = _listed(attrs.get("scores"))
    constant = [i for i in listed or () if i.is_constant]
    known = listed is not None and len(constant) == len(listed)
    errors = method_problems(kind, [i.constant for i in constant], attrs) if known else []
    return errors or [*_overridden(attrs), *_selects_only(kind, attrs, constant),
                      *_redundant_scores(kind, constant)]


def method_problems(kind: str, scores: Sequence[str], attrs: dict[str, ast.Attribute]
                    ) -> list[Diagnostic]:
    """CCAI458: a `scores` name no method is registered under, or a method attribute that
    none of the computed methods takes (it would change nothing)."""
    names = SCORES.names()
    out = [error("CCAI458", f"consensus: no method is named {name!r}", attrs["scores"].span,
                 help=_method_hint(name, names))
           for name in scores if name not in names]
    computed = {kind, *ALWAYS, *(n for n in scores if n in names)}
    taken = {a for n in computed for a in SCORES.entry(n).attrs}
    for name in attrs:
        owners = [e.name for e in SCORES if name in e.attrs]
        if name not in CONSENSUS_OWN and name not in taken and owners:
            out.append(error(
                "CCAI458", f"consensus {kind}: `{name}` is an attribute of "
                f"{', '.join(owners)}, which this block does not compute", attrs[name].span,
                help=f"remove it, or add the method to `scores`, e.g. scores = "
                f"[\"{owners[0]}\"]"))
    return out


def _method_hint(name: str, names: Sequence[str]) -> str:
    """The registered method `name` is closest to, as an unknown attribute's hint does; the
    list of methods when none is close."""
    from ccaic.check.checker import did_you_mean  # checker imports this module

    guess = did_you_mean(name, names)
    return f"did you mean `{guess}`?" if guess else f"use one of {', '.join(names)}"


def _listed(attr: ast.Attribute | None) -> list[ast.StringLit] | None:
    """The items of a literal `scores` list, [] when absent; None for any other value (a
    variable: its names are known at build)."""
    if attr is None:
        return []
    if not isinstance(attr.value, ast.ListLit):
        return None
    items = [i for i in attr.value.items if isinstance(i, ast.StringLit)]
    return items if len(items) == len(attr.value.items) else None


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
