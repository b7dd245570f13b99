"""Broken and hostile data (issue 11): every such input ends in a located CCAI diagnostic or a
correct result, never an exception, a hang or a wrong number."""

from __future__ import annotations

import csv
import json
import tracemalloc
from pathlib import Path

import pytest
from cli_runner import run_cli

from ccaic.assembly._io import MAX_FIELD_CHARS, MAX_ID_CHARS, normalize_id
from ccaic.assembly.sources import SourceOptions, load_source
from ccaic.assembly.votes import natural_key
from ccaic.diagnostics import Diagnostic, DiagnosticError

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


def first_diagnostic_and_peak(folder: Path) -> tuple[Diagnostic, int]:
    """The source's first diagnostic and the peak traced memory of reading it."""
    tracemalloc.start()
    try:
        d = diags(folder)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return d, peak


def test_million_character_id_is_bounded(tmp_path: Path) -> None:
    """Was ~20 GB: a fixed-width numpy string array of rows x the longest id."""
    rows = "".join(f"{i},x,{i % 7},{i % 300},1\n" for i in range(5303))
    polis_csv(tmp_path, rows + "9,x,0," + "8" * 1_000_000 + ",1\n")
    d, peak = first_diagnostic_and_peak(tmp_path)
    assert (d.code, d.span.line) == ("CCAI431", 5305)
    assert peak < 60 * 2 ** 20


def test_long_vote_cell_costs_no_fixed_width_copy(tmp_path: Path) -> None:
    """A long cell under the field limit used to be copied rows x its width (2 GB here)."""
    rows = "".join(f"{i},x,{i % 7},{i % 300},1\n" for i in range(5303))
    polis_csv(tmp_path, rows + "9,x,0,1," + "1" * (MAX_FIELD_CHARS - 10) + "\n")
    d, peak = first_diagnostic_and_peak(tmp_path)
    assert (d.code, d.span.line, d.span.column) == ("CCAI405", 5305, 9)
    assert peak < 60 * 2 ** 20


def test_long_cell_in_participants_votes_is_bounded(tmp_path: Path) -> None:
    head = "participant,group-id,n-comments,n-votes,n-agree,n-disagree," + ",".join(
        str(j) for j in range(200)) + "\n"
    body = "".join(f"{i},0,0,1,1,0," + "1," * 199 + "1\n" for i in range(300))
    (tmp_path / "participants-votes.csv").write_text(
        head + body + "x,0,0,1,1,0," + "1" * (MAX_FIELD_CHARS - 10) + "\n")
    d, peak = first_diagnostic_and_peak(tmp_path)
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


# ---------------------------------------------------------------- groups files and id lists


def ccai_selected(shared: Path, groups_file: Path, ids_file: Path | None = None
                  ) -> tuple[int, int, int]:
    """(participants, groups, selected statements) of the paper's CCAI pipeline."""
    from ccaic.assembly import groups as G
    from ccaic.assembly import stats as S
    from ccaic.assembly.moderation import (
        DropParticipants,
        KeepStatements,
        StatementFilter,
        apply_moderation,
    )
    from ccaic.assembly.selection import SelectionRule, select
    from ccaic.assembly.sources.id_files import read_groups_file

    data = shared / "data/ccai-2023"
    src = load_source("auto", data)
    mod = apply_moderation(src.table, [
        DropParticipants(ids_file=str(ids_file or data / "ids-to-toss.csv")),
        KeepStatements(StatementFilter(moderated=1)),
        DropParticipants(votes_op="<=", votes=25)])
    g = G.export_groups(mod.table, read_groups_file(str(groups_file), "participant",
                                                    "group-id"))
    st = S.statement_stats(mod.table, g, {"smoothing": "none"})
    sel = select(st.ids, st.scores["gac"], SelectionRule(threshold=0.723), mod.statement_out,
                 st.seen)
    return mod.table.shape[0], g.k, int(sel.selected.sum())


def rewrite_column(src: Path, dst: Path, column: str, change) -> None:
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    i = rows[0].index(column)
    for n, row in enumerate(rows[1:]):
        row[i] = change(n, row[i])
    with dst.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def test_groups_file_labels_are_trimmed_and_normalised(shared: Path, tmp_path: Path) -> None:
    """' 0' / '0' and '1.0' / '1' were four groups: 29 statements selected instead of 116."""
    clean = shared / "data/ccai-2023/clean_votes.csv"
    assert ccai_selected(shared, clean) == (1002, 2, 116)
    messy = tmp_path / "groups.csv"
    rewrite_column(clean, messy, "group-id",
                   lambda n, g: (f" {g}" if n % 2 else f"{g}.0") if g else g)
    assert ccai_selected(shared, messy) == (1002, 2, 116)


