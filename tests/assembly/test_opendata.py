"""openData exports: GAC against an independent pure-Python oracle; formats agree."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from ccaic.assembly import groups as G
from ccaic.assembly import stats as S
from ccaic.assembly.sources import SourceOptions, load_source
from ccaic.assembly.sources.polis_csv import _same_cells

CONVS = sorted(p.name for p in (Path(__file__).resolve().parents[3] / "shared/data/polis/opendata"
                                ).glob("*") if (p / "participants-votes.csv").exists())


def oracle_gac(path: Path) -> dict[str, float]:
    """Straight from participants-votes.csv, one row at a time: prod_g (A_g+1)/(S_g+2)."""
    with path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        gi = header.index("group-id")
        cols = [i for i, h in enumerate(header) if h.isdigit()]
        a: dict[tuple[str, str], int] = {}
        s: dict[tuple[str, str], int] = {}
        groups = set()
        for row in reader:
            g = row[gi]
            if not g:
                continue
            groups.add(g)
            for i in cols:
                cell = row[i] if i < len(row) else ""
                if cell == "":
                    continue
                key = (g, header[i])
                s[key] = s.get(key, 0) + 1
                a[key] = a.get(key, 0) + (float(cell) == 1)
    out = {}
    for i in cols:
        value = 1.0
        for g in groups:
            value *= (a.get((g, header[i]), 0) + 1) / (s.get((g, header[i]), 0) + 2)
        out[header[i]] = value
    return out


@pytest.mark.parametrize("name", CONVS)
def test_gac_matches_independent_oracle(shared, name):
    folder = shared / "data/polis/opendata" / name
    src = load_source("polis-csv", folder)
    g = G.export_groups(src.table, src.export_groups)
    st = S.statement_stats(src.table, g)
    expected = oracle_gac(folder / "participants-votes.csv")
    ids = src.table.statement_ids
    for sid, value in expected.items():
        assert abs(st.scores["gac"][ids.index(sid)] - value) < 1e-12, sid


@pytest.mark.parametrize("name", CONVS)
def test_three_formats_agree(shared, name, tmp_path):
    folder = shared / "data/polis/opendata" / name
    if not (folder / "votes.csv").exists():
        pytest.skip("no votes.csv")
    full = load_source("polis-csv", folder)
    assert not [w for w in full.warnings if w.code == "CCAI416"]
    pv_only = tmp_path / "pv"
    pv_only.mkdir()
    for f in ("comments.csv", "participants-votes.csv"):
        (pv_only / f).write_bytes((folder / f).read_bytes())
    pv = load_source("auto", pv_only)
    long = tmp_path / "long.csv"
    with (folder / "votes.csv").open(encoding="utf-8") as fh, long.open("w") as out:
        r = csv.DictReader(fh)
        w = csv.writer(out)
        w.writerow(["participant_id", "statement_id", "vote_value", "timestamp"])
        words = {"1": "AGREE", "-1": "DISAGREE", "0": "PASS"}
        for row in r:
            w.writerow([row["voter-id"], row["comment-id"], words[row["vote"]], row["timestamp"]])
    lg = load_source("auto", long, SourceOptions(statements_file=str(folder / "comments.csv")))
    assert lg.kind == "long-csv"
    assert full.table.codes.nnz == pv.table.codes.nnz == lg.table.codes.nnz
    assert _same_cells(full.table, pv.table) == 0
    assert _same_cells(full.table, lg.table) == 0
    assert full.table.participants == lg.table.participants
    prov = full.table.provenance
    assert prov.rows_read == prov.rows_used + sum(prov.dropped.values())
    np.testing.assert_array_equal(full.table.vote_counts(), lg.table.vote_counts())
