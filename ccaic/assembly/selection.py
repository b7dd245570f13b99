"""Selecting statements: threshold and/or top-k on any score, with a reason for every statement.

Ties are broken deterministically: higher score first, then more votes seen, then natural id
order (numbers numerically, then text). NaN scores never qualify.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ccaic.assembly.votes import natural_key


@dataclass(frozen=True)
class SelectionRule:
    """`threshold`: keep score >= threshold (or > when strict); `top_k`: at most k best."""

    threshold: float | None = None
    top_k: int | None = None
    strict: bool = False


@dataclass(frozen=True)
class Selection:
    ids: list[str]
    order: list[int]  # ranking (indices), best first
    selected: np.ndarray  # bool per statement
    reasons: list[str]

    @property
    def selected_ids(self) -> list[str]:
        return [self.ids[i] for i in self.order if self.selected[i]]


def rank(ids: Sequence[str], score: np.ndarray, seen: np.ndarray | None = None) -> list[int]:
    """Indices best first: score desc, seen desc, natural id."""
    sc = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=-np.inf)
    sn = np.zeros(len(ids)) if seen is None else np.asarray(seen, dtype=np.float64)
    return sorted(range(len(ids)), key=lambda i: (-sc[i], -sn[i], natural_key(ids[i])))


def select(ids: Sequence[str], score: np.ndarray, rule: SelectionRule,
           moderated_out: np.ndarray | None = None, seen: np.ndarray | None = None,
           barred: np.ndarray | None = None, barred_reason: str = "barred by its method"
           ) -> Selection:
    """`barred`: statements the scoring method's own rule keeps out (bridging's max_factor),
    ranked as their score says but never selected."""
    score = np.asarray(score, dtype=np.float64)
    bar = np.zeros(len(ids), bool) if barred is None else np.asarray(barred, bool)
    out = np.zeros(len(ids), bool) if moderated_out is None else np.asarray(moderated_out, bool)
    order = rank(ids, score, seen)
    selected = np.zeros(len(ids), dtype=bool)
    reasons = [""] * len(ids)
    taken = 0
    for i in order:
        if out[i]:
            reasons[i] = "moderated out"
        elif np.isnan(score[i]):
            reasons[i] = "no score"
        elif bar[i]:
            reasons[i] = barred_reason
        elif rule.threshold is not None and (
                score[i] <= rule.threshold if rule.strict else score[i] < rule.threshold):
            reasons[i] = f"below threshold {rule.threshold:g}"
        elif rule.top_k is not None and taken >= rule.top_k:
            reasons[i] = f"beyond top {rule.top_k}"
        else:
            selected[i] = True
            taken += 1
            reasons[i] = "selected"
    return Selection(list(ids), order, selected, reasons)
