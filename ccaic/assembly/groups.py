"""Opinion groups: Polis's classic pipeline (docs/polis-math.md §1.6-4), export groups, fixed k.

Polis pipeline, cold start, deterministic:
1. M = the latest-vote matrix (export sign) over columns with >= 1 vote; mod-out columns are
   zero-filled for every row (a present 0), as Polis does.
2. PCA of the mean-imputed M over ALL participants: the top two singular vectors, never a full
   SVD (an eigendecomposition of the smaller Gram matrix when it is small, ARPACK with a fixed
   start vector when large). Sign convention: each component is flipped so that its
   largest-magnitude entry is positive (first such entry on ties).
3. Sparsity-aware projection p_i = sqrt(C / |V(i)|) * sum_{j in V(i)} (M_ij - c_j) pc_j.
4. in-conv = vote count >= min(7, n-cmts), topped up greedily (highest counts, row order on
   ties) to 15 participants.
5. Base k-means (k = 100) on in-conv projections, initialised with the first 100 distinct
   points. Point order: by the time each participant reached min(7, n) votes when the table has
   timestamps (`entry_times`; Polis's warm-started base-cluster ids follow the order in which
   participants joined in-conv, and this order reproduces its groups best: ARI 1.0, 1.0 and
   0.91 on the three polis-math fixtures, against 1.0, 0.63, 1.0 for first-vote order; every
   shared conversation: bench/seed_order.py, table in docs/polis-report.md), else row order.
   Stop when every center moves < 0.01 or after 100 iterations.
6. Weighted group k-means on base centers (weights = sizes) for k = 2..min(5, 2 + B // 12),
   first-k-distinct init, 20-iteration cap; k chosen by unweighted silhouette (later k wins
   ties). Exact distance ties go to the later cluster, as in Polis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ccaic.assembly.votes import VoteTable, natural_key

BASE_K = 100
MAX_K = 5


@dataclass(frozen=True)
class Pca:
    """Export-sign PCA: `center` = -pca.center of math-pca2.json; `columns` = table columns used."""

    columns: np.ndarray
    center: np.ndarray
    comps: np.ndarray  # (2, C)
    projections: np.ndarray  # (P, 2), every participant


@dataclass(frozen=True)
class BaseClusters:
    centers: np.ndarray  # (B, 2)
    counts: np.ndarray  # (B,)
    labels: np.ndarray  # per clustered point: base cluster index


@dataclass(frozen=True)
class Grouping:
    """Group label per table row (-1 = not clustered), plus how the grouping was made."""

    method: str
    labels: np.ndarray
    names: tuple[str, ...]
    silhouette: float | None = None
    pca: Pca | None = None
    base: BaseClusters | None = None

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def sizes(self) -> list[int]:
        counts: list[int] = np.bincount(self.labels[self.labels >= 0], minlength=self.k).tolist()
        return counts

    @property
    def clustered(self) -> int:
        return int((self.labels >= 0).sum())

    def indicator(self) -> sp.csr_matrix:
        """Participants x groups 0/1 matrix (unclustered rows are all zero)."""
        rows = np.flatnonzero(self.labels >= 0)
        return sp.csr_matrix((np.ones(len(rows)), (rows, self.labels[rows])),
                             shape=(len(self.labels), self.k))


def polis_mod_out(table: VoteTable) -> np.ndarray:
    """Polis's mod-out mask over columns: is_meta or moderated == -1 (§1.4)."""
    return np.array([s.is_meta or s.moderated == -1 for s in table.statements], dtype=bool)


def _sign_fix(v: np.ndarray) -> np.ndarray:
    i = int(np.argmax(np.abs(v)))
    return -v if v[i] < 0 else v


#: Multiply-adds (sum over rows of votes squared, for X^T X) up to which the Gram matrix is
#: formed: scipy's sparse product is single-threaded, and past this ARPACK's few dozen sparse
#: products are far cheaper (10M votes, 200k x 2k: Gram 29 s, ARPACK 1.7 s).
GRAM_WORK = 20_000_000


