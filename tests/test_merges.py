"""`ccaic suggest merges` (issue 19): deterministic groups, ready-to-paste `merge` blocks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ccaic.build import run_until
from ccaic.constitution.merges import ccai_string, draft_text
from ccaic.constitution.model import StatementRef
from ccaic.syntax.parser import parse
from tests.cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
PAPER_EXAMPLE = {"2", "150", "575"}  # the CCAI team's own merge example


@pytest.fixture(scope="module")
def ccai_merges() -> str:
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    if not data.is_dir():
        pytest.skip("../shared/data is absent: this test reads the real CCAI data")
    code, out, err = run_cli(["suggest", "merges", str(REPO / "constitutions" / "public.ccai"),
                              "--var", f"data={data}"])
    assert code == 0, err
    return out


def _groups(text: str) -> list[set[str]]:
    return [set(re.findall(r"\d+", m)) for m in re.findall(r"statements = \[([^\]]*)\]", text)]


def test_ccai_2023_puts_the_paper_example_in_one_group(ccai_merges: str) -> None:
    """At the documented threshold (docs/merges.md) 116 statements become 71 principles."""
    assert ccai_merges.startswith("# assembly ccai_us_2023: 116 selected statements -> 71 "
                                  "principles (32 merges, embedding similarity >= 0.74")
    assert PAPER_EXAMPLE in _groups(ccai_merges)
    groups = _groups(ccai_merges)
    assert len(groups) == 32
    merged = sum(len(g) for g in groups)
    assert 116 - merged + len(groups) == 71
    # the page's own count of them (it said 85 statements were left as they are: 116 - 31)
    page = (REPO / "docs" / "merges.md").read_text(encoding="utf-8")
    assert (f"(32 merge blocks of {merged} statements, {116 - merged} statements left as they "
            "are)") in page.replace("\n", " ")


def test_suggestions_are_byte_identical_across_runs(ccai_merges: str) -> None:
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    _, again, _ = run_cli(["suggest", "merges", str(REPO / "constitutions" / "public.ccai"),
                           "--var", f"data={data}"])
    assert again == ccai_merges


def test_pasted_blocks_build_the_suggested_constitution(ccai_merges: str, tmp_path: Path
                                                        ) -> None:
    spec = tmp_path / "merged.ccai"
    spec.write_text(
        f'import "{REPO / "assemblies" / "ccai-2023.ccai"}"\n\n'
        'constitution "merged" {\n  from = assembly.ccai_us_2023\n'
        '  template = "Choose the response that {{ statement.text | as_behaviour }}."\n\n'
        + ccai_merges + "}\n", encoding="utf-8")
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    result = run_until("constitution", str(spec), None, [f"data={data}"], report=False)
    assert result.ok, [d.message for d in result.diagnostics]
    (constitution,) = result.constitutions
    assert len(constitution.principles) == 71
    example = next(p for p in constitution.principles if p.id == "m575")
    assert {s.id for s in example.sources} == PAPER_EXAMPLE
    assert example.text.startswith("Choose the response that least discriminates on race")


def test_a_higher_threshold_merges_less(ccai_merges: str) -> None:
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    code, out, err = run_cli(["suggest", "merges", str(REPO / "constitutions" / "public.ccai"),
                              "--var", f"data={data}", "--threshold", "0.8"])
    assert code == 0, err
    assert len(_groups(out)) < len(_groups(ccai_merges))
    assert all(float(s) >= 0.8 for s in re.findall(r"least similar pair ([0-9.]+)", out))


def test_drafted_text_joins_each_rewrite_most_agreed_first() -> None:
    refs = [StatementRef(id="190", text="The AI should be honest"),
            StatementRef(id="131", text="The AI should tell the truth"),
            StatementRef(id="631", text="Ai should not lie")]
    assert draft_text(refs) == ("Choose the response that is most honest, best tells the truth "
                                "and least lies.", False)


@pytest.mark.parametrize("text", ['say "hi" \\ now', "costs ${var.x} or $5", "two\nlines\t!"])
def test_string_literals_read_back_as_the_text(text: str) -> None:
    tree = parse(f'variable "v" {{\n  default = {ccai_string(text)}\n}}\n', "s.ccai")
    (block,) = tree.blocks("variable")
    assert block.attributes()["default"].value.constant == text


def test_a_file_without_an_assembly_is_ccai480(tmp_path: Path) -> None:
    spec = tmp_path / "hand.ccai"
    spec.write_text('constitution "c" {\n  principle "p" {\n    text = "Choose the response '
                    'that is kind."\n  }\n}\n', encoding="utf-8")
    code, _, err = run_cli(["suggest", "merges", str(spec)])
    assert code == 1
    assert "CCAI480" in err


def test_a_threshold_outside_0_1_is_ccai479() -> None:
    code, _, err = run_cli(["suggest", "merges", "x.ccai", "--threshold", "1.5"])
    assert code == 1
    assert "CCAI479" in err


def _auto_build(tmp_path: Path, extra: str = "", out: Path | None = None) -> object:
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    if not data.is_dir():
        pytest.skip("../shared/data is absent: this test reads the real CCAI data")
    spec = tmp_path / "auto.ccai"
    spec.write_text(
        f'import "{REPO / "assemblies" / "ccai-2023.ccai"}"\n\n'
        'constitution "auto" {\n  from = assembly.ccai_us_2023\n'
        '  template = "Choose the response that {{ statement.text | as_behaviour }}."\n'
        f"  merge auto {{ similarity = 0.74 }}\n{extra}}}\n", encoding="utf-8")
    return run_until("constitution", str(spec), out, [f"data={data}"], report=out is not None)


def test_merge_auto_builds_what_suggest_merges_prints(tmp_path: Path) -> None:
    result = _auto_build(tmp_path, out=tmp_path / "out")
    assert result.ok, [d.message for d in result.diagnostics]
    (auto,) = result.constitutions
    assert len(auto.principles) == 71
    example = next(p for p in auto.principles if p.id == "m575")
    assert {s.id for s in example.sources} == PAPER_EXAMPLE
    assert [(e.kind, e.because) for e in example.edits] == [
        ("merge", "merge auto: embedding similarity >= 0.74")]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    row = next(r for r in report["constitutions"]["auto"]["table"] if r["id"] == "m575")
    assert row["edits"] == ["merge"] and set(row["statements"]) == PAPER_EXAMPLE


def test_merge_auto_leaves_hand_edited_statements_alone(tmp_path: Path) -> None:
    result = _auto_build(tmp_path, '  edit "2" {\n    text = "Choose the response that is '
                                   'least racist or sexist."\n  }\n')
    assert result.ok, [d.message for d in result.diagnostics]
    (auto,) = result.constitutions
    by_id = {p.id: p for p in auto.principles}
    assert by_id["s2"].text == "Choose the response that is least racist or sexist."
    assert {s.id for s in by_id["m575"].sources} == {"575", "150"}


def test_diff_shows_what_merge_auto_changed(tmp_path: Path) -> None:
    from ccaic.diff.report import diff_constitutions

    result = _auto_build(tmp_path)
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    public = run_until("constitution", str(REPO / "constitutions" / "public.ccai"), None,
                       [f"data={data}"], report=False)
    diff = diff_constitutions(public.constitutions[0], result.constitutions[0], "embedding")
    assert diff.summary()["changed"] + diff.summary()["unchanged"] == 71
    changed = {e.after.id for e in diff.entries if e.action == "update" and e.after}
    assert "m575" in changed


def test_merge_auto_takes_no_statement_list() -> None:
    from ccaic.check.checker import check_paths

    _, diagnostics = check_paths(["-"], 'constitution "c" {\n  merge auto {\n'
                                 '    statements = [1]\n  }\n}\n')
    unknown = [d for d in diagnostics if d.code == "CCAI202"]
    assert [d.message for d in unknown] == ["unknown attribute `statements` in merge auto"]


def test_tfidf_is_the_documented_fallback(ccai_merges: str) -> None:
    """docs/merges.md: TF-IDF at its default 0.3 gives 107 principles and, reading words only,
    does not group the paper's example."""
    data = REPO.parent / "shared" / "data" / "ccai-2023"
    code, out, err = run_cli(["suggest", "merges", str(REPO / "constitutions" / "public.ccai"),
                              "--var", f"data={data}", "--matcher", "tfidf"])
    assert code == 0, err
    assert out.startswith("# assembly ccai_us_2023: 116 selected statements -> 107 principles "
                          "(7 merges, tfidf similarity >= 0.3")
    assert PAPER_EXAMPLE not in _groups(out)


def test_a_selection_with_nothing_to_merge_says_so(tmp_path: Path) -> None:
    """One selected statement: "1 selected statements -> 1 principles", then "Paste the
    blocks" with no block to paste; now singular nouns and a line that says nothing merges."""
    spec = tmp_path / "one.ccai"
    quickstart = REPO / "examples" / "quickstart" / "data"
    spec.write_text(f'assembly "a" {{\n  source polis {{ path = "{quickstart}" }}\n'
                    "  groups polis { k = 2 }\n  consensus gac { top_k = 1 }\n}\n\n"
                    'constitution "c" {\n  from = assembly.a\n'
                    '  template = "Choose the response that {{ statement.text }}."\n}\n',
                    encoding="utf-8")
    code, out, err = run_cli(["suggest", "merges", str(spec)])
    assert code == 0, err
    head, note = out.splitlines()
    assert head.startswith("# assembly a: 1 selected statement -> 1 principle (0 merges, ")
    assert note == ("# No two statements are that similar: nothing to merge (a lower "
                    "--threshold groups more).")
