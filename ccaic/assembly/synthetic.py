"""Synthetic conversations with known structure, for the scale benchmark and its tests."""

from __future__ import annotations

import numpy as np

REVOTE_SHARE = 0.05  # Zipf mode: share of the rows that are a second vote on a voted cell


def synthetic_votes(n_participants: int, n_statements: int, n_votes: int, seed: int = 0,
                    zipf: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(participant, statement, vote, timestamp) arrays with two latent opinion axes (Polis's
    PCA is 2-D): a third of the statements are consensus, a third split participants by axis 1,
    a third by axis 2; 15% passes; a cell drawn twice is a revote. Timestamps are integer
    milliseconds over 30 days, as Polis records them (collisions happen).

    Default: participant and statement uniform. `zipf=S` (issue 15's export: "Zipf-distributed
    statements, with revotes"): statement j gets first votes ∝ 1/(j+1)**S, capped at one per
    participant (the excess spread over the others), each from distinct participants, and
    `REVOTE_SHARE` of the `n_votes` rows revote a voted cell, so both stay as asked."""
    rng = np.random.default_rng(seed)
    if zipf is None:
        p = rng.integers(0, n_participants, n_votes)
        s = rng.integers(0, n_statements, n_votes)
    else:
        p, s = _zipf_cells(rng, n_participants, n_statements, n_votes, zipf)
    camp = np.where(s % 3 == 1, (p % 2) * 2 - 1, ((p // 2) % 2) * 2 - 1)
    lean = np.where(s % 3 == 0, 1, camp * np.where(s % 2 == 0, 1, -1))
    r = rng.random(n_votes)
    vote = np.where(r < 0.15, 0, np.where(r < 0.75, lean, -lean)).astype(np.int8)
    start = 1_700_000_000_000
    ts = rng.integers(start, start + 30 * 86_400_000, n_votes).astype(np.float64)
    return p, s, vote, ts


def zipf_counts(n_first: int, n_statements: int, cap: int, exponent: float) -> np.ndarray:
    """First votes per statement: ∝ 1/(j+1)**exponent, none above `cap` (a participant votes
    once per statement); deterministic, summing to `n_first`."""
    if n_first > cap * n_statements:
        raise ValueError(f"{n_first} first votes exceed {n_statements} statements × {cap}")
    w = 1.0 / np.arange(1, n_statements + 1, dtype=np.float64) ** exponent
    capped = np.zeros(n_statements, dtype=bool)
    while True:
        share = np.where(capped, 0.0, w)
        alloc = np.where(capped, float(cap), (n_first - cap * capped.sum()) * share / share.sum())
        over = ~capped & (alloc >= cap)
        if not over.any():
            break
        capped |= over
    counts = np.floor(alloc).astype(np.int64)
    short = n_first - int(counts.sum())  # largest remainders; float rounding may leave it < 0
    free = np.flatnonzero(~capped)
    by_frac = free[np.argsort(counts[free] - alloc[free], kind="stable")]
    if short >= 0:
        counts[by_frac[:short]] += 1
    else:
        counts[by_frac[short:]] -= 1
    return counts


def _zipf_cells(rng: np.random.Generator, n_p: int, n_s: int, n_votes: int, exponent: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """(participant, statement) of `n_votes` rows: Zipf first votes on distinct cells, then
    revotes drawn from them, in random row order."""
    n_revotes = round(REVOTE_SHARE * n_votes)
    counts = zipf_counts(n_votes - n_revotes, n_s, n_p, exponent)
    s = np.repeat(np.arange(n_s, dtype=np.int64), counts)
    p = np.concatenate([rng.choice(n_p, int(c), replace=False) for c in counts]
                       ).astype(np.int64)
    again = rng.integers(0, len(s), n_revotes)
    order = rng.permutation(n_votes)
    return np.concatenate([p, p[again]])[order], np.concatenate([s, s[again]])[order]
