"""Property tests for the statistics."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ccaic.assembly.groups import Grouping
from ccaic.assembly.scores.gac import group_aware
from ccaic.assembly.stats import polarization, statement_stats
from ccaic.assembly.votes import Statement, VoteTable

counts = arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 8)),
                elements=st.integers(0, 50))


@given(counts, counts)
def test_polis_gac_in_open_unit_interval(a, extra):
    extra = np.resize(extra, a.shape)
    s = a + extra
    v = group_aware(a, s - a, s, "laplace")
    assert np.all(v > 0) and np.all(v < 1)
    d = group_aware(s - a, a, s, "laplace")
    assert np.all(d > 0) and np.all(d < 1)


@given(counts, counts)
def test_unsmoothed_gac_in_closed_unit_interval(a, extra):
    s = a + np.resize(extra, a.shape)
    v = group_aware(a, s - a, s, "none")
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
    a = statement_stats(table(list(range(n))), g1).scores["gac"]
    b = statement_stats(table(perm), g2).scores["gac"]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(1, 10), st.integers(1, 6)),
              elements=st.integers(0, 3)),
       st.lists(st.integers(-1, 1), min_size=6, max_size=6),
       st.lists(st.tuples(st.sampled_from(["keep", "drop", "votes"]), st.integers(-1, 4)),
                max_size=4))
def test_moderation_counts_add_up(codes, flags, rules):
    """Whatever the rules: every statement not kept is counted by exactly one rule (Polis's
    own first), and votes read = used + dropped, the dropped counted in votes."""
    from ccaic.assembly.moderation import (
        DropParticipants,
        DropStatements,
        KeepStatements,
        PolisModOut,
        StatementFilter,
        apply_moderation,
    )
    from ccaic.assembly.votes import Provenance

    c = sp.csr_matrix(codes)
    c.eliminate_zeros()
    read = int(c.nnz)
    t = VoteTable(tuple(f"p{i}" for i in range(codes.shape[0])),
                  tuple(Statement(str(j), moderated=flags[j]) for j in range(codes.shape[1])),
                  c, Provenance(rows_read=read, rows_used=read))
    concrete = [PolisModOut()] + [
        KeepStatements(StatementFilter(moderated=n)) if kind == "keep"
        else DropStatements(StatementFilter(moderated=n)) if kind == "drop"
        else DropParticipants(votes_op="<", votes=n) for kind, n in rules]
    r = apply_moderation(t, concrete)
    removed = sum(x.count for x in r.reports if x.kind == "statements")
    assert removed + int((~r.statement_out).sum()) == codes.shape[1]
    assert r.reports[0].count == sum(f == -1 for f in flags[:codes.shape[1]])
    prov = r.table.provenance
    assert prov.rows_read == prov.rows_used + sum(prov.dropped.values())
    assert prov.rows_used == r.table.codes.nnz
    assert t.provenance.rows_used == read  # the source's table is left as it was
