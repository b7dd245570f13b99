"""Merge suggestions: selected statements that say one thing, grouped, as `merge` blocks.

The CCAI team combined 116 selected statements into 75 principles by hand. `ccaic suggest
merges` groups the selected statements by meaning (ccaic.assembly.duplicates: complete-linkage
clustering, so every two statements in a group are at least `threshold` similar) and prints
each group of two or more as a ready-to-paste `merge` block: the ids, the texts and per-group
agreement as comments, and a drafted combined principle made by the rule-based rewrite of each
statement (the most agreed first). A reviewer edits the text and commits the block; `merge auto`
does the same inside a build. Output is a pure function of the statements and the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ccaic.assembly.duplicates import clusters, resolve_matcher, similarity_matrix
from ccaic.constitution.model import StatementRef
from ccaic.constitution.rewrite import PRINCIPLE_PREFIX, rewrite
from ccaic.lowering.constitution import AutoMergeSpec, MergeSpec

#: Chosen on the CCAI 2023 selection (docs/merges.md): 0.74 is the highest two-place threshold
#: that keeps the paper's own example (2, 150, 575) in one group: 116 statements -> 71 principles.
MERGE_THRESHOLDS = {"embedding": 0.74, "tfidf": 0.3}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "$": "\\$"}


@dataclass(frozen=True)
class MergeGroup:
    """Statements that become one principle: best ranked first."""

    statements: tuple[StatementRef, ...]
    similarity: float  # the least similar pair in the group
    agreement: dict[str, float]  # per opinion group: the lowest share agreeing of its statements
    text: str  # the drafted combined principle
    needs_hand_edit: bool  # a statement's rewrite fell back to quoting it

    @property
    def id(self) -> str:
        return f"m{self.statements[0].id}"


@dataclass(frozen=True)
class Suggestion:
    """Every group, singletons included: len(groups) is the number of principles that result."""

    matcher: str
    threshold: float
    groups: tuple[MergeGroup, ...]

    @property
    def merges(self) -> tuple[MergeGroup, ...]:
        return tuple(g for g in self.groups if len(g.statements) > 1)


def draft_text(statements: Sequence[StatementRef]) -> tuple[str, bool]:
    """One comparison principle from several statements' rewrites, joined as a list."""
    results = [rewrite(s.text) for s in statements]
    tails = list(dict.fromkeys(r.principle_tail for r in results))
    joined = tails[0] if len(tails) == 1 else ", ".join(tails[:-1]) + " and " + tails[-1]
    return f"{PRINCIPLE_PREFIX} {joined}.", any(r.needs_hand_edit for r in results)


def _agreement(statements: Sequence[StatementRef]) -> dict[str, float]:
    names = sorted({g for s in statements for g in s.groups})
    return {g: min(s.groups.get(g, 0.0) for s in statements) for g in names}


def _group(members: Sequence[int], refs: Sequence[StatementRef],
           sim: NDArray[np.float64]) -> MergeGroup:
    chosen = tuple(refs[i] for i in members)
    least = float(sim[np.ix_(members, members)].min())
    text, hand = draft_text(chosen)
    return MergeGroup(chosen, round(least, 6), _agreement(chosen), text, hand)


def suggest(statements: Sequence[StatementRef], threshold: float | None = None,
            matcher: str = "auto") -> Suggestion:
    """Group `statements` (selected, best first) by meaning at `threshold`."""
    kind = resolve_matcher(matcher)
    limit = MERGE_THRESHOLDS[kind] if threshold is None else threshold
    sim = similarity_matrix([s.text for s in statements], kind)
    groups = tuple(_group(members, statements, sim) for members in clusters(sim, limit))
    return Suggestion(kind, limit, groups)


def auto_merges(statements: Sequence[StatementRef], auto: AutoMergeSpec
                ) -> tuple[MergeSpec, ...]:
    """`merge auto`: the groups of two or more as merge specs, located at the block."""
    found = suggest(statements, auto.similarity, auto.matcher)
    reason = f"merge auto: {found.matcher} similarity >= {found.threshold:g}"
    return tuple(MergeSpec(id=g.id, statements=tuple(s.id for s in g.statements), text=g.text,
                           reason=reason, span=auto.span, label_span=auto.span)
                 for g in found.merges)


def ccai_string(text: str) -> str:
    """`text` as a .ccai string literal: escapes for quotes, backslashes, `$` and newlines."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def _id_literal(sid: str) -> str:
    return sid if re.fullmatch(r"0|[1-9][0-9]{0,15}", sid) else ccai_string(sid)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def merge_block(group: MergeGroup, suggestion: Suggestion, indent: str = "  ") -> str:
    """One group as comments and a `merge` block, indented to paste into a constitution."""
    shares = ", ".join(f"{g} {v:.2f}" for g, v in group.agreement.items()) or "none"
    lines = [f"# {len(group.statements)} statements; least similar pair {group.similarity:.3f}; "
             f"agreement by group (lowest): {shares}"]
    width = max(len(s.id) for s in group.statements)
    lines += [f"#   {s.id:<{width}}  {_one_line(s.text)}" for s in group.statements]
    if group.needs_hand_edit:
        lines.append("# needs a hand edit: a statement's rewrite fell back to quoting it")
    ids = ", ".join(_id_literal(s.id) for s in group.statements)
    reason = (f"similar statements ({suggestion.matcher} similarity >= "
              f"{suggestion.threshold:g}); text drafted by ccaic suggest merges")
    lines += [f'merge "{group.id}" {{', f"  statements = [{ids}]",
              f"  text       = {ccai_string(group.text)}",
              f"  reason     = {ccai_string(reason)}", "}"]
    return "\n".join(indent + line if line else line for line in lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_suggestion(assembly: str, suggestion: Suggestion) -> str:
    """What `ccaic suggest merges` prints for one assembly."""
    n = sum(len(g.statements) for g in suggestion.groups)
    merges = suggestion.merges
    head = [f"# assembly {assembly}: {_count(n, 'selected statement')} -> "
            f"{_count(len(suggestion.groups), 'principle')} ({_count(len(merges), 'merge')}, "
            f"{suggestion.matcher} similarity >= {suggestion.threshold:g}; every two "
            "statements in a group are at least this similar)",
            "# Paste the blocks into the constitution and edit each text before committing."
            if merges else "# No two statements are that similar: nothing to merge (a lower "
            "--threshold groups more)."]
    return "\n\n".join(["\n".join(head), *(merge_block(g, suggestion) for g in merges)]) + "\n"
