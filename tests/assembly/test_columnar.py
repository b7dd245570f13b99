"""Columnar ingest (issue 15): the pyarrow fast path builds exactly the table the precise
reader builds, and declines (None) whenever the precise reader would report a problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.assembly.sources import SourceOptions, columnar, load_source, polis_csv
from ccaic.assembly.votes import Provenance, VoteTable
from ccaic.diagnostics import DiagnosticError


@pytest.fixture(autouse=True)
def _any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path on small files too (in use it starts at FAST_MIN_BYTES)."""
    monkeypatch.setattr(columnar, "FAST_MIN_BYTES", 0)


def _same(a: VoteTable, b: VoteTable) -> None:
    assert a.participants == b.participants
    assert [s.id for s in a.statements] == [s.id for s in b.statements]
    assert (a.codes != b.codes).nnz == 0 and a.codes.dtype == b.codes.dtype
    if a.entry_times is None or b.entry_times is None:
        assert a.entry_times is None and b.entry_times is None
    else:
        np.testing.assert_array_equal(a.entry_times, b.entry_times)
    assert a.provenance.to_dict() == b.provenance.to_dict()


def _precise(folder: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(columnar, "polis_votes", lambda *a, **k: None)
        return load_source("auto", folder, SourceOptions())


def test_every_shared_conversation(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = sorted(p for p in (shared / "data" / "polis" / "opendata").iterdir()
                     if (p / "votes.csv").is_file())
    assert len(folders) == 12
    for folder in folders:
        prov = Provenance()
        fast = columnar.polis_votes(folder / "votes.csv", "v", None, "export", prov)
        assert fast is not None, folder  # real exports take the fast path
        precise = _precise(folder, monkeypatch)
        loaded = load_source("auto", folder, SourceOptions())
        _same(loaded.table, precise.table)  # type: ignore[attr-defined]
        assert loaded.warnings == precise.warnings  # type: ignore[attr-defined]


HEADER = "timestamp,datetime,comment-id,voter-id,vote\n"
CELLS = st.sampled_from(["1", "-1", "0", " 1", "1.0", "+1", "2", "", "agree", "x", '"1"',
                         "7", "07", "7.0", " 7", "a b", "3", "1e3", "inf", "nan", "-0"])


def _write(folder: Path, name: str, text: str, crlf: bool, bom: bool) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=0, max_size=12),
       crlf=st.booleans(), bom=st.booleans())
def test_polis_fast_path_equals_precise_or_declines(
        tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]], crlf: bool,
        bom: bool) -> None:
    text = HEADER + "".join(f"{t},,{s},{p},{v}\n" for t, s, p, v in rows)
    path = _write(tmp_path_factory.mktemp("conv"), "votes.csv", text, crlf, bom)
    fast = columnar.polis_votes(path, "v", None, "export", Provenance())
    with pytest.MonkeyPatch.context() as m:
        m.setattr(columnar, "polis_votes", lambda *a, **k: None)
        try:
            precise, _ = polis_csv.read_votes_csv(path, "v", None, SourceOptions(), Provenance())
        except DiagnosticError:
            assert fast is None  # a problem is always the precise reader's to report
            return
    if fast is not None:
        _same(fast, precise)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(CELLS, CELLS, CELLS, CELLS), min_size=0, max_size=12),
       crlf=st.booleans(), sign=st.sampled_from(["export", "api"]),
       with_ts=st.booleans())
def test_long_fast_path_equals_precise_or_declines(
        tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]], crlf: bool,
        sign: str, with_ts: bool) -> None:
    head = "participant_id,statement_id,vote" + (",timestamp" if with_ts else "")
    body = "".join(f"{p},{s},{v}" + (f",{t}" if with_ts else "") + "\n" for t, s, p, v in rows)
    path = _write(tmp_path_factory.mktemp("long"), "votes.csv", head + "\n" + body, crlf, False)
    opts = SourceOptions(vote_sign=sign)
    fast = columnar.long_votes(path, str(path), None, opts, Provenance())
    with pytest.MonkeyPatch.context() as m:
        m.setattr(columnar, "long_votes", lambda *a, **k: None)
        try:
            precise = load_source("long-csv", path, opts).table
        except DiagnosticError:
            assert fast is None
            return
    if fast is not None:
        _same(fast, precise)


def test_fast_path_taken_and_declined(tmp_path: Path) -> None:
    """Plain exports take it; anything the precise reader must look at closely does not."""
    ok = HEADER + "1,,1,a,1\n2,,2,b,-1\n3,,1,b,0\n"
    path = _write(tmp_path, "votes.csv", ok, False, False)
    assert columnar.polis_votes(path, "v", None, "export", Provenance()) is not None
    for bad in (ok + '4,,"1",c,1\n', ok + "4,,1,c,2\n", ok + "4,,1,,1\n", ok + "4,,1\n",
                ok + "inf,,1,c,1\n", ok.replace("vote", "voter-id"), ok + "4,,1,c\x00,1\n"):
        path.write_text(bad, encoding="utf-8")
        assert columnar.polis_votes(path, "v", None, "export", Provenance()) is None, bad
    path.write_bytes(ok.encode() + b"4,,1,\xff,1\n")
    assert columnar.polis_votes(path, "v", None, "export", Provenance()) is None


