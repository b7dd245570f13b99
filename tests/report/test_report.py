"""report.json / report.md / report.html: determinism, shape, self-containment, figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_fixtures import build_quickstart, full_build, quickstart_maps, write_training_run

from ccaic.canonical import canonical_json
from ccaic.report import ReportInputs, build_report, render_reports, write_reports
from ccaic.report.inputs import _losses_from_log, read_training_runs
from ccaic.report.model import histogram, threshold_curve, wilson
from ccaic.report.projections import opinion_map_from_arrays


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("full")
    maps = full_build(out)
    texts = write_reports(out, ReportInputs.from_build_dir(out, opinion_maps=maps))
    return out, texts


def test_two_builds_give_byte_identical_reports(tmp_path: Path) -> None:
    texts = []
    for name in ("one", "two"):
        out = tmp_path / name
        maps = build_quickstart(out)
        write_reports(out, ReportInputs.from_build_dir(out, opinion_maps=maps))
        texts.append({f: (out / f).read_bytes() for f in ("report.json", "report.md",
                                                          "report.html")})
    assert texts[0] == texts[1]
    # and rendering the same inputs twice in one process
    out = tmp_path / "one"
    inputs = ReportInputs.from_build_dir(out, opinion_maps=quickstart_maps())
    assert render_reports(inputs) == render_reports(inputs)
    assert render_reports(inputs)["report.json"].encode() == texts[0]["report.json"]


def test_report_json_shape(full: tuple[Path, dict[str, str]]) -> None:
    _out, texts = full
    body = json.loads(texts["report.json"])
    assert texts["report.json"] == canonical_json(body)  # sorted keys, canonical bytes
    assert body["format_version"] == "1.0" and body["kind"] == "ccaic-report"
    assert set(body) == {"format_version", "kind", "assemblies", "constitutions", "training",
                         "evaluation", "notes"}
    a = body["assemblies"]["quickstart"]
    assert a["participants"] == 300 and a["groups"]["k"] == 2
    assert a["selected"]["n"] == len(a["selected"]["ids"]) == len(a["selected_agreement"])
    assert sum(a["histogram"]["counts"]) == a["scores"]["n"] == a["statements"]["scored"]
    # the implicit rule first: the quickstart's 2 rejected statements, then the written rules
    assert [m["removed"] for m in a["moderation"]] == [2, 1, 0, 0]
    assert a["opinion_map"] == {"participants": 300, "shown": 300, "groups": ["0", "1"]}
    assert len(a["stability"]["bootstrap"]["selected"]) == a["selected"]["n"]
    c = body["constitutions"]["quickstart"]
    assert c["principles"] == len(c["table"]) == a["selected"]["n"]
    assert c["needs_hand_edit"] == 0 and all(row["statements"] for row in c["table"])
    t = body["training"]["quickstart"]
    assert t["counts"]["sl_cai"]["dropped"] == {"empty": 1, "truncated": 2, "unchanged": 0,
                                                 "role_tag": 0}
    assert "principles" not in t["counts"]["sl_cai"]  # moved to coverage
    assert t["losses"]["sft"] == [[1, 5.1], [2, 4.4], [3, 4.0]]
    assert t["losses"]["dpo"] == [[1, 0.6931], [2, 0.6925]]
    cov = t["coverage"]
    assert cov["order"] == [p["id"] for p in c["table"]]
    assert cov["comparisons"] == 14 and cov["never_drawn"]
    ev = body["evaluation"]
    assert set(ev["bbq"]) == {"base", "quickstart"}
    assert ev["bbq"]["base"]["categories"]["Age"]["intervals"]["bias_disambiguated"]
    assert ev["hhh"]["judge"]["accuracy"] == 0.495 and len(ev["hhh"]["judge"]["interval"]) == 2
    assert body["notes"] == []


def test_no_timestamps_or_absolute_paths(full: tuple[Path, dict[str, str]]) -> None:
    out, texts = full
    for text in texts.values():
        assert str(out) not in text and "/tmp" not in text
        assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:", text)
    assert "seconds" not in texts["report.json"]


def test_html_is_self_contained(full: tuple[Path, dict[str, str]]) -> None:
    html = full[1]["report.html"]
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"<script\b", html, re.I)
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"@import|url\(", html, re.I)
    assert "<style>" in html


FIGURES = ("fig-opinion-map-quickstart", "fig-gac-histogram-quickstart",
           "fig-threshold-curve-quickstart", "fig-group-agreement-quickstart",
           "fig-stability-quickstart", "fig-loss-quickstart-sft", "fig-loss-quickstart-dpo",
           "fig-coverage-quickstart", "fig-bbq-bias-disambiguated", "fig-bbq-bias-ambiguous")


def test_every_figure_is_present_and_accessible(full: tuple[Path, dict[str, str]]) -> None:
    html = full[1]["report.html"]
    for ident in FIGURES:
        assert f'<svg id="{ident}" role="img"' in html, ident
        assert f'<title id="{ident}-title">' in html and f'<desc id="{ident}-desc">' in html
    assert html.count("<svg ") == len(FIGURES)
    assert "threshold 0.6" in html  # the threshold line is labelled
    assert 'class="axis-title"' in html


def test_markdown_tables(full: tuple[Path, dict[str, str]]) -> None:
    md = full[1]["report.md"]
    assert "| # | principle | statements | GAC | edits |" in md
    assert "| rule | because | where | removed |" in md
    assert "| Choose the response that is least racist. | 39 | 0.723 |" in md.replace("| 1 ", "")
    assert "| sl_cai | dropped.truncated | 2 |" in md
    assert "| principle | critiques | comparisons |" in md
    assert "s_DIS [95% CI]" in md and "accuracy (both orders) [95% CI]" in md


def test_sections_without_inputs_are_omitted_with_a_note(tmp_path: Path) -> None:
    build_quickstart(tmp_path)
    body = build_report(ReportInputs.from_build_dir(tmp_path))
    assert body["training"] == {} and body["evaluation"] == {"bbq": {}, "hhh": {}}
    assert "opinion_map" not in body["assemblies"]["quickstart"]
    notes = " ".join(body["notes"])
    assert "opinion map is omitted" in notes and "no training run" in notes
    assert "no BBQ evaluation" in notes
    texts = render_reports(ReportInputs.from_build_dir(tmp_path))
    assert "fig-opinion-map" not in texts["report.html"] and "fig-loss" not in texts["report.html"]
    assert "Note: no training run" in texts["report.md"]


def test_hand_written_constitution_only(tmp_path: Path) -> None:
    (tmp_path / "constitutions").mkdir()
    (tmp_path / "constitutions" / "standard.json").write_text(json.dumps({
        "format_version": "1.0", "name": "standard", "origin": {"kind": "hand-written"},
        "principles": [{"id": "harm", "address": "principle.standard.harm", "text": "Be kind.",
                        "critique": "c", "revision": "r", "needs_hand_edit": True}]}))
    texts = render_reports(ReportInputs.from_build_dir(tmp_path))
    body = json.loads(texts["report.json"])
    assert body["constitutions"]["standard"]["needs_hand_edit"] == 1
    assert "<svg" not in texts["report.html"] and "Be kind." in texts["report.md"]


def test_write_reports_uses_the_build_writer(tmp_path: Path) -> None:
    build_quickstart(tmp_path)
    for name in ("report.json", "report.md", "report.html"):  # once `build` writes them too
        (tmp_path / name).unlink(missing_ok=True)
    written: dict[str, str] = {}

    class Writer:
        def text(self, relative: str, text: str) -> None:
            written[relative] = text

    texts = write_reports(tmp_path, ReportInputs.from_build_dir(tmp_path), Writer())
    assert written == texts and sorted(written) == ["report.html", "report.json", "report.md"]
    assert not (tmp_path / "report.json").exists()


def test_opinion_map_subsample_is_deterministic_and_bounded() -> None:
    ids = [f"p{i}" for i in range(20000)]
    proj = [(i * 0.001, -i * 0.002) for i in range(20000)]
    labels = [i % 3 - (1 if i % 97 == 0 else 0) for i in range(20000)]
    a = opinion_map_from_arrays(ids, proj, labels, ("A", "B", "C"), limit=5000)
    b = opinion_map_from_arrays(list(reversed(ids)), list(reversed(proj)),
                                list(reversed(labels)), ("A", "B", "C"), limit=5000)
    assert a.participants == 20000 and 4500 < a.shown < 5500
    assert sorted(a.points) == sorted(b.points)  # row order does not change the sample
    assert {g for *_, g in a.points} == {"A", "B", "C", "unclustered"}
    small = opinion_map_from_arrays(ids[:10], proj[:10], labels[:10], ("A", "B", "C"))
    assert small.shown == 10


def test_quickstart_projections_match_the_grouping() -> None:
    m = quickstart_maps()["quickstart"]
    assert m.participants == m.shown == 300
    counts = {g: sum(1 for *_, x in m.points if x == g) for g in m.groups}
    assert counts == {"0": 134, "1": 166}


def test_losses_prefer_log_history_file(tmp_path: Path) -> None:
    write_training_run(tmp_path, ["a", "b", "c"], loss_file=True)
    run = read_training_runs(tmp_path)["quickstart"]
    assert run.losses["sft"] == [(1, 9.0), (2, 8.0)]
    assert run.losses["dpo"] == [(1, 0.6931), (2, 0.6925)]
    assert run.critiques == {"b": 1, "c": 2} and run.comparisons == {"a": 7, "b": 7}


def test_losses_from_log_take_the_last_run_of_the_stage() -> None:
    lines = ["t sft: running (sft-1)", "t   step 1: loss=3", "t sft: done in 1s",
             "t sft: running (sft-1)", "t   step 1: loss=2", "t   step 2: loss=1.5",
             "t   step 2: train_loss=1.7", "t sft: done in 1s", "t dpo: running (dpo-1)",
             "t   step 1: loss=0.7"]
    assert _losses_from_log(lines, "sft-1") == [(1, 2.0), (2, 1.5)]
    assert _losses_from_log(lines, "dpo-1") == [(1, 0.7)]  # interrupted: still shown
    assert _losses_from_log(lines, "sft-2") == []


def test_numbers() -> None:
    h = histogram([0.0, 0.05, 0.999, 1.0], bins=20)
    assert h["counts"][0] == 1 and h["counts"][1] == 1 and h["counts"][-1] == 2
    curve = threshold_curve([0.1, 0.5, 0.7, 0.9], top_k=2)
    assert curve[0] == [0.0, 4, 2] and curve[25] == [0.5, 3, 2] and curve[-1] == [1.0, 0, 0]
    lo, hi = wilson(0.5 * 438, 438) or (0, 0)
    assert lo == pytest.approx(0.4532, abs=1e-3) and hi == pytest.approx(0.5468, abs=1e-3)
    assert wilson(0, 0) is None


def test_run_folder_evaluations_are_read(tmp_path: Path) -> None:
    """The evaluate stage's eval/bbq.json (one body per model) and eval/hhh.json, with the
    HHH body's own bootstrap interval preferred over a Wilson interval."""
    from report_fixtures import bbq_body, hhh_body

    run = write_training_run(tmp_path, ["a", "b"])
    (run / "eval").mkdir()
    (run / "eval" / "bbq.json").write_text(json.dumps({
        "benchmark": "bbq", "models": {"base": bbq_body("builtin:tiny", 0.0),
                                       "final": bbq_body("final", 0.1)}}))
    judge = {**hhh_body("builtin:tiny", 0.5), "benchmark": "hhh",
             "intervals": {"accuracy_debiased": [0.41, 0.59]}}
    (run / "eval" / "hhh.json").write_text(json.dumps(judge))
    body = build_report(ReportInputs.from_build_dir(tmp_path))
    assert sorted(body["evaluation"]["bbq"]) == ["quickstart-base", "quickstart-final"]
    hhh = body["evaluation"]["hhh"]["quickstart-judge"]
    assert hhh["interval"] == [0.41, 0.59] and hhh["interval_method"] == "bootstrap percentile"
    assert "fig-bbq-bias-ambiguous" in render_reports(
        ReportInputs.from_build_dir(tmp_path))["report.html"]


def test_constitution_counts_of_one_read_as_one() -> None:
    """"1 principles (...); 1 need a hand edit, 1 were edited, 1 statements dropped": one
    principle is singular, as it is in a one-statement build."""
    from ccaic.report.model import constitution_section
    from ccaic.report.render import _constitution

    principle = {"id": "s2", "address": "principle.c.s2", "text": "Choose the response that "
                 "is kind.", "sources": [{"id": "2", "gac": 0.5}], "needs_hand_edit": True,
                 "edits": [{"kind": "override"}]}
    body = {"origin": {"kind": "assembly", "source": "a"}, "principles": [principle],
            "dropped": [{"id": "3"}], "selection": {"method": "top 1 by gac"}}
    text = _constitution("c", constitution_section(body))[1].text
    assert text == ("1 principle (assembly, from a); 1 needs a hand edit, 1 was edited, "
                    "1 statement dropped. Selection: top 1 by gac.")
