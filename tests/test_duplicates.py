"""Near-duplicate statements (issue 19): `duplicate_of` in rules, every decision in the artifact."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from ccaic.assembly.duplicates import clusters, find_duplicates, similarity_matrix
from ccaic.check.checker import check_paths
from tests.cli_runner import run_cli

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "data"
SPEC = """
assembly "a" {
  source polis { path = "data" }
  moderation {
    keep statements where moderated == 1
    drop statements where duplicate_of != null because "near-duplicate"
  }
  groups polis { k = 2 }
  consensus gac { threshold = 0.6 }
}
"""


def _reworded(tmp_path: Path) -> Path:
    """The quickstart data with statement 13 reworded into a duplicate of statement 0."""
    data = tmp_path / "data"
    shutil.copytree(QUICKSTART, data)
    path = data / "comments.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        if row[2] == "13":
            row[7] = "The AI should always tell the truth, even when that truth is unwelcome"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    spec = tmp_path / "a.ccai"
    spec.write_text(SPEC, encoding="utf-8")
    return spec


def test_a_reworded_statement_is_dropped_and_the_decision_recorded(tmp_path: Path) -> None:
    spec = _reworded(tmp_path)
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "assemblies"])
    assert code == 0, err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "a.json").read_text())
    rule = next(m for m in artifact["moderation"] if "duplicate_of" in m["rule"])
    assert rule["ids"] == ["13"]
    decisions = rule["duplicates"]["decisions"]
    assert [(d["id"], d["duplicate_of"]) for d in decisions] == [("13", "0")]
    assert decisions[0]["similarity"] >= rule["duplicates"]["threshold"]
    assert rule["duplicates"]["matcher"] == "embedding"
    assert "13" not in artifact["selection"]


def test_rules_without_duplicate_of_record_nothing(tmp_path: Path) -> None:
    spec = _reworded(tmp_path)
    spec.write_text(SPEC.replace('    drop statements where duplicate_of != null because '
                                 '"near-duplicate"\n', ""), encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "assemblies"])
    assert code == 0, err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "a.json").read_text())
    assert all("duplicates" not in m for m in artifact["moderation"])


def test_tfidf_fallback_finds_the_same_duplicate() -> None:
    texts = ["The AI should tell the truth even when the truth is unwelcome",
             "The AI should not help anyone build a weapon",
             "The AI should always tell the truth, even when that truth is unwelcome"]
    found = find_duplicates(["0", "1", "2"], texts, matcher="tfidf")
    assert found.matcher == "tfidf"
    assert [(d.id, d.duplicate_of) for d in found.decisions] == [("2", "0")]


def test_clusters_are_complete_linkage_and_deterministic() -> None:
    texts = ["The AI should be kind", "AI should be very kind", "The AI should not lie",
             "AI should never lie to users", "The AI should cite its sources"]
    sim = similarity_matrix(texts, "embedding")
    first = clusters(sim, 0.8)
    assert first == clusters(similarity_matrix(texts, "embedding"), 0.8)
    for group in first:
        assert all(sim[i, j] >= 0.8 for i in group for j in group)
    assert [0, 1] in first and [4] in first


@pytest.mark.parametrize(("condition", "message"), [
    ("duplicate_of < null", "null has no order"),
    ("votes == null", "`votes` is a number, compared with null"),
    ("meta == null", "`meta` is true or false, compared with null"),
])
def test_null_comparisons_that_mean_nothing_are_errors(condition: str, message: str) -> None:
    text = SPEC.replace("duplicate_of != null", condition)
    _, diagnostics = check_paths(["-"], text)
    assert [d.code for d in diagnostics if d.is_error] == ["CCAI206"]
    assert message in diagnostics[0].message


def test_duplicate_of_is_a_known_field() -> None:
    _, diagnostics = check_paths(["-"], SPEC)
    assert not [d for d in diagnostics if d.is_error]


def test_duplicate_of_without_statement_texts_is_ccai419(tmp_path: Path) -> None:
    """Without texts every statement would look alike (and all but one be dropped)."""
    spec = tmp_path / "a.ccai"
    spec.write_text(f'''
assembly "a" {{
  source votes_csv {{ path = "{QUICKSTART / 'votes.csv'}" }}
  moderation {{
    drop statements where duplicate_of != null
  }}
  groups kmeans {{ k = 2 }}
  consensus gac {{ threshold = 0.6 }}
}}
''', encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "assemblies"])
    assert code == 1
    assert "CCAI419" in err and "`duplicate_of`" in err and "has no statement texts" in err


def test_duplicate_decisions_are_byte_identical_across_builds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCAIC_CACHE_DIR", "off")  # both builds compute, neither is a cache hit
    spec = _reworded(tmp_path)
    texts = []
    for out in ("one", "two"):
        code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / out),
                                "--until", "assemblies"])
        assert code == 0, err
        texts.append((tmp_path / out / "assemblies" / "a.json").read_bytes())
    assert texts[0] == texts[1]


def test_duplicate_of_compares_as_an_id(tmp_path: Path) -> None:
    """`duplicate_of == "0.0"` names statement 0 as `id == "0.0"` does."""
    spec = _reworded(tmp_path)
    spec.write_text(SPEC.replace("duplicate_of != null", 'duplicate_of == "0.0"'),
                    encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "assemblies"])
    assert code == 0, err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "a.json").read_text())
    assert next(m for m in artifact["moderation"] if "duplicate_of" in m["rule"])["ids"] == ["13"]


def test_the_report_lists_every_near_duplicate_decision(tmp_path: Path) -> None:
    """The moderation-time report of duplicates: report.json's moderation entry and a table."""
    spec = _reworded(tmp_path)
    spec.write_text(SPEC + 'constitution "c" { from = assembly.a }\n', encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "constitution"])
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    rule = next(m for m in report["assemblies"]["a"]["moderation"]
                if "duplicate_of" in (m["rule"] or ""))
    assert [(d["id"], d["duplicate_of"]) for d in rule["duplicates"]["decisions"]] == [("13", "0")]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "### Near-duplicates" in md
    assert "| 13 | 0 | 0.98" in md and "embedding >= 0.9" in md