def pca(table: VoteTable, mod_out: np.ndarray | None = None, dense_limit: int = 4_000_000,
        tol: float = 1e-12, gram_work: int = GRAM_WORK) -> Pca:
    """Mean-imputed PCA of M (top two components), plus sparsity-aware participant projections.

    The centered mean-imputed matrix X is exactly zero on imputed (missing) cells, so it is
    held sparse: present cells get value - column mean, mod-out columns 0. Two components are
    all Polis uses, so no full SVD: when a Gram matrix has at most `dense_limit` cells (X^T X,
    statements x statements; else X X^T) and forming it costs at most `gram_work`
    multiply-adds, its top eigenvectors by LAPACK (the SVD's accuracy); otherwise ARPACK
    (Lanczos on X^T X, fixed seeded start, residual tolerance `tol`) on the sparse X, never
    densified. Tests check both against a full SVD.
    """
    mod_out = polis_mod_out(table) if mod_out is None else np.asarray(mod_out, dtype=bool)
    codes = table.codes
    counts = table.statement_vote_counts()
    cols = np.flatnonzero(counts > 0)
    if len(cols) != codes.shape[1]:
        codes = sp.csr_matrix(codes[:, cols])
    out = mod_out[cols]
    n_p, n_c = codes.shape
    data = codes.data.astype(np.float64)
    data -= 2.0
    col_sum = np.bincount(codes.indices, weights=data, minlength=n_c)
    col_n = np.bincount(codes.indices, minlength=n_c)
    center = np.where(out, 0.0, col_sum / np.maximum(col_n, 1))
    # X: centered imputed matrix; nonzero only on present cells of kept columns
    data -= center[codes.indices]
    n_votes = np.diff(codes.indptr).astype(np.int64)
    if out.any():
        hit = out[codes.indices]
        data[hit] = 0.0
        cum = np.zeros(len(hit) + 1, dtype=np.int64)
        np.cumsum(hit, out=cum[1:])
        n_votes += int(out.sum()) - (cum[codes.indptr[1:]] - cum[codes.indptr[:-1]])
    x = sp.csr_matrix((data, codes.indices, codes.indptr), shape=(n_p, n_c))
    comps = np.zeros((2, n_c))
    rank = min(2, n_p, n_c)
    tall = n_c ** 2 <= dense_limit
    # votes per row (X^T X) or per column (X X^T): only the Gram matrix that would be formed
    nnz = (np.diff(x.indptr) if tall else np.bincount(x.indices, minlength=n_c)
           ).astype(np.float64)
    work = float(nnz @ nnz)
    if rank and min(n_p, n_c) ** 2 <= dense_limit and work <= gram_work:
        comps[:rank] = _top_right_by_gram(x, rank, tall=tall)
    elif rank:
        comps[:rank] = _top_right_singular(x, rank, tol)
    comps = np.vstack([_sign_fix(c) if np.any(c) else c for c in comps])
    scale = np.sqrt(n_c / np.maximum(n_votes, 1))
    proj = np.asarray(x @ comps.T) * scale[:, None]
    if rank < 2:
        proj = np.zeros((n_p, 2))
    return Pca(cols, center, comps, proj)


def _top_right_by_gram(x: sp.csr_matrix, rank: int, tall: bool) -> np.ndarray:
    """Top `rank` right singular vectors of X (rows, largest first) from a Gram matrix:
    eigenvectors of X^T X when `tall` (statements x statements), else X^T u / |X^T u| for
    eigenvectors u of X X^T; a direction with a singular value at rounding level is left zero
    (it is arbitrary, and its projections are zero either way)."""
    from scipy.linalg import eigh

    gram = (x.T @ x) if tall else (x @ x.T)
    g = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
    n = g.shape[0]
    _, vecs = eigh(g, subset_by_index=[n - rank, n - 1])
    vecs = vecs[:, ::-1].T  # largest first
    if tall:
        return np.asarray(vecs)
    right = np.asarray((x.T @ vecs.T).T)
    norms = np.linalg.norm(right, axis=1)
    live = norms > 1e-10 * max(float(norms.max()), 1e-300)
    return np.where(live[:, None], right / np.where(live, norms, 1.0)[:, None], 0.0)


def _start_vector(n: int) -> np.ndarray:
    """ARPACK's fixed start: seeded, not constant. An all-ones start is orthogonal to the range
    of the column-centred X on the participants' side (its columns sum to 0), where ARPACK then
    fails with "starting vector is zero"."""
    v = np.random.default_rng(0).standard_normal(n)
    return v / np.linalg.norm(v)