def test_participants_votes_on_shared_exports(shared: Path) -> None:
    folders = [p for p in (shared / "data" / "polis" / "opendata").iterdir()
               if (p / "participants-votes.csv").is_file()] + [shared / "data" / "ccai-2023"]
    assert len(folders) == 13
    for folder in folders:
        path = folder / "participants-votes.csv"
        fast = columnar.participants_votes(path, "pv", None, "export", Provenance())
        assert fast is not None, folder
        with pytest.MonkeyPatch.context() as m:
            m.setattr(columnar, "participants_votes", lambda *a, **k: None)
            precise, groups, _ = polis_csv.read_participants_votes(path, "pv", None,
                                                                   SourceOptions(), Provenance())
        _same(fast[0], precise)
        assert fast[1] == groups


WIDE = st.sampled_from(["1", "-1", "0", "", " ", " 1", "1.0", "2", "x", "-0"])


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["1", "2", "2.0", "03", "", "p"]),
                               st.sampled_from(["0", "1", "", " 1"]), WIDE, WIDE, WIDE),
                     min_size=0, max_size=8),
       header=st.sampled_from(["participant,group-id,0,1,2", "participant,group-id,0,01,x",
                               "participant,n-votes,5,6,7"]),
       sign=st.sampled_from(["export", "api"]))
def test_wide_fast_path_equals_precise_or_declines(
        tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]], header: str,
        sign: str) -> None:
    text = header + "\n" + "".join(",".join(r) + "\n" for r in rows)
    path = _write(tmp_path_factory.mktemp("wide"), "participants-votes.csv", text, False, False)
    opts = SourceOptions(vote_sign=sign)
    fast = columnar.participants_votes(path, "pv", None, sign, Provenance())
    with pytest.MonkeyPatch.context() as m:
        m.setattr(columnar, "participants_votes", lambda *a, **k: None)
        try:
            precise, groups, _ = polis_csv.read_participants_votes(path, "pv", None, opts,
                                                                   Provenance())
        except DiagnosticError:
            assert fast is None
            return
    if fast is not None:
        _same(fast[0], precise)
        assert fast[1] == groups


def _parquet(path: Path, **columns: object) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), path)
    return path


LONG = "participant_id,statement_id,vote,timestamp\n"


def test_parquet_equals_csv(tmp_path: Path) -> None:
    """Strings, integers and dictionary columns; integer, float and timestamp times."""
    import pyarrow as pa

    p, s, v = ["a", "b", "b", " c", "a"], ["1", "2", "1", "2", "1"], ["1", "-1", "0", "1", "-1"]
    ts = [5, 1, 2, 3, 4]
    csv_path = tmp_path / "votes.csv"
    csv_path.write_text(LONG + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in
                                       zip(p, s, v, ts, strict=True)), encoding="utf-8")
    want = load_source("long-csv", csv_path, SourceOptions()).table
    cases = [
        {"participant_id": p, "statement_id": s, "vote": v, "timestamp": ts},
        {"participant_id": pa.array(p).dictionary_encode(), "statement_id": [int(x) for x in s],
         "vote": [int(x) for x in v], "timestamp": [float(t) for t in ts]},
        {"participant_id": p, "statement_id": s, "vote": ["AGREE", "disagree", "pass", "agree",
                                                          "DISAGREE"],
         "timestamp": pa.array(ts, pa.timestamp("ms"))},
    ]
    for k, cols in enumerate(cases):
        path = _parquet(tmp_path / f"votes{k}.parquet", **cols)
        got = load_source("auto", path, SourceOptions()).table
        assert got.participants == want.participants
        assert (got.codes != want.codes).nnz == 0
        np.testing.assert_array_equal(got.entry_times, want.entry_times)
        assert got.provenance.rows_read == 5 and got.provenance.rows_used == 4


def _code(path: Path, opts: SourceOptions | None = None) -> tuple[str, str]:
    with pytest.raises(DiagnosticError) as info:
        load_source("long-csv", path, opts or SourceOptions())
    d = info.value.diagnostics[0]
    where = "" if d.span is None else f"{d.span.line}:{d.span.column}"
    return d.code, where


def test_parquet_problems_are_diagnostics(tmp_path: Path) -> None:
    base = {"participant_id": ["a", "b"], "statement_id": ["1", "2"], "vote": ["1", "-1"]}
    not_parquet = tmp_path / "bad.parquet"
    not_parquet.write_text(LONG, encoding="utf-8")
    assert _code(not_parquet) == ("CCAI446", "")
    assert _code(_parquet(tmp_path / "f.parquet", **{**base, "participant_id": [1.5, 2.0]})
                 ) == ("CCAI447", "1:1")
    assert _code(_parquet(tmp_path / "n.parquet", **{**base, "vote": ["1", None]})
                 ) == ("CCAI447", "2:3")
    assert _code(_parquet(tmp_path / "v.parquet", **{**base, "vote": ["1", "maybe"]})
                 ) == ("CCAI405", "2:3")
    assert _code(_parquet(tmp_path / "e.parquet", **{**base, "statement_id": ["1", " "]})
                 ) == ("CCAI408", "2:2")
    assert _code(_parquet(tmp_path / "m.parquet", participant_id=["a"], vote=["1"])
                 )[0] == "CCAI404"
    assert _code(_parquet(tmp_path / "t.parquet", **base, timestamp=[1.0, float("inf")])
                 ) == ("CCAI408", "2:4")
    statements = tmp_path / "statements.csv"
    statements.write_text("statement_id,text\n1,one\n", encoding="utf-8")
    path = _parquet(tmp_path / "u.parquet", **base)
    assert _code(path, SourceOptions(statements_file=str(statements)))[0] == "CCAI407"
    loaded = load_source("long-csv", path, SourceOptions(statements_file=str(statements),
                                                         unknown_statements="drop"))
    assert loaded.table.shape == (1, 1) and "CCAI407" in [w.code for w in loaded.warnings]
