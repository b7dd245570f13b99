"""Broken and hostile data (issue 11): every such input ends in a located CCAI diagnostic or a
correct result, never an exception, a hang or a wrong number."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from cli_runner import run_cli

from ccaic.assembly._io import MAX_FIELD_CHARS, MAX_ID_CHARS, normalize_id
from ccaic.assembly.sources import SourceOptions, load_source
from ccaic.assembly.votes import natural_key
from ccaic.diagnostics import DiagnosticError

VOTES = "timestamp,datetime,comment-id,voter-id,vote\n"
COMMENTS = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"


def diags(path: Path, kind: str = "auto") -> list:
    with pytest.raises(DiagnosticError) as exc:
        load_source(kind, path, SourceOptions())
    return exc.value.diagnostics


def where(d) -> tuple[str, int, int]:
    return d.code, d.span.line, d.span.column


def polis_csv(tmp_path: Path, votes: str, comments: str | None = None) -> Path:
    (tmp_path / "votes.csv").write_text(VOTES + votes, encoding="utf-8")
    if comments is not None:
        (tmp_path / "comments.csv").write_text(COMMENTS + comments, encoding="utf-8")
    return tmp_path


def polis_json(tmp_path: Path, votes: list, comments: list | None = None,
               math: object = None) -> Path:
    (tmp_path / "votes.json").write_text(json.dumps(votes, indent=1), encoding="utf-8")
    if comments is not None:
        (tmp_path / "comments.json").write_text(json.dumps(comments, indent=1),
                                                encoding="utf-8")
    if math is not None:
        (tmp_path / "math-pca2.json").write_text(json.dumps(math), encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- ids: one normal form


@pytest.mark.parametrize(("raw", "norm"), [
    ("643", "643"), ("643.0", "643"), (" 0 ", "0"), ("1.0", "1"), ("+5", "5"), ("-0", "0"),
    ("0643", "643"), ("-12.00", "-12"), ("1e3", "1e3"), ("1.5", "1.5"), ("²", "²"),
    ("abc", "abc"), ("", ""), ("643.", "643"),
])
def test_normalize_id(raw: str, norm: str) -> None:
    assert normalize_id(raw) == norm


def test_normalize_id_is_linear_on_long_digit_runs() -> None:
    assert normalize_id("0" * 200_000 + "x") == "0" * 200_000 + "x"
    assert normalize_id("9" * 10_000) == "9" * 10_000  # no int(): no 4,300-digit limit


def test_natural_key_orders_without_int() -> None:
    ids = ["10", "²", "9", "b", "0", "1" * 5000, "a"]
    assert sorted(ids, key=natural_key) == ["0", "9", "10", "1" * 5000, "a", "b", "²"]


def test_float_written_ids_match_integer_ids(tmp_path: Path) -> None:
    src = load_source("auto", polis_csv(tmp_path, "1,x,1.0,643.0,1\n2,x,1,643,-1\n",
                                        "1,x,1,7,0,0,1,one\n"))
    assert src.table.participants == ("643",)
    assert src.table.statement_ids == ["1"]
    assert src.table.codes.nnz == 1 and src.table.provenance.dropped == {
        "superseded by a later vote (revote)": 1}


# ---------------------------------------------------------------- blank and long ids


def test_blank_voter_id_is_ccai408(tmp_path: Path) -> None:
    d = diags(polis_csv(tmp_path, "1,x,0,5,1\n2,x,0, ,1\n"))[0]
    assert where(d) == ("CCAI408", 3, 7) and "empty voter-id" in d.message


def test_blank_comment_id_in_votes_is_ccai408(tmp_path: Path) -> None:
    d = diags(polis_csv(tmp_path, "1,x,,5,1\n"))[0]
    assert where(d) == ("CCAI408", 2, 5)


def test_blank_participant_in_participants_votes(tmp_path: Path) -> None:
    (tmp_path / "participants-votes.csv").write_text(
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0\n0,0,0,1,1,0,1\n"
        ",1,0,1,1,0,1\n")
    assert where(diags(tmp_path)[0]) == ("CCAI408", 3, 1)


def test_over_long_id_is_ccai430(tmp_path: Path) -> None:
    long_id = "7" * (MAX_ID_CHARS + 1)
    d = diags(polis_csv(tmp_path, f"1,x,0,5,1\n2,x,0,{long_id},1\n"))[0]
    assert where(d) == ("CCAI430", 3, 7) and f"limit is {MAX_ID_CHARS}" in d.message


def test_million_character_id_is_bounded(tmp_path: Path) -> None:
    """Was ~20 GB: a fixed-width numpy string array of rows x the longest id."""
    rows = "".join(f"{i},x,{i % 7},{i % 300},1\n" for i in range(5303))
    polis_csv(tmp_path, rows + "9,x,0," + "8" * 1_000_000 + ",1\n")
    tracemalloc.start()
    try:
        d = diags(tmp_path)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (d.code, d.span.line) == ("CCAI431", 5305)
    assert peak < 60 * 2 ** 20


def test_long_vote_cell_costs_no_fixed_width_copy(tmp_path: Path) -> None:
    """A long cell under the field limit used to be copied rows x its width (2 GB here)."""
    rows = "".join(f"{i},x,{i % 7},{i % 300},1\n" for i in range(5303))
    polis_csv(tmp_path, rows + "9,x,0,1," + "1" * (MAX_FIELD_CHARS - 10) + "\n")
    tracemalloc.start()
    try:
        d = diags(tmp_path)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (d.code, d.span.line, d.span.column) == ("CCAI405", 5305, 9)
    assert peak < 60 * 2 ** 20


def test_long_cell_in_participants_votes_is_bounded(tmp_path: Path) -> None:
    head = "participant,group-id,n-comments,n-votes,n-agree,n-disagree," + ",".join(
        str(j) for j in range(200)) + "\n"
    body = "".join(f"{i},0,0,1,1,0," + "1," * 199 + "1\n" for i in range(300))
    (tmp_path / "participants-votes.csv").write_text(
        head + body + "x,0,0,1,1,0," + "1" * (MAX_FIELD_CHARS - 10) + "\n")
    tracemalloc.start()
    try:
        d = diags(tmp_path)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (d.code, d.span.line) == ("CCAI405", 302)
    assert peak < 60 * 2 ** 20


# ---------------------------------------------------------------- numbers and flags


@pytest.mark.parametrize("value", ["0.9", "2", "inf", "1e400", "-1.5"])
def test_moderated_must_be_a_flag(tmp_path: Path, value: str) -> None:
    d = diags(polis_csv(tmp_path, "1,x,1,5,1\n", f"1,x,1,7,0,0,{value},one\n"))[0]
    assert where(d) == ("CCAI408", 2, 13)
    assert d.span.file.endswith("comments.csv")


def test_moderated_written_as_float_still_reads(tmp_path: Path) -> None:
    src = load_source("auto", polis_csv(tmp_path, "1,x,1,5,1\n", "1,x,1,7,0,0,-1.0,one\n"))
    assert src.table.statements[0].moderated == -1


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "-inf", "1" * 5000])
def test_non_finite_timestamp_is_ccai408(tmp_path: Path, value: str) -> None:
    d = diags(polis_csv(tmp_path, f"1,x,1,5,1\n{value},x,1,5,1\n"))[0]
    assert where(d) == ("CCAI408", 3, 1) and "finite" in d.message


def test_fractional_timestamps_order_revotes(tmp_path: Path) -> None:
    """Not truncated: 1.7 is later than 1.2, whatever the file order."""
    src = load_source("auto", polis_csv(tmp_path, "1.7,x,1,5,-1\n1.2,x,1,5,1\n"))
    assert src.table.values().toarray().tolist() == [[-1.0]]


def test_unicode_digit_ids_do_not_crash(tmp_path: Path) -> None:
    src = load_source("auto", polis_csv(tmp_path, "1,x,²,5,1\n2,x,3,5,1\n"))
    assert src.table.statement_ids == ["3", "²"]


def test_unicode_digit_header_is_not_a_statement_column(tmp_path: Path) -> None:
    (tmp_path / "participants-votes.csv").write_text(
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,²\n0,0,0,1,1,0,1,1\n")
    src = load_source("auto", tmp_path)
    assert src.table.statement_ids == ["0"]


# ---------------------------------------------------------------- Polis JSON


def vote(pid: object = 1, tid: object = 1, value: object = 1) -> dict:
    return {"pid": pid, "tid": tid, "vote": value, "modified": 1}


@pytest.mark.parametrize("value", [0.5, True, 1e400, "1", None, [1]])
def test_json_vote_value_is_checked(tmp_path: Path, value: object) -> None:
    d = diags(polis_json(tmp_path, [vote(), vote(2, 1, value)]))[0]
    assert d.code in ("CCAI405", "CCAI409") and d.span.line == 8, d


def test_json_integral_float_ids_are_the_integers(tmp_path: Path) -> None:
    src = load_source("auto", polis_json(tmp_path, [vote(1.0, 2.0), vote("1", 2, -1)],
                                         [{"tid": 2, "txt": "two", "mod": 1.0}]))
    assert src.table.participants == ("1",) and src.table.statement_ids == ["2"]
    assert src.table.statements[0].moderated == 1


@pytest.mark.parametrize(("pid", "code"), [({"a": 1}, "CCAI409"), (True, "CCAI409"),
                                           (0.5, "CCAI409"), ("", "CCAI408"),
                                           ("9" * 5000, "CCAI430"), (10 ** 400, "CCAI409")])
def test_json_bad_pid(tmp_path: Path, pid: object, code: str) -> None:
    d = diags(polis_json(tmp_path, [vote(), vote(pid)]))[0]
    assert (d.code, d.span.line) == (code, 8)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("mod", 0.9, "CCAI408"), ("mod", "x", "CCAI408"), ("mod", [1], "CCAI408"),
    ("mod", 2, "CCAI408"), ("txt", {"a": 1}, "CCAI409"), ("txt", 5, "CCAI409"),
    ("tid", {"a": 1}, "CCAI409"), ("is_meta", "no", "CCAI409"),
])
def test_json_bad_comment_field(tmp_path: Path, field: str, value: object, code: str) -> None:
    comments = [{"tid": 1, "txt": "one", "mod": 1}, {"tid": 2, "txt": "two", "mod": 0}]
    comments[1][field] = value
    d = diags(polis_json(tmp_path, [vote()], comments))[0]
    assert (d.code, d.span.line) == (code, 7)
    assert d.span.file.endswith("comments.json")


@pytest.mark.parametrize("math", [
    {"base-clusters": {"id": [0]}, "group-clusters": [{"id": 0}]},
    {"group-clusters": "0,1"},
    {"in-conv": 5},
    {"base-clusters": "x"},
    {"base-clusters": {"id": [0], "members": [5]}},
    {"base-clusters": {"id": [0], "members": [[{"p": 1}]]},
     "group-clusters": [{"id": 0, "members": [0]}]},
    {"in-conv": [{"p": 1}]},
])
def test_json_bad_math_shape(tmp_path: Path, math: object) -> None:
    d = diags(polis_json(tmp_path, [vote()], math=math))[0]
    assert d.code == "CCAI409" and d.span.file.endswith("math-pca2.json")


def test_json_nested_100k_deep(tmp_path: Path) -> None:
    (tmp_path / "votes.json").write_text("[" * 100_000 + "]" * 100_000)
    d = diags(tmp_path)[0]
    assert d.code == "CCAI409" and "nested too deeply" in d.message


def test_json_huge_integer(tmp_path: Path) -> None:
    (tmp_path / "votes.json").write_text('[{"pid": ' + "1" * 5000 + ', "tid": 1, "vote": 1}]')
    assert diags(tmp_path)[0].code == "CCAI409"


# ---------------------------------------------------------------- through the CLI


def test_analyze_never_exits_3_on_these(tmp_path: Path) -> None:
    cases = {
        "ts-inf": (VOTES + "inf,x,1,5,1\n", None),
        "mod-1e400": (VOTES + "1,x,1,5,1\n", COMMENTS + "1,x,1,7,0,0,1e400,one\n"),
        "blank": (VOTES + "1,x,1,,1\n", None),
    }
    for name, (votes, comments) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "votes.csv").write_text(votes)
        if comments:
            (folder / "comments.csv").write_text(comments)
        code, _, err = run_cli(["analyze", str(folder)])
        assert code == 1 and "error[CCAI408]" in err and "Traceback" not in err, (name, err)