def _top_right_singular(x: sp.csr_matrix, rank: int, tol: float) -> np.ndarray:
    """Top `rank` right singular vectors of sparse X (rows, largest first) by ARPACK; a tiny or
    degenerate X that ARPACK cannot start on goes to the Gram matrix (it is small then)."""
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh, svds

    n_p, n_c = x.shape
    try:
        if n_c > n_p or rank >= n_c - 1:
            v0 = _start_vector(min(n_p, n_c))
            _, s, vt = svds(x, k=rank, v0=v0, random_state=0, tol=tol)
            return np.asarray(vt[np.argsort(-s)])
        xt = x.T.tocsr()

        def gram(v: np.ndarray) -> np.ndarray:
            return np.asarray(xt @ (x @ v))

        op = LinearOperator((n_c, n_c), matvec=gram, dtype=np.float64)
        w, v = eigsh(op, k=rank, v0=_start_vector(n_c), tol=tol)
        return np.asarray(v[:, np.argsort(-w)].T)
    except (ArpackError, ArpackNoConvergence, ValueError):
        if min(n_p, n_c) > 4_000:
            raise
        return _top_right_by_gram(x, rank, tall=n_c <= n_p)


def in_conv(table: VoteTable, n_cmts: int | None = None, threshold: int = 7,
            greedy: int = 15) -> np.ndarray:
    """Boolean mask of clustered participants: >= min(7, n-cmts) votes, topped up to 15."""
    counts = table.vote_counts()
    if n_cmts is None:
        n_cmts = int((table.statement_vote_counts() > 0).sum())
    mask = counts >= min(threshold, n_cmts)
    if mask.sum() < greedy:
        rest = np.flatnonzero(~mask)
        order = rest[np.argsort(-counts[rest], kind="stable")]
        mask[order[: greedy - int(mask.sum())]] = True
    return mask


