"""`ccaic build` on real assemblies: the .ccai moderation rules, groups and consensus wired to
the math, checked against the CCAI paper's published figures and the quickstart's data."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest
from cli_runner import CliBuild, run_cli

from ccaic.build import build


@pytest.fixture
def ccai_build(ccai_paper_build: CliBuild) -> Path:
    """The session's CCAI paper build (tests/conftest.py), which must have succeeded."""
    assert ccai_paper_build.code == 0, ccai_paper_build.stderr
    return ccai_paper_build.out


def test_ccai_2023_paper_figures(ccai_build: Path) -> None:
    """Ground truth: the CCAI paper (ccai-facts.md): 1,002 participants, 275 statements, two
    groups, GAC mean 0.64, median 0.70, min 0.04, max 0.96, threshold 0.723."""
    a = json.loads((ccai_build / "assemblies" / "ccai_us_2023.json").read_text())
    assert a["participants"] == 1002
    assert a["statements_in"] == 275
    assert a["groups"]["k"] == 2
    gac = [s["gac"] for s in a["statements"] if not s["moderated_out"]]
    assert len(gac) == 275
    assert round(statistics.mean(gac), 2) == 0.64
    assert round(statistics.median(gac), 2) == 0.70
    assert round(min(gac), 2) == 0.04
    assert round(max(gac), 2) == 0.96
    assert a["consensus"]["threshold"] == 0.723
    selected = [s for s in a["statements"] if s["selected"]]
    assert all(s["gac"] >= 0.723 for s in selected)
    assert all(s["gac"] < 0.723 for s in a["statements"]
               if not s["selected"] and not s["moderated_out"])
    # the paper: "116 statements merged into 75 principles"
    assert len(a["selection"]) == 116


def test_ccai_2023_moderation_is_accounted_for(ccai_build: Path) -> None:
    a = json.loads((ccai_build / "assemblies" / "ccai_us_2023.json").read_text())
    rules = {m["rule"].split(" because")[0]: m for m in a["moderation"]}
    toss = rules['drop participants listed in file("${var.data}/ids-to-toss.csv")']
    few = rules["drop participants where votes <= 25"]
    assert toss["removed"] == len(toss["ids"]) > 0
    assert few["removed"] == len(few["ids"]) > 0
    implicit, *written = a["moderation"]
    assert implicit["location"] == "implicit"
    # relative to the built .ccai file's folder (examples/ccai-2023): no absolute path
    assert all(m["location"].startswith("../../assemblies/ccai-2023.ccai:") for m in written)


def test_ccai_2023_rejected_statements_are_counted(ccai_build: Path) -> None:
    """Polis's rejected statements (-1) go before any rule, under a rule of their own: every
    statement that is not kept is removed by exactly one listed rule."""
    a = json.loads((ccai_build / "assemblies" / "ccai_us_2023.json").read_text())
    comments = (Path(__file__).resolve().parents[2] / "shared/data/ccai-2023/comments.csv")
    with comments.open(encoding="utf-8") as fh:
        flags = [row["moderated"] for row in csv.DictReader(fh)]
    implicit = a["moderation"][0]
    assert implicit["rule"] == "drop statements where moderated == -1 or meta"
    assert implicit["removed"] == flags.count("-1") == 655
    keep = next(m for m in a["moderation"] if m["rule"] == "keep statements where moderated == 1")
    assert keep["removed"] == flags.count("0") == 488
    removed = sum(m["removed"] for m in a["moderation"] if "statements" in m["rule"].split()[1])
    assert removed + a["statements_in"] == len(flags)


def test_ccai_2023_votes_add_up(ccai_build: Path) -> None:
    """Votes read = used + dropped; participants dropped by moderation count their votes."""
    a = json.loads((ccai_build / "assemblies" / "ccai_us_2023.json").read_text())
    prov = a["provenance"]
    assert prov["rows_read"] == prov["rows_used"] + sum(prov["dropped"].values())
    gone = {i for m in a["moderation"] if m["rule"].startswith("drop participants")
            for i in m["ids"]}
    pv = Path(__file__).resolve().parents[2] / "shared/data/ccai-2023/participants-votes.csv"
    with pv.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    cols = [i for i, h in enumerate(rows[0]) if h.isdigit()]
    votes = sum(1 for r in rows[1:] if r[0] in gone for i in cols if i < len(r) and r[i].strip())
    assert len(gone) == 124 and votes == 2665
    assert prov["dropped"]["participant removed by moderation"] == votes


