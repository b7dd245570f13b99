"""Synthetic conversations with known structure, for the scale benchmark and its tests."""

from __future__ import annotations

import numpy as np


def synthetic_votes(n_participants: int, n_statements: int, n_votes: int, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(participant, statement, vote, timestamp) arrays with two latent opinion axes (Polis's
    PCA is 2-D): a third of the statements are consensus, a third split participants by axis 1,
    a third by axis 2; 15% passes; a cell drawn twice is a revote. Timestamps are integer
    milliseconds over 30 days, as Polis records them (collisions happen)."""
    rng = np.random.default_rng(seed)
    p = rng.integers(0, n_participants, n_votes)
    s = rng.integers(0, n_statements, n_votes)
    camp = np.where(s % 3 == 1, (p % 2) * 2 - 1, ((p // 2) % 2) * 2 - 1)
    lean = np.where(s % 3 == 0, 1, camp * np.where(s % 2 == 0, 1, -1))
    r = rng.random(n_votes)
    vote = np.where(r < 0.15, 0, np.where(r < 0.75, lean, -lean)).astype(np.int8)
    start = 1_700_000_000_000
    ts = rng.integers(start, start + 30 * 86_400_000, n_votes).astype(np.float64)
    return p, s, vote, ts