def test_ids_to_toss_written_as_floats(shared: Path, tmp_path: Path) -> None:
    """"643.0" removed 0 participants instead of 37."""
    toss = shared / "data/ccai-2023/ids-to-toss.csv"
    floats = tmp_path / "toss.csv"
    floats.write_text("".join(f"{line.strip()}.0\n" for line in toss.read_text().splitlines()
                              if line.strip()))
    clean = shared / "data/ccai-2023/clean_votes.csv"
    assert ccai_selected(shared, clean, floats) == (1002, 2, 116)


def test_groups_file_participant_in_two_groups(tmp_path: Path) -> None:
    from ccaic.assembly.sources.id_files import read_groups_file

    f = tmp_path / "g.csv"
    f.write_text("participant,group-id\n1,0\n2,1\n1,0\n1.0,1\n")
    with pytest.raises(DiagnosticError) as exc:
        read_groups_file(str(f), "participant", "group-id")
    d = exc.value.diagnostics[0]
    assert where(d) == ("CCAI432", 5, 5) and "line 2" in d.message


def test_groups_file_blank_participant(tmp_path: Path) -> None:
    from ccaic.assembly.sources.id_files import read_groups_file

    f = tmp_path / "g.csv"
    f.write_text("participant,group-id\n1,0\n ,1\n")
    with pytest.raises(DiagnosticError) as exc:
        read_groups_file(str(f), "participant", "group-id")
    assert where(exc.value.diagnostics[0]) == ("CCAI408", 3, 1)


def test_groups_file_missing_participants_warn(tmp_path: Path) -> None:
    from ccaic.assembly.sources.id_files import groups_file_coverage

    [w] = groups_file_coverage(("1", "2", "3", "4"), {"1": "0", "2": "1", "9": "1"}, "g.csv")
    assert w.code == "CCAI433" and not w.is_error
    assert "2 of 4 participants" in w.message
    assert "1 of its 3 ids match no participant of the source" in w.message
    assert groups_file_coverage(("1",), {"1": "0"}, "g.csv") == []


@pytest.mark.parametrize(("groups", "text"), [
    ({}, "it gives no participant a group"),
    ({"8": "0", "9": "1"}, "none of its 2 grouped ids is a participant"),
])
def test_groups_file_grouping_nobody_is_ccai435(groups: dict, text: str) -> None:
    """A header-only groups file gave k = 0 groups and exit 3 in the stats."""
    from ccaic.assembly.sources.id_files import groups_file_coverage

    with pytest.raises(DiagnosticError) as exc:
        groups_file_coverage(("1", "2"), groups, "g.csv")
    [d] = exc.value.diagnostics
    assert d.code == "CCAI435" and d.is_error and text in d.message


def test_id_file_unmatched_ids_warn(tmp_path: Path) -> None:
    from ccaic.assembly.sources.id_files import listed_unmatched

    f = tmp_path / "toss.csv"
    f.write_text("participant\n5\n77\n78.0\n")
    [w] = listed_unmatched(None, str(f), "participants", None, ("5", "6"), ("1",))
    assert (w.code, w.span.line) == ("CCAI434", 3) and not w.is_error
    assert "2 of 3 listed ids" in w.message and "'77', '78'" in w.message
    [w] = listed_unmatched(["1", "2"], None, "statements", None, ("5",), ("1",))
    assert "1 of 2" in w.message
    assert listed_unmatched(["1.0"], None, "statements", None, ("5",), ("1",)) == []


def test_unicode_digit_group_label(tmp_path: Path) -> None:
    """int('²') in the label sort was exit 3; ' 0' and '0.0' are group '0'."""
    (tmp_path / "participants-votes.csv").write_text(
        "participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1\n"
        "0,²,0,2,1,0,1,1\n1, 0,0,2,1,0,1,-1\n2,0.0,0,2,1,0,-1,-1\n")
    src = load_source("auto", tmp_path)
    assert src.export_groups == {"0": "²", "1": "0", "2": "0"}
    code, out, err = run_cli(["analyze", str(tmp_path), "--groups", "export"])
    assert code == 0 and "k=2" in out and "'0': 2, '²': 1" in out, err