def _first_distinct(points: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Indices of the first k distinct rows, in order (looks at a growing prefix only): Polis's
    k-means start. `seed` other than 0 draws k distinct rows with that seed instead (the
    groups block's `seed`: how much do the groups depend on where k-means starts?)."""
    if seed:
        _, first = np.unique(points, axis=0, return_index=True)
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(np.sort(first), size=min(k, len(first)), replace=False))
    m = max(4 * k, 64)
    while True:
        _, first = np.unique(points[:m], axis=0, return_index=True)
        if len(first) >= k or m >= len(points):
            return np.sort(first)[:k]
        m *= 4


#: point-center pairs up to which k-means assigns by brute force; above, exact bounds + KD-tree
BRUTE_PAIRS = 200_000
_EPS = 1e-9


def _assign(points: np.ndarray, centers: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Nearest center per point by direct squared distances; exact ties go to the later center
    (Polis)."""
    out = np.empty(len(points), dtype=np.int64)
    k = len(centers)
    for start in range(0, len(points), chunk):
        p = points[start:start + chunk]
        d = ((p[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        out[start:start + chunk] = k - 1 - np.argmin(d[:, ::-1], axis=1)
    return out


class _Bounds:
    """Hamerly's bounds for exact Lloyd assignment on many points.

    Per point: `a` its center, `u` >= distance to it, `lo` <= distance to any other center. A
    point is re-examined only when the bounds (with a relative and absolute safety margin far
    above rounding error) cannot prove that its center is strictly the nearest; re-examined
    points get their two nearest centers from a KD-tree, and exact distance ties (which the
    tree cannot order) fall back to `_assign`, so labels equal brute-force `_assign` exactly.
    """

    def __init__(self, points: np.ndarray, centers: np.ndarray) -> None:
        self.points = points
        n = len(points)
        self.a = np.zeros(n, dtype=np.int64)
        self.u = np.full(n, np.inf)
        self.lo = np.full(n, -np.inf)
        self.slack = 1e-12 * (float(np.abs(points).max()) + 1.0) if n else 0.0

    def refresh(self, centers: np.ndarray) -> np.ndarray:
        pts, a, u, lo = self.points, self.a, self.u, self.lo
        k = len(centers)
        if k == 1:
            a[:] = 0
            u[:] = np.sqrt(((pts - centers[0]) ** 2).sum(axis=1))
            lo[:] = np.inf
            return a
        cd = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
        np.fill_diagonal(cd, np.inf)
        half = 0.5 * cd.min(axis=1)
        m = np.maximum(half[a], lo)
        idx = np.flatnonzero(u * (1 + _EPS) + self.slack >= m * (1 - _EPS))
        if len(idx):
            u[idx] = np.sqrt(((pts[idx] - centers[a[idx]]) ** 2).sum(axis=1))
            idx = idx[u[idx] * (1 + _EPS) + self.slack >= m[idx] * (1 - _EPS)]
        if len(idx):
            from scipy.spatial import cKDTree

            d, j = cKDTree(centers).query(pts[idx], k=2, workers=-1)
            a[idx], u[idx], lo[idx] = j[:, 0], d[:, 0], d[:, 1]
            tie = idx[d[:, 0] == d[:, 1]]
            if len(tie):
                a[tie] = _assign(pts[tie], centers)
                u[tie] = np.sqrt(((pts[tie] - centers[a[tie]]) ** 2).sum(axis=1))
                lo[tie] = u[tie]
        return a

    def moved(self, remap: np.ndarray, drift: np.ndarray) -> None:
        """Centers were renumbered by `remap` (old -> new, -1 dropped) and moved by `drift`."""
        self.a = remap[self.a]
        self.u += drift[self.a]
        self.lo -= float(drift.max()) if len(drift) else 0.0


def kmeans(points: np.ndarray, init: np.ndarray, weights: np.ndarray | None = None,
           max_iters: int = 100, tol: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Polis's (weighted) Lloyd k-means: returns (centers, labels); empty clusters are dropped.

    Each step assigns every point to its nearest center (exact ties to the later one), then
    moves each center to its members' weighted mean; stops when every center moved < `tol` or
    after `max_iters` + 1 steps. Many points: the same steps with `_Bounds` assignment.
    """
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    centers = init.astype(np.float64)
    bounds = _Bounds(points, centers) if len(points) * len(centers) > BRUTE_PAIRS else None
    for _ in range(max_iters + 1):
        labels = _assign(points, centers) if bounds is None else bounds.refresh(centers)
        k = len(centers)
        wsum = np.bincount(labels, weights=w, minlength=k)
        used = np.flatnonzero(np.bincount(labels, minlength=k))
        sums = np.stack([np.bincount(labels, weights=points[:, d] * w, minlength=k)
                         for d in range(points.shape[1])], axis=1)
        new = sums[used] / wsum[used, None]
        drift = np.sqrt(((new - centers[used]) ** 2).sum(axis=1))
        remap = np.full(k, -1)
        remap[used] = np.arange(len(used))
        done = len(used) == k and bool(np.all(drift < tol))
        centers = new
        if bounds is not None:
            bounds.moved(remap, drift)
        if done:
            break
    labels = _assign(points, centers) if bounds is None else bounds.refresh(centers)
    return centers, labels


def base_clusters(points: np.ndarray, k: int = BASE_K, warm: np.ndarray | None = None,
                  seed: int = 0) -> BaseClusters:
    """Base clusters of projected in-conv participants (row order): a cold start from the
    first distinct points (`seed`: see `_first_distinct`), or (`warm`, `groups polis {
    warm_start = true }`) from the last build's base centers, as Polis's math starts each tick
    from the previous one's."""
    if len(points) == 0:
        return BaseClusters(np.zeros((0, 2)), np.zeros(0, dtype=np.int64),
                            np.zeros(0, dtype=np.int64))
    usable = warm is not None and 0 < len(warm) <= len(points) and warm.shape[1:] == (2,)
    init = (np.asarray(warm, dtype=np.float64) if usable
            else points[_first_distinct(points, k, seed)])
    centers, labels = kmeans(points, init, max_iters=100)
    counts = np.bincount(labels, minlength=len(centers))
    used = np.flatnonzero(counts)
    remap = np.full(len(centers), -1)
    remap[used] = np.arange(len(used))
    labels = remap[labels]
    sums = np.stack([np.bincount(labels, weights=points[:, d], minlength=len(used))
                     for d in range(points.shape[1])], axis=1)
    centers = sums / counts[used, None]
    return BaseClusters(centers, counts[used], labels)


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Unweighted silhouette, 0 when fewer than 2 or as many groups as points.

    The same arithmetic as sklearn.metrics.silhouette_score (its Euclidean distance formula,
    per-cluster sums by bincount, NaN -> 0), so the k chosen on exact ties is the same; written
    out because importing sklearn.metrics costs more than a whole `ccaic analyze` run.
    """
    labels = np.asarray(labels)
    _, labels = np.unique(labels, return_inverse=True)
    n_labels = int(labels.max()) + 1 if len(labels) else 0
    if n_labels < 2 or n_labels >= len(points):
        return 0.0
    x = np.asarray(points, dtype=np.float64)
    sq = np.einsum("ij,ij->i", x, x)[:, np.newaxis]
    dist = -2 * (x @ x.T)
    dist += sq
    dist += sq.T
    np.maximum(dist, 0, out=dist)
    np.fill_diagonal(dist, 0)
    np.sqrt(dist, out=dist)
    freqs = np.bincount(labels)
    sums = np.array([np.bincount(labels, weights=row, minlength=n_labels) for row in dist])
    intra = sums[np.arange(len(x)), labels]
    sums[np.arange(len(x)), labels] = np.inf
    inter = (sums / freqs).min(axis=1)
    denom = (freqs - 1).take(labels, mode="clip")
    with np.errstate(divide="ignore", invalid="ignore"):
        intra = intra / denom
        scores = (inter - intra) / np.maximum(intra, inter)
    return float(np.mean(np.nan_to_num(scores)))


def group_clusters(centers: np.ndarray, counts: np.ndarray, k: int | None = None,
                   max_k: int = MAX_K, min_k: int = 2, seed: int = 0
                   ) -> tuple[np.ndarray, float]:
    """Group k-means over base centers (id order): labels per base cluster and silhouette.

    k None: try min_k..min(max_k, 2 + B // 12) and keep the best silhouette (later k wins
    ties); Polis's default is 2..5. When few base clusters cap the range below `min_k`, `min_k`
    alone is tried, so a declared lower bound is never silently undercut. `seed`: where each
    k-means starts (`_first_distinct`).
    """
    b = len(centers)
    if b == 0:
        return np.zeros(0, dtype=np.int64), 0.0
    n_distinct = len(np.unique(centers, axis=0))
    ks = [k] if k is not None else list(range(min_k, max(min_k, min(max_k, 2 + b // 12)) + 1))
    best: tuple[float, np.ndarray] | None = None
    for kk in ks:
        kk = min(kk, n_distinct)
        init = centers[_first_distinct(centers, kk, seed)]
        _, labels = kmeans(centers, init, weights=counts, max_iters=20)
        s = silhouette(centers, labels)
        if best is None or s >= best[0]:
            best = (s, labels)
    assert best is not None
    return best[1], best[0]


def polis_groups(table: VoteTable, mod_out: np.ndarray | None = None, k: int | None = None,
                 in_conv_mask: np.ndarray | None = None, pca_result: Pca | None = None,
                 k_range: tuple[int, int] = (2, MAX_K), warm: np.ndarray | None = None,
                 seed: int = 0) -> Grouping:
    """The full cold Polis pipeline; `k` forces the group count (the `kmeans:K` method), else
    k is chosen by silhouette within `k_range` (a groups block's `k = 2..5`).
    `pca_result`: the assembly's PCA of this table, when computed already (one per assembly);
    `seed`: where the k-means steps start (0: Polis's first distinct points)."""
    p = pca(table, mod_out) if pca_result is None else pca_result
    mask = in_conv(table, len(p.columns)) if in_conv_mask is None else in_conv_mask
    rows = np.flatnonzero(mask)
    if table.entry_times is not None:
        rows = rows[np.argsort(table.entry_times[rows], kind="stable")]
    base = base_clusters(p.projections[rows], warm=warm, seed=seed)
    glabels, sil = group_clusters(base.centers, base.counts, k=k, min_k=k_range[0],
                                  max_k=k_range[1], seed=seed)
    labels = np.full(table.shape[0], -1, dtype=np.int64)
    if len(rows):
        labels[rows] = glabels[base.labels]
    names = tuple(str(i) for i in range(int(labels.max()) + 1 if len(rows) else 0))
    return Grouping("polis" if k is None else f"kmeans:{k}", labels, names, sil, p, base)


def export_groups(table: VoteTable, groups: dict[str, str], pca_result: Pca | None = None
                  ) -> Grouping:
    """Groups as the export gives them (participant id -> group label); others unclustered."""
    names = tuple(sorted(set(groups.values()), key=natural_key))
    pos = {g: i for i, g in enumerate(names)}
    labels = np.array([pos[groups[p]] if p in groups else -1 for p in table.participants],
                      dtype=np.int64)
    sil = None
    if pca_result is not None and (labels >= 0).sum() > 2:
        sil = silhouette(pca_result.projections[labels >= 0], labels[labels >= 0])
    return Grouping("export", labels, names, sil, pca_result)
