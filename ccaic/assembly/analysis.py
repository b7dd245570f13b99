"""One call from a loaded source to groups, statistics and rows ready for output."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccaic.assembly.groupings import GroupingRequest
from ccaic.assembly.groups import MAX_K, Grouping, Pca, pca
from ccaic.assembly.moderation import ModerationResult, PolisModOut, Rule, apply_moderation
from ccaic.assembly.polis_report import in_conv_mask, polis_blocks
from ccaic.assembly.sources import LoadedSource
from ccaic.assembly.stats import StatementStats, statement_stats
from ccaic.assembly.votes import VoteTable, natural_key
from ccaic.diagnostics import DiagnosticError, error
from ccaic.registry.groupings import GROUPINGS, forced_k, spellings
from ccaic.registry.scores import ALWAYS


@dataclass(frozen=True)
class Analysis:
    source: LoadedSource
    moderation: ModerationResult
    grouping: Grouping
    stats: StatementStats
    scores: tuple[str, ...] = ("gac",)  # the methods asked for; the first one ranks
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> VoteTable:
        return self.moderation.table


#: The k a grouping may ask for: the `groups` block's k range (ccaic.check.schema; a test
#: keeps them in step), for `analyze --groups kmeans:K` and stability groupings alike.
K_MIN, K_MAX = 2, 50


def make_grouping(table: VoteTable, method: str, mod_out: np.ndarray,
                  loaded: LoadedSource | None = None, pca_result: Pca | None = None,
                  k_range: tuple[int, int] = (2, MAX_K), *, seed: int = 0,
                  min_votes: int = 7) -> Grouping:
    """A grouping by its command-line name: a registered one (`polis`, `export`) or `kmeans:K`
    (k forced). `pca_result`: the PCA of `table` under `mod_out` when the caller has it, so
    that every grouping of one assembly shares one PCA (it is the costly part). Cold `polis`
    and `kmeans:K` cluster the in-conv participants, the server's in-conv list included where
    the source has one (math-pca2.json). `seed` and `min_votes`: the groups block's (stability
    compares groupings that differ in their method alone), Polis's by default."""
    name, forced = method.partition(":")[0], forced_k()
    if name in forced and ":" in method:
        k_range = (_forced_k(method),) * 2
    elif method not in GROUPINGS or method in forced:
        spelled = spellings()
        raise DiagnosticError([error("CCAI414", f"unknown group method {method!r}", None,
                                     help=f"use {', '.join(spelled[:-1])} or {spelled[-1]}")])
    grouping: Callable[[GroupingRequest], Grouping] = GROUPINGS.load(name)
    return grouping(GroupingRequest(table, mod_out, loaded, pca_result, k_range, seed=seed,
                                    min_votes=min_votes))


def _forced_k(method: str) -> int:
    """K of `kmeans:K`, a whole number in the range a groups block's `k` allows (CCAI414)."""
    try:
        forced = int(method.split(":", 1)[1])
    except ValueError:
        forced = 0
    if not K_MIN <= forced <= K_MAX:
        raise DiagnosticError([error("CCAI414", f"bad group method {method!r}", None,
                                     help=f"write {method.partition(':')[0]}:K with K a "
                                     "whole number from "
                                     f"{K_MIN} to {K_MAX}, as in a groups block")])
    return forced


def analyze(loaded: LoadedSource, groups: str = "polis", options: Mapping[str, Any] | None = None,
            scores: Sequence[str] = ("gac",), rules: Sequence[Rule] = ()) -> Analysis:
    """Moderate (Polis mod-out = is_meta or moderated == -1, then `rules`), group, count and
    score: the GAC pair always, and each method of `scores` with the `options` it takes."""
    mod = apply_moderation(loaded.table, [PolisModOut(), *rules])
    table = mod.table
    if table.shape[0] == 0:
        raise DiagnosticError([error("CCAI414", f"{loaded.path}: no participants left", None,
                                     help="check the moderation rules")])
    grouping = make_grouping(table, groups, mod.statement_out, loaded)
    names = tuple(dict.fromkeys((*ALWAYS, *scores)))
    stats = statement_stats(table, grouping, options, names, mod.statement_out)
    return Analysis(loaded, mod, grouping, stats,
                    tuple(scores), dict(options or {}))


def row_order(a: Analysis) -> list[int]:
    """Columns with >= 1 vote: statements in by the first score desc (no score last) then
    natural id, then the moderated-out ones (which keep a score, as Polis computes a GAC, but
    never rank: docs/polis-report.md)."""
    st, out = a.stats, a.moderation.statement_out
    score = np.nan_to_num(st.scores[a.scores[0]], nan=-np.inf)
    idx = [j for j in range(a.table.shape[1]) if st.seen[j] > 0]
    idx.sort(key=lambda j: (bool(out[j]), -score[j], natural_key(st.ids[j])))
    return idx


def statement_rows(a: Analysis) -> list[dict[str, Any]]:
    """One row per statement with >= 1 vote, in `row_order`; `rank` is None for moderated-out
    ones. Ids and field names are those of the build's assembly artifact
    (ccaic.assembly.stage.artifact)."""
    st, table = a.stats, a.table
    values = {**st.scores, **st.extras()}
    rows = []
    for n, j in enumerate(row_order(a), 1):
        s = table.statements[j]
        out = bool(a.moderation.statement_out[j])
        rows.append({
            "id": s.id, "rank": None if out else n, "text": s.text,
            **{name: _value(v[j]) for name, v in values.items()},  # as the artifact names them
            "scores": {name: _value(st.scores[name][j]) for name in a.scores},
            "agrees": int(st.agrees[j]), "disagrees": int(st.disagrees[j]),
            "passes": int(st.passes[j]),
            "groups": {name: {"agrees": int(st.group_agrees[g, j]),
                              "disagrees": int(st.group_disagrees[g, j]),
                              "passes": int(st.group_passes[g, j])}
                       for g, name in enumerate(a.grouping.names)},
            "polarization": float(st.pi[j]), "adjusted_polarization": float(st.adjusted_pi[j]),
            "moderated": s.moderated, "meta": s.is_meta,
            "moderated_out": out,
        })
    return rows


def _value(x: float) -> float | None:
    """A score as JSON has it: None for no score (NaN)."""
    return None if np.isnan(x) else float(x)


def polis_report(a: Analysis, order: Sequence[int]) -> dict[str, Any]:
    """The `polis` block of this analysis, its PCA over the columns `order`."""
    table, out = a.table, a.moderation.statement_out
    p = a.grouping.pca if a.grouping.pca is not None else pca(table, out)
    return polis_blocks(table, a.grouping, out, in_conv_mask(table, a.source.in_conv), p, order)


def summary(a: Analysis) -> dict[str, Any]:
    g = a.grouping
    return {
        "source": a.source.path, "kind": a.source.kind,
        "participants": a.table.shape[0], "statements": a.table.shape[1],
        "statements_with_votes": int((a.stats.seen > 0).sum()),
        "statements_moderated_out": int(a.moderation.statement_out.sum()),
        "votes": int(a.table.codes.nnz),
        "groups": {"method": g.method, "k": g.k, "clustered": g.clustered,
                   "silhouette": g.silhouette, "sizes": dict(zip(g.names, g.sizes, strict=True))},
        "smoothing": str(a.options.get("smoothing", "polis")),
        "scores": list(a.scores),
        "moderation": a.moderation.to_dict(),
        "provenance": a.table.provenance.to_dict(),
    }
