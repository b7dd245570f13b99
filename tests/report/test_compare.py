"""compare_reports: metric deltas between two report.json bodies, with intervals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import bbq_body, build_quickstart, hhh_body, write_training_run

from ccaic.report import ReportInputs, build_report
from ccaic.report.compare import compare_reports, to_json, to_markdown, to_text


def _report(out: Path, shift: float, judge: float, principles: list[str] | None = None
            ) -> dict[str, Any]:
    inputs = ReportInputs.from_build_dir(out)
    inputs.evaluations = {"model": bbq_body("m", shift), "judge": hhh_body("j", judge)}
    if principles is not None:
        from ccaic.report.inputs import read_training_runs

        write_training_run(out, principles)
        inputs.training = read_training_runs(out)
    return json.loads(json.dumps(build_report(inputs)))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    out = tmp_path_factory.mktemp("cmp")
    build_quickstart(out)
    a = _report(out, 0.0, 0.50, ["s1", "s3"])
    b = json.loads(json.dumps(a))
    b["evaluation"] = _report(out, 0.1, 0.60)["evaluation"]
    b["assemblies"]["quickstart"]["selected"]["n"] = 15
    b["training"]["quickstart"]["counts"]["sl_cai"]["dropped"]["truncated"] = 5
    return a, b


def _row(diff: Any, section: str, metric: str) -> Any:
    return next(r for r in diff.rows if r.section == section and r.metric == metric)


def test_identical_reports_have_no_changes(reports: tuple[dict[str, Any], dict[str, Any]]
                                           ) -> None:
    a, _ = reports
    diff = compare_reports(a, a)
    assert diff.rows and diff.changed == []
    assert "no metric changed" in to_text(diff)
    assert "No metric changed." in to_markdown(diff)


def test_deltas_and_intervals(reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = reports
    diff = compare_reports(a, b, "public", "standard")
    sel = _row(diff, "assembly quickstart", "statements selected")
    assert (sel.a, sel.b, sel.delta) == (17.0, 15.0, -2.0)
    trunc = _row(diff, "training quickstart", "sl_cai.dropped.truncated")
    assert (trunc.a, trunc.b, trunc.delta) == (2.0, 5.0, 3.0)
    age = _row(diff, "bbq model: Age", "bias_disambiguated")
    assert age.delta == pytest.approx(-0.1)
    assert age.a_interval == [0.05, 0.35] and age.b_interval == [-0.05, 0.25]
    assert age.overlap is True
    hhh = _row(diff, "hhh judge", "judge accuracy")
    assert hhh.delta == pytest.approx(0.1) and hhh.overlap is False
    assert hhh.a_interval is not None and hhh.a_interval[0] < 0.5 < hhh.a_interval[1]
    assert _row(diff, "bbq model: overall", "bias_ambiguous").delta == pytest.approx(-0.05)


def test_markdown_is_a_table_per_section(reports: tuple[dict[str, Any], dict[str, Any]]
                                         ) -> None:
    a, b = reports
    md = to_markdown(compare_reports(a, b, "public", "standard"))
    assert md.startswith("### Metrics: public → standard")
    assert "| metric | public | standard | Δ |\n|---|---|---|---|" in md
    assert "| statements selected | 17 | 15 | -2 |" in md
    assert "| public 95% CI | standard 95% CI | CIs overlap |" in md
    assert "| judge accuracy | 0.500 | 0.600 | +0.100 |" in md and "**no**" in md
    full = to_markdown(compare_reports(a, b), all_rows=True)
    assert "| participants | 300 | 300 | 0 |" in full


def test_json_and_text(reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = reports
    diff = compare_reports(a, b)
    body = json.loads(to_json(diff))
    assert body["format_version"] == "1.0" and to_json(diff) == to_json(compare_reports(a, b))
    row = next(m for m in body["metrics"] if m["metric"] == "judge accuracy")
    assert set(row) == {"section", "metric", "a", "b", "delta", "a_interval", "b_interval",
                        "overlap"}
    text = to_text(diff)
    assert "statements selected: 17 -> 15  (-2)" in text


def test_one_sided_sections_and_renamed_pairs(reports: tuple[dict[str, Any], dict[str, Any]]
                                              ) -> None:
    a, _ = reports
    standard = {"format_version": "1.0", "assemblies": {}, "training": {},
                "constitutions": {"standard": {"principles": 58, "needs_hand_edit": 0,
                                               "edited": 0, "dropped": 0}},
                "evaluation": {"bbq": {}, "hhh": {}}}
    diff = compare_reports(a, standard, "public", "standard")
    # one constitution each, different names: paired
    p = _row(diff, "constitution quickstart → standard", "principles")
    assert (p.a, p.b, p.delta) == (17.0, 58.0, 41.0)
    # assembly on one side only: shown with the other side missing
    sel = _row(diff, "assembly quickstart", "statements selected")
    assert sel.b is None and sel.delta is None and sel in diff.changed
    assert "| statements selected | 17 | — | — |" in to_markdown(diff)


def test_a_change_of_method_is_noted(reports: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Builds that score an assembly by different methods: the consensus deltas compare a GAC
    product with a bridging intercept, and the diff says so (it printed the deltas bare)."""
    a, _ = reports
    b = json.loads(json.dumps(a))
    b["assemblies"]["quickstart"]["consensus"]["score"] = "bridging"
    note = ("assembly quickstart: scored by gac in public and by bridging in standard; its "
            "consensus mean, median, min and max compare two methods")
    assert note in compare_reports(a, b, "public", "standard").notes
    assert f"  note: {note}" in to_text(compare_reports(a, b, "public", "standard"))
    assert not any("scored by" in n for n in compare_reports(a, a).notes)
