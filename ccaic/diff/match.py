"""Pair the principles of two constitutions by meaning: similarity matrix, then assignment.

Equal texts pair first (in address order); the rest are paired by an optimal one-to-one
assignment (scipy's linear_sum_assignment, maximising total similarity) over pairs at or above
the matcher's threshold. The assignment always runs on a canonical orientation of the two
sides, so diff(A, B) and diff(B, A) pair the same principles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MATCHERS = ("auto", "embedding", "tfidf")
# How these were chosen: docs/diff.md, "Thresholds".
THRESHOLDS = {"embedding": 0.6, "tfidf": 0.2}
# Words every principle shares ("Choose the response that ..."): they say nothing about meaning.
BOILERPLATE = frozenset({"choose", "response", "responses", "assistant", "ai", "please",
                         "chatbot", "model"})


_LEAD = re.compile(r"^\s*(?:please\s+)?(?:choose|select|pick)\s+the\s+(?:assistant(?:'s)?\s+)?"
                   r"response\s+(?:that\s+|which\s+)?", re.IGNORECASE)


def core(text: str) -> str:
    """The text without the shared lead-in "Choose the response that", which only adds noise."""
    return _LEAD.sub("", text) or text


class MatcherUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Pair:
    a: int  # index into side A
    b: int  # index into side B
    similarity: float


def tfidf_similarity(a: Sequence[str], b: Sequence[str]) -> NDArray[np.float64]:
    """Cosine similarity of TF-IDF vectors (words and word pairs, English stop words removed)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    if not a or not b:
        return np.zeros((len(a), len(b)))
    vectorizer = TfidfVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | BOILERPLATE),
                                 ngram_range=(1, 2), sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([*a, *b])
    except ValueError:  # every text was only stop words
        return np.zeros((len(a), len(b)))
    left, right = matrix[:len(a)], matrix[len(a):]
    return np.asarray((left @ right.T).toarray(), dtype=np.float64)


def embedding_similarity(a: Sequence[str], b: Sequence[str]) -> NDArray[np.float64]:
    """Cosine similarity of all-MiniLM-L6-v2 sentence embeddings (unit vectors: a dot product)."""
    from ccaic.diff.embed import EmbeddingUnavailable, load_model

    try:
        model = load_model()
    except EmbeddingUnavailable as exc:
        raise MatcherUnavailable(str(exc)) from exc
    vectors = model.encode([*a, *b]).astype(np.float64)
    return np.asarray(vectors[:len(a)] @ vectors[len(a):].T)


def resolve_matcher(name: str) -> str:
    """`auto` is the embedding matcher when its model loads, TF-IDF otherwise."""
    if name != "auto":
        return name
    from ccaic.diff.embed import EmbeddingUnavailable, load_model

    try:
        load_model()
    except EmbeddingUnavailable:
        return "tfidf"
    return "embedding"


def similarity(matcher: str, a: Sequence[str], b: Sequence[str]) -> NDArray[np.float64]:
    a, b = [core(t) for t in a], [core(t) for t in b]
    sim = embedding_similarity(a, b) if matcher == "embedding" else tfidf_similarity(a, b)
    rounded = np.round(np.clip(sim, 0.0, 1.0), 6)
    return np.asarray(rounded, dtype=np.float64)  # rounded: stable across BLAS summation orders


def _exact_pairs(a: Sequence[str], b: Sequence[str]) -> list[Pair]:
    """Equal texts, paired in order of appearance (callers pass address-sorted lists)."""
    free_b: dict[str, list[int]] = {}
    for j, text in enumerate(b):
        free_b.setdefault(text, []).append(j)
    pairs = []
    for i, text in enumerate(a):
        if free_b.get(text):
            pairs.append(Pair(i, free_b[text].pop(0), 1.0))
    return pairs


def assign(a: Sequence[str], b: Sequence[str], sim: NDArray[np.float64],
           threshold: float) -> list[Pair]:
    """Exact pairs, then the best one-to-one assignment among pairs >= threshold."""
    from scipy.optimize import linear_sum_assignment

    pairs = _exact_pairs(a, b)
    rows = [i for i in range(len(a)) if i not in {p.a for p in pairs}]
    cols = [j for j in range(len(b)) if j not in {p.b for p in pairs}]
    if rows and cols:
        sub = sim[np.ix_(rows, cols)]
        admissible = np.where(sub >= threshold, sub, 0.0)
        for r, c in zip(*linear_sum_assignment(admissible, maximize=True), strict=True):
            if sub[r, c] >= threshold and admissible[r, c] > 0:
                pairs.append(Pair(rows[r], cols[c], float(sub[r, c])))
    return sorted(pairs, key=lambda p: (p.a, p.b))


def match(a: Sequence[str], b: Sequence[str], matcher: str,
          threshold: float | None = None) -> list[Pair]:
    """Pairs (index in a, index in b, similarity), the same whichever side comes first."""
    limit = THRESHOLDS[matcher] if threshold is None else threshold
    if (tuple(b), len(b)) < (tuple(a), len(a)):  # canonical orientation: mirror-exact results
        return [Pair(p.b, p.a, p.similarity) for p in match(b, a, matcher, limit)]
    return assign(a, b, similarity(matcher, a, b), limit)
