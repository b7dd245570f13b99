"""The synthetic conversation generator: the default stays as the recorded benchmarks used it;
the Zipf mode (issue 15's export) is seeded, skewed, and keeps the vote count and revotes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccaic.assembly.synthetic import REVOTE_SHARE, synthetic_votes, zipf_counts


def _digest(arrays: tuple[np.ndarray, ...]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(a.dtype.str.encode())
        h.update(a.tobytes())
    return h.hexdigest()


def test_default_is_unchanged() -> None:
    """The uniform output, byte for byte, as before the Zipf mode (bench figures compare)."""
    h = hashlib.sha256()
    for n_p, n_s, n, seed in [(100, 20, 500, 0), (2000, 300, 30000, 7), (50, 5, 200, 3)]:
        for a in synthetic_votes(n_p, n_s, n, seed=seed, zipf=None):
            h.update(a.dtype.str.encode())
            h.update(a.tobytes())
    assert h.hexdigest() == "cc8411eef2f1f6752c8637eee1f2c86b4177f94de0c574e959a83e464dd9ecff"


def test_zipf_is_seeded() -> None:
    a = synthetic_votes(3000, 200, 60_000, seed=5, zipf=1.1)
    assert _digest(a) == _digest(synthetic_votes(3000, 200, 60_000, seed=5, zipf=1.1))
    assert _digest(a) != _digest(synthetic_votes(3000, 200, 60_000, seed=6, zipf=1.1))


def test_zipf_skews_statements_and_keeps_count_and_revotes() -> None:
    n_p, n_s, n = 3000, 200, 60_000
    p, s, vote, ts = synthetic_votes(n_p, n_s, n, seed=5, zipf=1.1)
    assert len(p) == len(s) == len(vote) == len(ts) == n
    per_statement = np.bincount(s, minlength=n_s)
    assert per_statement.max() > 20 * np.median(per_statement)
    distinct = len(np.unique(p * n_s + s))
    assert n - distinct == round(REVOTE_SHARE * n)
    assert set(np.unique(vote).tolist()) == {-1, 0, 1}
    uniform = np.bincount(synthetic_votes(n_p, n_s, n, seed=5)[1], minlength=n_s)
    assert uniform.max() < 2 * np.median(uniform)


def test_zipf_rejects_more_votes_than_cells() -> None:
    with pytest.raises(ValueError, match="exceed"):
        synthetic_votes(5, 4, 30, zipf=1.1)


@given(n_s=st.integers(1, 60), cap=st.integers(1, 500), exponent=st.floats(0.0, 3.0),
       fill=st.floats(0.0, 1.0))
def test_zipf_counts_sum_cap_and_order(n_s: int, cap: int, exponent: float, fill: float
                                       ) -> None:
    n_first = int(fill * n_s * cap)
    c = zipf_counts(n_first, n_s, cap, exponent)
    assert int(c.sum()) == n_first
    assert c.min() >= 0 and c.max() <= cap
    assert (np.diff(c) <= 1).all()  # non-increasing up to the one-vote rounding
