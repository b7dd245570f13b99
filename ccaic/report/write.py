"""write_reports: the build's report stage, three files from one ReportInputs.

The build calls this after its other artifacts are written, so report.json can be read back
by `ccaic diff` and the HTML opened by anyone with a browser, offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ccaic.artifacts.report import ReportArtifact
from ccaic.canonical import canonical_json
from ccaic.report.inputs import ReportInputs
from ccaic.report.model import build_report
from ccaic.report.render import render_html, render_markdown

REPORT_FILES = ("report.json", "report.md", "report.html")


class TextWriter(Protocol):
    """What ccaic.build.Writer offers: atomic writes that record which artifacts changed."""

    def text(self, relative: str, text: str) -> None: ...


class _DirectWriter:
    """Fallback when no build writer is given: atomic writes straight into the folder."""

    def __init__(self, root: Path):
        self.root = root

    def text(self, relative: str, text: str) -> None:
        from ccaic.atomic import write_text_atomic

        write_text_atomic(self.root / relative, text)


def render_reports(inputs: ReportInputs) -> dict[str, str]:
    """File name -> text for the three reports (pure: no files touched); report.json is
    checked against its published model (ccaic schema report) first."""
    report = build_report(inputs)
    ReportArtifact.model_validate(report)
    return {"report.json": canonical_json(report),
            "report.md": render_markdown(report, inputs.opinion_maps),
            "report.html": render_html(report, inputs.opinion_maps)}


def write_reports(out_dir: Path, inputs: ReportInputs, writer: TextWriter | Any = None
                  ) -> dict[str, str]:
    """Write report.json, report.md and report.html under out_dir; returns their texts."""
    texts = render_reports(inputs)
    target = writer if writer is not None else _DirectWriter(Path(out_dir))
    for name in REPORT_FILES:
        target.text(name, texts[name])
    return texts