def test_ccai_2023_grouping_changes_the_selection(ccai_build: Path) -> None:
    """The selection depends on the grouping; the build must show it."""
    a = json.loads((ccai_build / "assemblies" / "ccai_us_2023.json").read_text())
    compared = a["stability"]["groupings"]
    assert compared["k"]["declared"] == 2
    assert compared["jaccard"]["declared vs polis"] < compared["jaccard"]["declared vs export"]
    freq = a["stability"]["bootstrap"]["frequency"]
    assert set(a["selection"]) <= set(freq)


def test_ccai_2023_constitution_has_provenance(ccai_build: Path) -> None:
    c = json.loads((ccai_build / "constitutions" / "public.json").read_text())
    assert len(c["principles"]) == 116
    for p in c["principles"]:
        assert p["text"].startswith("Choose the response that ")
        assert len(p["sources"]) == 1 and p["sources"][0]["gac"] >= 0.723
    assert c["selection"]["threshold"] == 0.723
    assert [s["id"] for s in c["selection"]["statements"]] == [
        p["sources"][0]["id"] for p in c["principles"]]


def test_quickstart_builds_and_rebuilds_identically(tmp_path: Path, repo: Path) -> None:
    spec = str(repo / "examples" / "quickstart" / "quickstart.ccai")
    first = build(spec, str(tmp_path / "a"), [], until="plan")
    second = build(spec, str(tmp_path / "b"), [], until="plan")
    assert first.ok and second.ok, [d.message for d in first.diagnostics]
    for artifact in first.artifacts:
        assert (tmp_path / "a" / artifact.path).read_bytes() == \
            (tmp_path / "b" / artifact.path).read_bytes()
    again = build(spec, str(tmp_path / "a"), [], until="plan")
    assert not again.changed
    a = json.loads((tmp_path / "a" / "assemblies" / "quickstart.json").read_text())
    assert a["participants"] == 300
    assert 0 < len(a["selection"]) <= 20


def test_data_errors_point_at_the_data_and_the_spec(tmp_path: Path, repo: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "comments.csv").write_text(
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1,,0,0,0,0,1,hello\n")
    (data / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n"
                                    "2,,0,1,1\n3,,0,2,maybe\n")
    code, _, text = run_cli(["build", str(repo / "examples" / "quickstart" / "quickstart.ccai"),
                             "--var", f"data={data}", "-o", str(tmp_path / "out")])
    assert code == 1
    assert "votes.csv:3:" in text and "error[CCAI4" in text
    assert "the source is declared here" in text
    assert "Traceback" not in text


def test_ccai_2023_build_output_shows_the_moderation(ccai_paper_build: CliBuild) -> None:
    """The CLI prints what every rule removed, Polis's rejected statements first, and where
    the votes went; the counts add up to the statements and votes read."""
    import re

    assert ccai_paper_build.code == 0, ccai_paper_build.stderr
    err = ccai_paper_build.stderr
    lines = err.splitlines()
    assert lines[0] == ("assembly ccai_us_2023: 1,002 participants, 275 of 1,418 statements "
                        "kept, 2 groups, 116 selected")
    assert lines[1] == ("  implicit: drop statements where moderated == -1 or meta: removed 655 "
                        "statements")
    removed = [int(m.group(1).replace(",", "")) for m in
               (re.search(r"removed ([\d,]+) statements?$", line) for line in lines) if m]
    assert sum(removed) + 275 == 1418
    votes = re.search(r"votes: ([\d,]+) read, ([\d,]+) used, ([\d,]+) dropped", err)
    assert votes is not None
    read, used, dropped = (int(g.replace(",", "")) for g in votes.groups())
    assert read == used + dropped and dropped == 2665
