"""CCAI 2023: the paper's cleaning and GAC statistics (ccai-facts.md)."""

from __future__ import annotations

import csv

import numpy as np

from ccaic.assembly import groups as G
from ccaic.assembly import stats as S
from ccaic.assembly.moderation import (
    DropParticipants,
    KeepStatements,
    StatementFilter,
    apply_moderation,
)
from ccaic.assembly.sources import load_source


def paper_cleaning(data, count_on="all"):
    return [DropParticipants(ids_file=str(data / "ids-to-toss.csv")),
            KeepStatements(StatementFilter(moderated=1)),
            DropParticipants(votes_op="<=", votes=25, count_on=count_on)]




def _load(shared, count_on="all"):
    data = shared / "data/ccai-2023"
    src = load_source("auto", data)
    return src, apply_moderation(src.table, paper_cleaning(data, count_on))


def test_cleaning_counts(shared):
    """1,002 participants only when the <= 25 rule counts votes on ALL statements."""
    _, mod = _load(shared)
    assert mod.table.shape[0] == 1002
    assert int((~mod.statement_out).sum()) == 275
    _, other = _load(shared, count_on="kept")
    assert other.table.shape[0] != 1002  # 997: counting after the statement filter is not it


def test_paper_gac_statistics(shared):
    """The paper's figures come from A/S (no smoothing) with the authors' recomputed split."""
    src, mod = _load(shared)
    data = shared / "data/ccai-2023"
    with (data / "clean_votes.csv").open(encoding="utf-8") as fh:
        authors = {r["participant"]: r["group-id"] for r in csv.DictReader(fh)}
    g = G.export_groups(mod.table, authors)
    assert g.k == 2 and g.clustered == 1002
    st = S.statement_stats(mod.table, g, {"smoothing": "none"})
    v = st.scores["gac"][~mod.statement_out]
    assert len(v) == 275
    assert [round(float(x), 2) for x in (v.mean(), np.median(v), v.min(), v.max())] == [
        0.64, 0.70, 0.04, 0.96]
    # the Polis formula with the same groups does not reproduce them
    sp = S.statement_stats(mod.table, g, {"smoothing": "polis"}).scores["gac"][~mod.statement_out]
    assert round(float(sp.mean()), 2) != 0.64 or round(float(sp.max()), 2) != 0.96
    # nor does the export's live group-id with A/S
    ge = G.export_groups(mod.table, src.export_groups)
    se = S.statement_stats(mod.table, ge, {"smoothing": "none"}).scores["gac"][~mod.statement_out]
    assert round(float(np.median(se)), 2) != 0.70
