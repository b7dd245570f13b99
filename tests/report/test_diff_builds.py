"""`ccaic diff` on two build folders or two report.json files: constitution diff + metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from report_fixtures import QUICKSTART, quickstart_maps

from ccaic.report import ReportInputs, write_reports


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The quickstart as is (threshold 0.6, top 20) and with threshold 0.65."""
    from ccaic.build import build

    root = tmp_path_factory.mktemp("builds")
    strict = root / "strict.ccai"
    strict.write_text(QUICKSTART.read_text("utf-8").replace("threshold = 0.6",
                                                            "threshold = 0.65"), "utf-8")
    data = f"data={QUICKSTART.parent / 'data'}"
    dirs = []
    for name, source in (("a", QUICKSTART), ("b", strict)):
        out = root / name
        assert build(str(source), str(out), [data], until="constitution").ok
        write_reports(out, ReportInputs.from_build_dir(out, opinion_maps=quickstart_maps()))
        dirs.append(out)
    return dirs[0], dirs[1]


def test_diff_two_build_folders_markdown(builds: tuple[Path, Path]) -> None:
    a, b = builds
    code, out, err = run_cli(["diff", str(a), str(b), "--format", "markdown", "--matcher",
                             "tfidf", "--detailed-exitcode"])
    assert code == 2, err
    assert "removed" in out.lower()  # the constitution diff comes first
    metrics = out.index("### Metrics:")
    assert out.index("principle") < metrics
    assert "| statements selected | 17 | 8 | -9 |" in out[metrics:]
    assert "**constitution quickstart**" in out and "| principles | 17 | 8 | -9 |" in out


def test_diff_two_report_files_json_and_text(builds: tuple[Path, Path]) -> None:
    a, b = builds
    code, out, _ = run_cli(["diff", str(a / "report.json"), str(b / "report.json"),
                           "--format", "json", "--matcher", "tfidf"])
    assert code == 0
    body = json.loads(out)
    assert body["summary"] and body["metrics"]["format_version"] == "1.0"
    row = next(m for m in body["metrics"]["metrics"] if m["metric"] == "statements selected")
    assert (row["a"], row["b"], row["delta"]) == (17, 8, -9)
    code, out, _ = run_cli(["diff", f"{a}#quickstart", str(b), "--matcher", "tfidf"])
    assert code == 0 and "statements selected: 17 -> 8  (-9)" in out


def test_same_build_has_no_metric_change(builds: tuple[Path, Path]) -> None:
    a, _ = builds
    code, out, _ = run_cli(["diff", str(a), str(a), "--matcher", "tfidf", "--detailed-exitcode"])
    assert code == 0 and "no metric changed" in out


def test_folder_problems_are_diagnostics(builds: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = builds
    (tmp_path / "constitutions").mkdir()
    code, _, err = run_cli(["diff", str(tmp_path), str(a), "--matcher", "tfidf"])
    assert code == 1 and "CCAI474" in err and "Traceback" not in err
    code, _, err = run_cli(["diff", f"{a}#nope", str(a), "--matcher", "tfidf"])
    assert code == 1 and "CCAI474" in err
