"""Moderation rules, selection reasons and stability on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ccaic.assembly.groups import Grouping
from ccaic.assembly.moderation import (
    DropParticipants,
    DropStatements,
    KeepStatements,
    StatementFilter,
    apply_moderation,
)
from ccaic.assembly.selection import SelectionRule, select
from ccaic.assembly.stability import across_groupings, bootstrap_selection, jaccard
from ccaic.assembly.votes import Statement, VoteTable
from ccaic.diagnostics import DiagnosticError


def table() -> VoteTable:
    codes = sp.csr_matrix(np.array([[3, 3, 1, 0], [3, 2, 0, 0], [3, 3, 3, 3], [1, 0, 0, 0]],
                                   dtype=np.int8))
    stmts = (Statement("0", "Be kind", "7", 1), Statement("1", "Be fast", "8", 0),
             Statement("2", "spam spam", "7", -1), Statement("3", "meta", "9", 1, True))
    return VoteTable(("a", "b", "c", "d"), stmts, codes)


def test_statement_rules_report_removed_ids():
    r = apply_moderation(table(), [KeepStatements(StatementFilter(moderated=1)),
                                   DropStatements(StatementFilter(is_meta=True))])
    assert [x.removed for x in r.reports] == [("1", "2"), ("3",)]
    assert r.statement_out.tolist() == [False, True, True, True]
    r = apply_moderation(table(), [DropStatements(StatementFilter(text_regex=r"^spam")),
                                   DropStatements(StatementFilter(author="8")),
                                   DropStatements(StatementFilter(ids=("0", "2")))])
    assert [x.removed for x in r.reports] == [("2",), ("1",), ("0",)]


def test_participant_rules(tmp_path):
    ids = tmp_path / "toss.csv"
    ids.write_text("d\n")
    r = apply_moderation(table(), [DropParticipants(ids_file=str(ids)),
                                   DropParticipants(votes_op="<", votes=3)])
    assert [x.removed for x in r.reports] == [("d",), ("b",)]
    assert r.table.participants == ("a", "c")
    kept = apply_moderation(table(), [KeepStatements(StatementFilter(moderated=1)),
                                      DropParticipants(votes_op="<=", votes=1, count_on="kept")])
    assert kept.reports[1].removed == ("a", "b", "d")  # c alone has 2 kept votes


def test_bad_rules_are_diagnostics():
    with pytest.raises(DiagnosticError) as exc:
        apply_moderation(table(), [DropStatements(StatementFilter(text_regex="(x"))])
    assert exc.value.diagnostics[0].code == "CCAI413"
    with pytest.raises(DiagnosticError):
        apply_moderation(table(), [DropParticipants(votes_op="~", votes=1)])


def test_selection_reasons_and_ties():
    ids = ["b", "a", "10", "2", "x"]
    score = np.array([0.8, 0.8, 0.5, 0.9, np.nan])
    s = select(ids, score, SelectionRule(threshold=0.6, top_k=2),
               moderated_out=np.array([False, False, False, True, False]))
    assert s.selected_ids == ["a", "b"]  # tie on score: natural id order
    assert s.reasons == ["selected", "selected", "below threshold 0.6", "moderated out",
                         "no score"]
    s = select(ids, score, SelectionRule(top_k=1))
    assert s.selected_ids == ["2"] and s.reasons[0] == "beyond top 1"


def test_stability():
    t = table()
    g = Grouping("t", np.array([0, 0, 1, 1]), ("0", "1"))
    b1 = bootstrap_selection(t, g, SelectionRule(threshold=0.3), n=20, seed=3)
    b2 = bootstrap_selection(t, g, SelectionRule(threshold=0.3), n=20, seed=3)
    assert b1.frequency.tolist() == b2.frequency.tolist()
    assert np.all((b1.frequency >= 0) & (b1.frequency <= 1))
    assert jaccard(["a", "b"], ["b", "c"]) == pytest.approx(1 / 3)
    res = across_groupings({"x": g, "y": Grouping("t", np.array([0, 1, 0, 1]), ("0", "1"))},
                           lambda gr: ["0"] if gr.labels[1] == 0 else ["0", "1"])
    assert res["jaccard"] == {"x vs y": 0.5}
