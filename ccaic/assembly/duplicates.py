"""Statements that say the same thing: similarity by meaning, clusters, `duplicate_of`.

One similarity matrix (all-MiniLM-L6-v2 sentence embeddings, the model `ccaic diff` ships, or
TF-IDF where it is not installed) and one clustering serve three readers: duplicate detection at
moderation time (`duplicate_of`, usable in rules), `ccaic suggest merges` and `merge auto`
(ccaic.constitution.merges), and the report's topics (ccaic.report.topics).

Clustering is complete-linkage agglomerative clustering (scikit-learn) on 1 - similarity with a
distance threshold, so its meaning is simple to state: every two statements in one cluster are at
least `threshold` similar. The matrix is rounded to 6 places (ccaic.diff.match.similarity) so
the clusters do not depend on BLAS summation order; inputs are taken in the order given and
clusters are numbered by their first member, so the same inputs give the same clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Near-duplicates: how similar two statements must be to count as the same statement. Chosen
#: on the CCAI 2023 statements (docs/merges.md): at 0.9 the pairs are rewordings such as
#: "The AI should be kind" / "AI should be very kind"; below it, related but distinct ideas.
DUPLICATE_THRESHOLDS = {"embedding": 0.9, "tfidf": 0.7}
FIELD = "duplicate_of"


@dataclass(frozen=True)
class Decision:
    """Statement `id` repeats `duplicate_of` (the cluster's first statement), this similar."""

    id: str
    duplicate_of: str
    similarity: float


@dataclass(frozen=True)
class Duplicates:
    """Every duplicate decision of one moderation rule, for the assembly artifact."""

    matcher: str
    threshold: float
    decisions: tuple[Decision, ...]

    def of(self) -> dict[str, str]:
        return {d.id: d.duplicate_of for d in self.decisions}

    def to_dict(self) -> dict[str, object]:
        return {"matcher": self.matcher, "threshold": self.threshold,
                "decisions": [{"id": d.id, "duplicate_of": d.duplicate_of,
                               "similarity": d.similarity} for d in self.decisions]}


def resolve_matcher(matcher: str) -> str:
    """`auto`: the embedding model when it loads, TF-IDF otherwise (as `ccaic diff` does)."""
    from ccaic.diff.match import resolve_matcher as resolve

    return resolve(matcher)


def similarity_matrix(texts: Sequence[str], matcher: str) -> NDArray[np.float64]:
    """Pairwise similarity in [0, 1], rounded to 6 places, 1 on the diagonal."""
    from ccaic.diff.match import similarity

    sim = similarity(matcher, texts, texts)
    np.fill_diagonal(sim, 1.0)
    return np.asarray(np.minimum(sim, sim.T), dtype=np.float64)  # exactly symmetric


def clusters(sim: NDArray[np.float64], threshold: float | None = None,
             count: int | None = None) -> list[list[int]]:
    """Complete-linkage clusters, each in input order, ordered by first member; singletons
    included. With `threshold`, members are at least that similar pairwise; with `count`, the
    tree is cut into that many clusters (the report's topics)."""
    if (threshold is None) == (count is None):
        raise ValueError("give a threshold or a count")
    n = sim.shape[0]
    if n < 2 or count == 1:
        return [list(range(n))] if n and count == 1 else [[i] for i in range(n)]
    from sklearn.cluster import AgglomerativeClustering

    cut = ({"n_clusters": min(count, n)} if count is not None else
           {"n_clusters": None, "distance_threshold": 1.0 - float(threshold or 0.0) + 1e-9})
    model = AgglomerativeClustering(metric="precomputed", linkage="complete", **cut)
    labels = model.fit(1.0 - sim).labels_
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def find_duplicates(ids: Sequence[str], texts: Sequence[str], matcher: str = "auto",
                    threshold: float | None = None) -> Duplicates:
    """Near-duplicate decisions: in each cluster the first statement (ids come in posting
    order) is the original and every other one is its duplicate."""
    kind = resolve_matcher(matcher)
    limit = DUPLICATE_THRESHOLDS[kind] if threshold is None else threshold
    sim = similarity_matrix(texts, kind)
    decisions = [Decision(ids[j], ids[group[0]], float(sim[group[0], j]))
                 for group in clusters(sim, limit) for j in group[1:]]
    return Duplicates(kind, limit, tuple(decisions))


def duplicate_field(ids: Sequence[str], found: Duplicates | None) -> NDArray[np.object_]:
    """The `duplicate_of` field: the original's id, or "" (what `null` compares equal to)."""
    of = found.of() if found is not None else {}
    return np.array([of.get(i, "") for i in ids], dtype=object)
