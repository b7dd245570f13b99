"""How stable a selection is: bootstrap over participants, and across grouping methods.

Consensus selection depends heavily on who is in which group; these functions make that
visible. Bootstrap resamples participants with replacement (seeded numpy Generator), keeps the
groups fixed (each resampled participant keeps their group) and recomputes the score of the
method that selects (any registered one, by name), through participant weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccaic.assembly.groups import Grouping
from ccaic.assembly.scores import ScoreInputs, compute
from ccaic.assembly.selection import SelectionRule, select
from ccaic.assembly.votes import VoteTable


@dataclass(frozen=True)
class Bootstrap:
    ids: list[str]
    frequency: np.ndarray  # per statement: share of resamples in which it was selected
    n: int
    seed: int
    intervals: dict[str, np.ndarray]  # per method: (C, 2) 2.5 and 97.5 percentiles, NaN: none
    #: per compared method: share of resamples in which the statement is among that method's
    #: best `top` (the size of the real selection), so methods' stability compares like for like
    by_method: dict[str, np.ndarray] = field(default_factory=dict)


def _percentiles(draws: list[np.ndarray], columns: int) -> np.ndarray:
    """The 95% percentile interval of each statement's score over the resamples that scored
    it (NaN where none did)."""
    if not draws:
        return np.full((columns, 2), np.nan)
    stack = np.vstack(draws)
    out = np.full((columns, 2), np.nan)
    scored = ~np.isnan(stack).all(axis=0)
    if scored.any():
        out[scored] = np.nanpercentile(stack[:, scored], [2.5, 97.5], axis=0).T
    return out


def bootstrap_selection(table: VoteTable, grouping: Grouping, rule: SelectionRule,
                        moderated_out: np.ndarray | None = None, n: int = 200, seed: int = 0,
                        method: str = "gac", options: Mapping[str, Any] | None = None,
                        scores: Sequence[str] = (), compare: Sequence[str] = (),
                        top: int = 0) -> Bootstrap:
    """Selection frequency of each statement under `method` over `n` participant resamples,
    a percentile interval for `method` and each of `scores`, and for each of `compare` how
    often a statement is among its `top` best."""
    rng = np.random.default_rng(seed)
    rows = np.arange(table.shape[0])
    hits = np.zeros(table.shape[1])
    names = list(dict.fromkeys((method, *scores, *compare)))
    draws: dict[str, list[np.ndarray]] = {name: [] for name in names}
    top_hits = {name: np.zeros(table.shape[1]) for name in compare if name != method}
    for _ in range(n):
        pick = rng.choice(rows, size=len(rows), replace=True)
        w = np.bincount(pick, minlength=len(rows)).astype(np.float64)
        scored = compute(ScoreInputs(table, grouping, w, moderated_out), names, options or {})
        for name in names:
            draws[name].append(scored[name].values)
        chosen = scored[method]
        hits += select(table.statement_ids, chosen.values, rule, moderated_out,
                       barred=chosen.barred, barred_reason=chosen.barred_reason).selected
        for name, counts in top_hits.items():
            counts += select(table.statement_ids, scored[name].values, SelectionRule(top_k=top),
                             moderated_out).selected
    return Bootstrap(table.statement_ids, hits / max(n, 1), n, seed,
                     {name: _percentiles(d, table.shape[1]) for name, d in draws.items()},
                     {name: counts / max(n, 1) for name, counts in top_hits.items()})


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
