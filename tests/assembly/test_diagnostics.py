"""Bad data becomes located CCAI4xx diagnostics, never an exception."""

from __future__ import annotations

import pytest

from ccaic.assembly.sources import SourceOptions, load_source
from ccaic.diagnostics import DiagnosticError

COMMENTS = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"


def diag(path, kind="auto", **opts):
    with pytest.raises(DiagnosticError) as exc:
        load_source(kind, path, SourceOptions(**opts))
    return exc.value.diagnostics[0]


def test_missing_folder(tmp_path):
    assert diag(tmp_path / "nope").code == "CCAI401"


def test_empty_folder(tmp_path):
    assert diag(tmp_path).code == "CCAI410"


def test_empty_file(tmp_path):
    f = tmp_path / "votes.csv"
    f.write_text("")
    d = diag(f)
    assert (d.code, d.span.file, d.span.line, d.span.column) == ("CCAI402", str(f), 1, 1)


def test_non_utf8(tmp_path):
    f = tmp_path / "v.csv"
    f.write_bytes(b"participant_id,statement_id,vote_value\n1,2,AGREE\n1,3,caf\xe9\n")
    d = diag(f)
    assert (d.code, d.span.line, d.span.column) == ("CCAI403", 3, 8)


def test_missing_column(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("who,what\n1,2\n")
    d = diag(f)
    assert d.code == "CCAI404" and d.span.line == 1 and "participant_id" in d.message


def test_unknown_vote_value(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("voter-id,comment-id,vote\n1,2,AGREE\n10,20,maybe\n")
    d = diag(f)
    assert (d.code, d.span.file, d.span.line, d.span.column) == ("CCAI405", str(f), 3, 7)


def test_unknown_vote_in_participants_votes(tmp_path):
    (tmp_path / "participants-votes.csv").write_text(
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
        "0,0,0,2,1,0,1,0\n1,,0,1,0,0,,7\n")
    d = diag(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI405", 3, 13)
    assert d.span.file.endswith("participants-votes.csv")


def test_duplicate_statement_id(tmp_path):
    (tmp_path / "comments.csv").write_text(
        COMMENTS + "1,x,0,0,0,0,1,first\n2,x,1,0,0,0,1,second\n3,x,0,0,0,0,1,again\n")
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,1\n")
    d = diag(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI406", 4, 5)
    assert d.span.file.endswith("comments.csv")


def test_vote_for_unknown_statement(tmp_path):
    (tmp_path / "comments.csv").write_text(COMMENTS + "1,x,0,0,0,0,1,first\n")
    (tmp_path / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,1\n2,x,9,0,-1\n")
    d = diag(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI407", 3, 5)
    src = load_source("auto", tmp_path, SourceOptions(unknown_statements="drop"))
    assert src.table.provenance.dropped == {"vote for an unknown statement": 1}
    assert src.warnings and src.warnings[0].code == "CCAI407"


def test_unparsable_number(tmp_path):
    (tmp_path / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,1\nsoon,x,0,1,1\n")
    d = diag(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI408", 3, 1)


def test_bad_moderated_flag(tmp_path):
    (tmp_path / "comments.csv").write_text(COMMENTS + "1,x,0,0,0,0,yes,first\n")
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n1,x,0,0,1\n")
    d = diag(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI408", 2, 13)


def test_ragged_row(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("participant_id,statement_id,vote_value\n1,2,1\n1,2,1,4\n")
    d = diag(f)
    assert (d.code, d.span.line, d.span.column) == ("CCAI411", 3, 7)


def test_bad_json(tmp_path):
    (tmp_path / "votes.json").write_text('[{"pid": 1, "tid": 2, "vote": 1},\n {"pid": }]')
    d = diag(tmp_path)
    assert (d.code, d.span.line) == ("CCAI409", 2)


def test_duplicate_participant_row(tmp_path):
    (tmp_path / "participants-votes.csv").write_text(
        "participant,group-id,0\n0,0,1\n0,0,-1\n")
    d = diag(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI412", 3, 1)


def test_several_diagnostics_collected(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("participant_id,statement_id,vote_value\n1,2,x\n1,3,y\n")
    with pytest.raises(DiagnosticError) as exc:
        load_source("auto", f)
    assert [d.span.line for d in exc.value.diagnostics] == [2, 3]


def test_revotes_latest_wins_and_counted(tmp_path):
    f = tmp_path / "v.csv"
    f.write_text("participant_id,statement_id,vote_value,timestamp\n"
                 "a,s1,agree,5\na,s1,disagree,3\nb,s1,pass,1\na,s2,1,9\n")
    t = load_source("auto", f).table
    assert t.participants == ("b", "a")  # first-vote order
    assert t.dense_codes().tolist() == [[2, 0], [3, 3]]
    assert t.provenance.dropped == {"superseded by a later vote (revote)": 1}
    assert t.provenance.rows_read == 4 and t.provenance.rows_used == 3