@pytest.mark.parametrize(("similarity", "dropped"), [(0.99, []), (0.95, ["13"])])
def test_the_moderation_block_sets_the_duplicate_threshold(
        tmp_path: Path, similarity: float, dropped: list[str]) -> None:
    """Statement 13 repeats statement 0 at 0.984: a 0.99 threshold keeps it, 0.95 drops it."""
    spec = _reworded(tmp_path)
    spec.write_text(SPEC.replace("  moderation {\n", "  moderation {\n    duplicate_similarity"
                                 f" = {similarity}\n"), encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "assemblies"])
    assert code == 0, err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "a.json").read_text())
    rule = next(m for m in artifact["moderation"] if "duplicate_of" in m["rule"])
    assert rule["ids"] == dropped and rule["duplicates"]["threshold"] == similarity


def test_duplicate_similarity_outside_0_1_is_an_error() -> None:
    _, diagnostics = check_paths(["-"], SPEC.replace("  moderation {\n", "  moderation {\n"
                                                     "    duplicate_similarity = 1.5\n"))
    assert [d.code for d in diagnostics if d.is_error] == ["CCAI207"]


@pytest.mark.parametrize(("rule", "warned"), [
    ('drop statements where duplicate_of != null because "near-duplicate"', []),
    ('drop statements where votes < 2 or not (duplicate_of == null)', []),
    ('drop statements where votes < 2', ["CCAI217"]),
    ('drop participants where votes < 2', ["CCAI217"]),
])
def test_duplicate_similarity_without_a_duplicate_of_rule_is_ignored(rule: str,
                                                                     warned: list[str]) -> None:
    """The threshold acts only for a statement rule reading `duplicate_of` (issue 19): alone it
    did nothing, silently; now CCAI217 at the attribute, as the other unused settings."""
    text = SPEC.replace('    drop statements where duplicate_of != null because "near-duplicate"',
                        f"    duplicate_similarity = 0.95\n    {rule}")
    _, diagnostics = check_paths(["-"], text)
    assert [d.code for d in diagnostics] == warned
    assert all(d.span is not None and (d.span.line, d.span.column) == (6, 5)
               for d in diagnostics)
