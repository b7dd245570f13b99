"""The large-input code paths agree with the straightforward (reference) ones.

- `build_table` (composite-key sort) against the original 3-key lexsort implementation, on
  random events with revotes, timestamp ties, float and integer timestamps;
- the sparse PCA (never densified) against dense SVD of the mean-imputed matrix;
- k-means with bounds + KD-tree assignment against brute-force Lloyd.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ccaic.assembly import groups
from ccaic.assembly.synthetic import synthetic_votes
from ccaic.assembly.votes import Statement, VoteTable, build_table


def _reference_table(p_idx: np.ndarray, s_idx: np.ndarray, vote: np.ndarray, n_p: int,
                     n_s: int, ts: np.ndarray | None, order_mode: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """The original build_table: lexsort on (cell, ts, file), np.minimum.at ranks."""
    code = (vote.astype(np.int8) + 2).astype(np.int8)
    n = len(p_idx)
    order_in_file = np.arange(n)
    t = ts if ts is not None else np.zeros(n)
    cell = p_idx * n_s + s_idx
    order = np.lexsort((order_in_file, t, cell))
    cs = cell[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = cs[1:] != cs[:-1]
    keep = order[last]
    rank = np.full(n_p, np.iinfo(np.int64).max, dtype=np.int64)
    if order_mode == "first-vote":
        first = np.lexsort((order_in_file, t))
        pos = np.empty(n, dtype=np.int64)
        pos[first] = np.arange(n)
        np.minimum.at(rank, p_idx, pos)
    else:
        rank[np.unique(p_idx)] = np.unique(p_idx)
    has = rank < np.iinfo(np.int64).max
    row_order = np.argsort(rank, kind="stable")[: int(has.sum())]
    new_row = np.empty(n_p, dtype=np.int64)
    new_row[row_order] = np.arange(len(row_order))
    codes = sp.csr_matrix((code[keep], (new_row[p_idx[keep]], s_idx[keep])),
                          shape=(len(row_order), n_s), dtype=np.int8)
    entry = None
    if ts is not None:
        rows_k, ts_k = new_row[p_idx[keep]], t[keep]
        o = np.lexsort((ts_k, rows_k))
        counts = np.bincount(rows_k, minlength=len(row_order))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        entry = ts_k[o][starts + np.minimum(counts, 7) - 1]
    return row_order, codes.toarray(), entry, int((~last).sum())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ts_kind", ["none", "int", "float"])
@pytest.mark.parametrize("order_mode", ["first-vote", "file"])
def test_build_table_matches_reference(seed: int, ts_kind: str, order_mode: str) -> None:
    rng = np.random.default_rng(seed)
    n_p, n_s, n = 300, 40, 6000
    p = rng.integers(0, n_p, n)
    s = rng.integers(0, n_s, n)
    vote = rng.integers(-1, 2, n).astype(np.int8)
    ts = None if ts_kind == "none" else (
        rng.integers(0, 50, n).astype(np.float64) * 1000.0 + 1.5e12 if ts_kind == "int"
        else rng.integers(0, 50, n) / 7.0)
    table = build_table(p, s, vote, [f"p{i}" for i in range(n_p)],
                        [Statement(str(j)) for j in range(n_s)], ts,
                        participant_order=order_mode)
    rows, dense, entry, superseded = _reference_table(p, s, vote, n_p, n_s, ts, order_mode)
    assert table.participants == tuple(f"p{i}" for i in rows)
    np.testing.assert_array_equal(table.codes.toarray(), dense)
    assert table.provenance.dropped.get("superseded by a later vote (revote)", 0) == superseded
    if entry is None:
        assert table.entry_times is None
    else:
        assert table.entry_times is not None
        np.testing.assert_array_equal(table.entry_times, entry)


def _synthetic(n_p: int, n_s: int, n_votes: int, seed: int) -> VoteTable:
    p, s, vote, _ = synthetic_votes(n_p, n_s, n_votes, seed)
    return build_table(p, s, vote, [str(i) for i in range(n_p)],
                       [Statement(str(j), moderated=-1 if j == 3 else 1) for j in range(n_s)])


@pytest.mark.parametrize("seed", range(3))
def test_sparse_pca_matches_dense(seed: int) -> None:
    table = _synthetic(3000, 120, 60_000, seed)
    dense = groups.pca(table, dense_limit=10 ** 9)
    sparse = groups.pca(table, dense_limit=0)
    np.testing.assert_array_equal(dense.center, sparse.center)
    for a, b in zip(dense.comps, sparse.comps, strict=True):
        sign = 1.0 if float(a @ b) >= 0 else -1.0
        assert np.abs(a - sign * b).max() <= 1e-10
    assert np.abs(np.abs(dense.projections) - np.abs(sparse.projections)).max() <= 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_bounded_kmeans_matches_brute_force(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    pts = np.concatenate([rng.normal(size=(4000, 2)),
                          np.round(rng.normal(size=(2000, 2)), 1)])  # exact duplicates/ties
    init = pts[groups._first_distinct(pts, 100)]
    monkeypatch.setattr(groups, "BRUTE_PAIRS", 10 ** 12)
    c_ref, l_ref = groups.kmeans(pts, init)
    monkeypatch.setattr(groups, "BRUTE_PAIRS", 0)
    c_new, l_new = groups.kmeans(pts, init)
    np.testing.assert_array_equal(l_ref, l_new)
    np.testing.assert_array_equal(c_ref, c_new)


def test_first_distinct_prefix() -> None:
    rng = np.random.default_rng(0)
    pts = np.round(rng.normal(size=(5000, 2)), 0)
    _, first = np.unique(pts, axis=0, return_index=True)
    for k in (1, 5, 20, 100):
        np.testing.assert_array_equal(groups._first_distinct(pts, k), np.sort(first)[:k])


def test_silhouette_is_sklearns_to_the_bit() -> None:
    """Our silhouette replaces sklearn's (an import costing more than a whole analyze run); the
    group count is chosen on exact ties, so it must give sklearn's numbers bit for bit."""
    from sklearn.metrics import silhouette_score

    from ccaic.assembly.groups import silhouette

    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(3, 120))
        k = int(rng.integers(2, min(6, n)))
        points = rng.normal(size=(n, 2)) * rng.uniform(0.1, 10)
        if trial % 3 == 0:
            points = np.round(points, 1)  # duplicates and ties
        labels = rng.integers(0, k, size=n)
        if not 2 <= len(np.unique(labels)) < n:
            continue
        assert silhouette(points, labels) == float(silhouette_score(points, labels))
