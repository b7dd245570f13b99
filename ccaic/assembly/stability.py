"""How stable a selection is: bootstrap over participants, and across grouping methods.

Consensus selection depends heavily on who is in which group; these functions make that
visible. Bootstrap resamples participants with replacement (seeded numpy Generator), keeps the
groups fixed (each resampled participant keeps their group) and recomputes the score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ccaic.assembly.groups import Grouping
from ccaic.assembly.selection import SelectionRule, select
from ccaic.assembly.stats import gac
from ccaic.assembly.votes import VoteTable


@dataclass(frozen=True)
class Bootstrap:
    ids: list[str]
    frequency: np.ndarray  # per statement: share of resamples in which it was selected
    n: int
    seed: int


def bootstrap_selection(table: VoteTable, grouping: Grouping, rule: SelectionRule,
                        moderated_out: np.ndarray | None = None, n: int = 200, seed: int = 0,
                        smoothing: str = "polis") -> Bootstrap:
    """Selection frequency of each statement over `n` participant resamples (GAC score)."""
    rng = np.random.default_rng(seed)
    agree, seen = table.agree(), table.seen()
    labels = grouping.labels
    rows = np.arange(table.shape[0])
    hits = np.zeros(table.shape[1])
    for _ in range(n):
        pick = rng.choice(rows, size=len(rows), replace=True)
        w = np.bincount(pick, minlength=len(rows)).astype(np.float64)
        clustered = labels >= 0
        ind = sp.csr_matrix((w[clustered], (labels[clustered], rows[clustered])),
                            shape=(grouping.k, len(rows)))
        ga = np.asarray((ind @ agree).toarray())
        gs = np.asarray((ind @ seen).toarray())
        score = gac(ga, gs, smoothing)
        hits += select(table.statement_ids, score, rule, moderated_out).selected
    return Bootstrap(table.statement_ids, hits / max(n, 1), n, seed)


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return 1.0 if not sa and not sb else len(sa & sb) / len(sa | sb)


def across_groupings(groupings: dict[str, Grouping],
                     selector: Callable[[Grouping], list[str]]) -> dict[str, object]:
    """Selections under each grouping and the pairwise Jaccard overlap of the selected sets."""
    chosen = {name: selector(g) for name, g in groupings.items()}
    names = list(chosen)
    pairs = {f"{a} vs {b}": jaccard(chosen[a], chosen[b])
             for i, a in enumerate(names) for b in names[i + 1:]}
    return {"selected": chosen, "jaccard": pairs,
            "k": {n: g.k for n, g in groupings.items()}}
