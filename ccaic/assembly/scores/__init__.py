"""Statement scores (consensus methods): one module per method, registered by name.

A score is a function `score(inputs, **options) -> Scored`: `inputs` are the moderated vote
table, its grouping and, under the bootstrap, a weight per participant; `options` are the
consensus block's attributes the method declares in ccaic.registry.scores (their defaults
filled in there). Selection, stability, templates, reports and analyze read scores by name
only, so a new method is its module plus one registry entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from ccaic.assembly.groups import Grouping
from ccaic.assembly.votes import VoteTable
from ccaic.registry.scores import SCORES

__all__ = ["ScoreInputs", "ScoreMethod", "Scored", "compute", "group_counts",
           "method_options"]


def group_counts(table: VoteTable, grouping: Grouping, weights: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, D, P) per group and statement, shape (k, C), from the latest votes of group members;
    `weights` counts each participant that many times (a bootstrap resample), else once."""
    if weights is None:
        g = grouping.indicator().T.tocsr()
    else:
        rows = np.flatnonzero(grouping.labels >= 0)
        g = sp.csr_matrix((weights[rows], (grouping.labels[rows], rows)),
                          shape=(grouping.k, table.shape[0]))
    a, d, p = (np.asarray((g @ m).toarray()).reshape(grouping.k, -1)
               for m in (table.agree(), table.disagree(), table.passed()))
    if weights is None:
        return a.astype(np.int64), d.astype(np.int64), p.astype(np.int64)
    return a, d, p


@dataclass(frozen=True)
class ScoreInputs:
    """What every score may read. Derived counts are computed once, on first use."""

    table: VoteTable
    grouping: Grouping
    weights: np.ndarray | None = None  # per participant (bootstrap multiplicity); None: all 1
    moderated_out: np.ndarray | None = None  # per statement: scored, but not evidence to a
    #                                          method that fits every vote at once (bridging)

    @cached_property
    def group_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return group_counts(self.table, self.grouping, self.weights)


@dataclass(frozen=True)
class Scored:
    """A method's score per statement (NaN: no score), what it reports beside the score
    (`extras`, written `<method>_<name>`), and the statements its own selection rule bars,
    with the reason (e.g. bridging's `max_factor`)."""

    values: np.ndarray
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)
    barred: np.ndarray | None = None
    barred_reason: str = ""


@dataclass(frozen=True)
class ScoreMethod:
    """A registry target: `score(inputs, **options) -> Scored`, and `describe(**options)`, the
    options in words for the selection's method line."""

    score: Callable[..., Scored]
    describe: Callable[..., str]


def method_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options `name` declares, from `options` (the consensus block), else defaults."""
    return {k: options.get(k, attr.default) for k, attr in SCORES.entry(name).attrs.items()}


def compute(inputs: ScoreInputs, names: Sequence[str], options: Mapping[str, Any]
            ) -> dict[str, Scored]:
    """Every method in `names`, each with the options it declares."""
    out: dict[str, Scored] = {}
    for name in names:
        method: ScoreMethod = SCORES.load(name)
        out[name] = method.score(inputs, **method_options(name, options))
    return out