def test_statement_rules_cost_no_fixed_width_text_copy(tmp_path: Path, monkeypatch) -> None:
    """Rule fields were numpy fixed-width strings: 1,000 statements x one 99,000-character
    text was ~400 MB for `keep statements where moderated == 1`."""
    texts = [f"statement {j}" for j in range(1000)]
    texts[500] = "t" * 99_000
    (tmp_path / "comments.csv").write_text(COMMENTS + "".join(
        f"{j},x,{j},1,0,0,1,{t}\n" for j, t in enumerate(texts)))
    (tmp_path / "votes.csv").write_text(VOTES + "".join(
        f"{i},x,{i % 1000},{i % 40},{1 if i % 3 else -1}\n" for i in range(4000)))
    (tmp_path / "main.ccai").write_text('''assembly "a" {
  source polis { path = "." }

  moderation {
    keep statements where moderated == 1
    drop statements where text matches /^t+$/ because "long"
    drop participants where id in ["3", 4.0] because "listed"
  }

  groups kmeans {
    k    = 2
    seed = 0
  }

  consensus gac { threshold = 0.3 }
}
''')
    monkeypatch.chdir(tmp_path)
    tracemalloc.start()
    try:
        code, _, err = run_cli(["build", "main.ccai", "-o", str(tmp_path / "out"), "--until",
                                  "assemblies"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0, err
    artifact = json.loads((tmp_path / "out/assemblies/a.json").read_text())
    assert [m["removed"] for m in artifact["moderation"]][-3:] == [0, 1, 2]
    assert peak < 80 * 2 ** 20


def test_json_participant_in_two_groups(tmp_path: Path) -> None:
    """A base cluster listed under two group-clusters: the last used to win silently."""
    math = {"base-clusters": {"id": [0, 1], "members": [[1], [1.0]]},
            "group-clusters": [{"id": 0, "members": [0]}, {"id": 1, "members": [1]}]}
    d = diags(polis_json(tmp_path, [vote()], math=math))[0]
    assert d.code == "CCAI432" and d.span.file.endswith("math-pca2.json")



def test_text_output_escapes_control_characters(tmp_path: Path) -> None:
    """A comment holding ESC ] 0 ; ... BEL retitled the terminal through `analyze`'s text
    output (and a principle would through `diff`'s); the JSON output escapes it itself."""
    from ccaic.commands.init import starter_data

    comments, votes = starter_data()
    first = comments.splitlines()[1].rsplit(",", 1)[1]
    (tmp_path / "comments.csv").write_text(
        comments.replace(first, "\x1b]0;pwned\x07" + first, 1), encoding="utf-8")
    (tmp_path / "votes.csv").write_text(votes, encoding="utf-8")
    code, out, _ = run_cli(["analyze", str(tmp_path)])
    assert code == 0 and "\\x1b]0;pwned\\x07" in out and "\x1b" not in out and "\x07" not in out
    code, out, _ = run_cli(["analyze", str(tmp_path), "--format", "json"])
    assert code == 0 and "\\u001b]0;pwned\\u0007" in out
    spec = tmp_path / "c.ccai"
    spec.write_text('constitution "c" {\n  principle "p" { text = "Choose the response that '
                    'is \x1b[2Jkind." }\n}\n', encoding="utf-8")
    code, out, err = run_cli(["diff", str(spec), str(spec), "--show-unchanged"])
    assert code == 0 and "\\x1b[2J" in out and "\x1b" not in out, err


@pytest.mark.parametrize(("cell", "meta"), [("1.0", True), ("TRUE", True), (" yes ", True),
                                            ("0.0", False), ("", False), ("No", False)])
def test_statements_file_meta_flags(tmp_path: Path, cell: str, meta: bool) -> None:
    """"1.0" (a spreadsheet's 1) meant not meta: the meta statement entered the analysis."""
    from ccaic.assembly.sources.base import meta_flag

    assert meta_flag(cell) is meta


@pytest.mark.parametrize("cell", ["maybe", "2", "1e400", "-1", "9" * 5000])
def test_statements_file_meta_that_is_no_flag_is_ccai436(tmp_path: Path, cell: str) -> None:
    (tmp_path / "votes.csv").write_text("participant_id,statement_id,vote_value\np0,0,1\n"
                                        "p1,1,-1\n", encoding="utf-8")
    (tmp_path / "statements.csv").write_text(
        f"statement_id,text,is_meta\n0,one,0\n1,two,{cell}\n", encoding="utf-8")
    with pytest.raises(DiagnosticError) as exc:
        load_source("long-csv", tmp_path / "votes.csv",
                    SourceOptions(statements_file=str(tmp_path / "statements.csv")))
    assert where(exc.value.diagnostics[0]) == ("CCAI436", 3, 7)


def test_a_data_file_linked_into_proc_is_refused(tmp_path: Path) -> None:
    """votes.csv -> /proc/self/environ printed the environment as the missing-columns hint's
    header (and /proc files pass for regular ones)."""
    from ccaic.commands.init import starter_data
    from ccaic.files import FileRefused, read_data_bytes

    first = Path("/proc/self/environ").read_bytes().split(b"\0")[0].decode("utf-8", "replace")
    comments, _ = starter_data()
    (tmp_path / "comments.csv").write_text(comments, encoding="utf-8")
    (tmp_path / "votes.csv").symlink_to("/proc/self/environ")
    code, out, err = run_cli(["analyze", str(tmp_path)])
    assert code == 1 and "error[CCAI108]" in err and "kernel file" in err, err
    assert first and first[:40] not in err + out
    for path in ("/proc/self/status", "/sys/kernel/mm/transparent_hugepage/enabled"):
        if Path(path).exists():
            with pytest.raises(FileRefused):
                read_data_bytes(path)
