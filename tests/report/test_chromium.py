"""The quickstart build's report.html in headless Chromium (Debian's `chromium` package).

It must render offline with no console message at all (the page has no scripts, so any console
line -- an error, a blocked resource, an uncaught exception -- is a bug), and every figure must
be in the rendered DOM. A control page with a failing script proves the log check can fail.

CCAIC_UPDATE_SCREENSHOT=1 also copies the screenshot to docs/images/report-quickstart.png.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_fixtures import REPO, build_quickstart

from ccaic.report import ReportInputs, write_reports

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "images" / "report-quickstart.png"
FIGURES = ("fig-opinion-map-quickstart", "fig-gac-histogram-quickstart",
           "fig-threshold-curve-quickstart", "fig-group-agreement-quickstart",
           "fig-stability-quickstart")
CONSOLE = re.compile(r"CONSOLE|Uncaught", re.I)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason="/usr/bin/chromium is absent (apt-get install -y chromium to run this test)")


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """One headless run with logging on stderr (console lines are INFO: --log-level=0)."""
    args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr",
            "--v=0", "--log-level=0", *extra, page.resolve().as_uri()]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quickstart")
    maps = build_quickstart(out)
    write_reports(out, ReportInputs.from_build_dir(out, opinion_maps=maps))
    return out / "report.html"


def test_report_renders_with_every_figure_and_no_console_message(
        report: Path, tmp_path: Path) -> None:
    run = chromium(report, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_lines(run.stderr) == []
    dom = run.stdout
    assert "<h1>ccaic build report</h1>" in dom
    for ident in FIGURES:
        assert f'id="{ident}"' in dom, ident
    assert dom.count("<figure>") == len(FIGURES)


def test_screenshot(report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    run = chromium(report, tmp_path / "profile", f"--screenshot={png}",
                   "--window-size=1200,3000")
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_lines(run.stderr) == []
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # not a blank page
    if os.environ.get("CCAIC_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, SCREENSHOT)


def test_the_console_check_catches_a_failing_page(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>missing();</script>", encoding="utf-8")
    run = chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console_lines(run.stderr))
