"""The Polis-report section of report.md / report.html: golden for the quickstart, and the
numbers behind it checked against the assembly artifact."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_fixtures import build_quickstart

from ccaic.report import ReportInputs, write_reports
from ccaic.report.figures import hull

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "report"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    out = tmp_path_factory.mktemp("quickstart")
    maps = build_quickstart(out)
    return out, write_reports(out, ReportInputs.from_build_dir(out, opinion_maps=maps))


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CCAIC_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_markdown_section_is_golden(quickstart: tuple[Path, dict[str, str]]) -> None:
    md = quickstart[1]["report.md"]
    section = re.search(r"### Polis report\n.*?(?=\n### Figures)", md, re.S)
    assert section is not None
    _golden("quickstart-polis.md", section.group(0) + "\n")


def test_html_section_is_golden(quickstart: tuple[Path, dict[str, str]]) -> None:
    html = quickstart[1]["report.html"]
    section = re.search(r"<h3>Polis report</h3>.*?(?=<h3>Figures</h3>)", html, re.S)
    assert section is not None
    assert section.group(0).count('id="fig-opinion-map-quickstart"') == 1
    assert html.count('id="fig-opinion-map-quickstart"') == 1  # moved here, not drawn twice
    _golden("quickstart-polis.html", section.group(0) + "\n")


def test_section_numbers_come_from_the_artifact(quickstart: tuple[Path, dict[str, str]]
                                                ) -> None:
    out, texts = quickstart
    art = json.loads((out / "assemblies" / "quickstart.json").read_text())
    pr = json.loads(texts["report.json"])["assemblies"]["quickstart"]["polis_report"]
    polis = art["polis"]
    assert [g["id"] for g in pr["groups"]] == [g["id"] for g in polis["groups"]]
    by_id = {s["id"]: s for s in art["statements"]}
    for g, theirs in zip(pr["groups"], polis["groups"], strict=True):
        assert g["size"] == theirs["size"] == art["groups"]["sizes"][g["id"]]
        assert [r["id"] for r in g["statements"]] == [e["statement"] for e in theirs["repness"]]
        for r in g["statements"]:
            counts = by_id[r["id"]]["groups"]
            mine = counts[g["id"]]
            others = [v for k, v in counts.items() if k != g["id"]]
            seen_in = sum(mine.values())
            seen_out = sum(sum(v.values()) for v in others)
            assert r["in"]["agree"] == round(mine["agrees"] / seen_in, 6)
            assert r["out"]["disagree"] == round(
                sum(v["disagrees"] for v in others) / seen_out, 6)
    moderated = {s["id"] for s in art["statements"] if s["moderated_out"]}
    listed = {r["id"] for g in pr["groups"] for r in g["statements"]} | {
        r["id"] for side in ("agree", "disagree") for r in pr["consensus"][side]}
    assert moderated and not listed & moderated


def test_hull() -> None:
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.5, 0.5), (0.5, 0.0)]
    assert hull(square) == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    assert hull([(1.0, 1.0), (1.0, 1.0)]) == [(1.0, 1.0)]
    assert hull([]) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(-50, 50)), max_size=40))
def test_hull_holds_every_point(raw: list[tuple[int, int]]) -> None:
    """Every point is inside or on the hull, every vertex is an input point, and the hull
    turns one way only (counter-clockwise)."""
    points = [(float(x), float(y)) for x, y in raw]
    ring = hull(points)
    assert set(ring) <= set(points) and len(set(ring)) == len(ring)
    if len(ring) < 3:
        return
    for i, a in enumerate(ring):
        b = ring[(i + 1) % len(ring)]
        assert all((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0
                   for p in points)
