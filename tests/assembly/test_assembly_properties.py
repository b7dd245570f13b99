"""Property tests for the statistics."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ccaic.assembly.groups import Grouping
from ccaic.assembly.stats import gac, polarization, statement_stats
from ccaic.assembly.votes import Statement, VoteTable

counts = arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 8)),
                elements=st.integers(0, 50))


@given(counts, counts)
def test_polis_gac_in_open_unit_interval(a, extra):
    extra = np.resize(extra, a.shape)
    s = a + extra
    v = gac(a, s, "polis")
    assert np.all(v > 0) and np.all(v < 1)
    d = gac(s - a, s, "polis")
    assert np.all(d > 0) and np.all(d < 1)


@given(counts, counts)
def test_unsmoothed_gac_in_closed_unit_interval(a, extra):
    s = a + np.resize(extra, a.shape)
    v = gac(a, s, "none")
    assert np.all(v >= 0) and np.all(v <= 1)


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)),
                min_size=1, max_size=20))
def test_polarization_bounds(rows):
    a, d, p = (np.array(x) for x in zip(*rows, strict=True))
    pi, adj = polarization(a, d, p)
    assert np.all((pi >= 0) & (pi <= 1)) and np.all((adj >= 0) & (adj <= pi + 1e-15))


@settings(max_examples=30, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(2, 12), st.integers(1, 6)),
              elements=st.integers(0, 3)), st.randoms(use_true_random=False))
def test_gac_invariant_to_participant_order(codes, rnd):
    n = codes.shape[0]
    labels = np.array([i % 2 for i in range(n)])
    perm = list(range(n))
    rnd.shuffle(perm)

    def table(rows):
        c = sp.csr_matrix(codes[rows])
        return VoteTable(tuple(str(i) for i in rows),
                         tuple(Statement(str(j)) for j in range(codes.shape[1])), c)

    g1 = Grouping("t", labels, ("0", "1"))
    g2 = Grouping("t", labels[perm], ("0", "1"))
    a = statement_stats(table(list(range(n))), g1).gac
    b = statement_stats(table(perm), g2).gac
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
