"""The report of a watched build gains a timeline (issue 18): participants and votes at each
poll, and the score trajectory of every selected statement with the cut drawn in, checked
against the assembly artifact of each of the 10 replayed slices."""

from __future__ import annotations

import json
from pathlib import Path

from tests.assembly.fake_polis import FakePolis
from tests.cli_runner import run_cli
from tests.watch.replay import cutoffs, write_spec


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_watched_report_has_the_timeline_of_its_polls(server: FakePolis,
                                                        tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    artifacts = []
    for moment in cutoffs():
        server.cutoff = moment
        code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once",
                                "--var", f"server={server.url}"])
        assert code == 0, err
        artifacts.append(_read(out / "assemblies" / "live.json"))
    timeline = _read(out / "report.json")["timeline"]["live"]
    assert [p["participants"] for p in timeline["points"]] == [a["participants"]
                                                                for a in artifacts]
    assert [p["votes"] for p in timeline["points"]] == [a["provenance"]["rows_used"]
                                                        for a in artifacts]
    final = [s["id"] for s in artifacts[-1]["statements"] if s["selected"]]
    assert sorted(timeline["trajectories"]) == sorted(final)
    for sid, scores in timeline["trajectories"].items():
        rows = [{s["id"]: s for s in a["statements"]}.get(sid) for a in artifacts]
        assert scores == [None if r is None else round(r["gac"], 6) for r in rows]
    cuts = [min(s["gac"] for s in a["statements"] if s["selected"]) for a in artifacts]
    assert [p["cut"] for p in timeline["points"]] == [round(c, 6) for c in cuts]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-timeline-participants-live"' in html
    assert 'id="fig-timeline-votes-live"' in html
    assert 'id="fig-timeline-scores-live"' in html
    scores = html.split('id="fig-timeline-scores-live"')[1].split("</svg>")[0]
    assert "<title>top-k cut</title>" in scores
    assert scores.count("<title>statement ") == len(final)
    assert "## Timeline `live`" in (out / "report.md").read_text(encoding="utf-8")


def test_a_plain_build_has_no_timeline(server: FakePolis, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"), "--until",
                            "constitution", "--var", f"server={server.url}"])
    assert code == 0, err
    assert "timeline" not in _read(tmp_path / "out" / "report.json")
