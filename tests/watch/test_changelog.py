"""HISTORY.md's selection line and the cut it reports, from summaries alone (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccaic.watch.changelog import render_history
from ccaic.watch.summary import cut


def _summary(threshold: float | None, top_k: int | None, scores: dict[str, float],
             chosen: set[str]) -> dict[str, Any]:
    return {"participants": 40, "votes": 400, "statements_in": len(scores),
            "groups": {"k": 2, "sizes": {}}, "method": "gac", "threshold": threshold,
            "top_k": top_k,
            "statements": {sid: {"text": f"statement {sid}", "score": score, "votes": 30,
                                 "selected": sid in chosen} for sid, score in scores.items()}}


def _entry(summary: dict[str, Any]) -> dict[str, Any]:
    return {"entry": 1, "time": "2024-01-01T00:00:00Z", "constitutions": ["c"],
            "assemblies": {"a": summary},
            "changes": {"a": {"entered": sorted(s for s, r in summary["statements"].items()
                                                if r["selected"]), "left": []}}}


def test_top_k_beside_a_threshold_is_named_with_its_cut() -> None:
    """threshold 0.3 and top_k 2 over three statements above 0.3: the line said "gac ≥ 0.300"
    alone, and the cut was the threshold, though 0.4 did not make it and 0.5 was the bar."""
    full = _summary(0.3, 2, {"0": 0.6, "1": 0.5, "2": 0.4}, {"0", "1"})
    assert cut(full) == 0.5
    assert "selected: the top 2 by gac at ≥ 0.300; the cut at 0.500." in render_history(
        [_entry(full)])
    short = _summary(0.55, 2, {"0": 0.6, "1": 0.5, "2": 0.4}, {"0"})  # top_k not filled
    assert cut(short) == 0.55


def test_a_threshold_or_top_k_alone_reads_as_before() -> None:
    alone = _summary(0.45, None, {"0": 0.6, "1": 0.5, "2": 0.4}, {"0", "1"})
    assert cut(alone) == 0.45
    assert "selected: gac ≥ 0.450." in render_history([_entry(alone)])
    top = _summary(None, 2, {"0": 0.6, "1": 0.5, "2": 0.4}, {"0", "1"})
    assert cut(top) == 0.5
    assert "selected: the top 2 by gac; the cut at 0.500." in render_history([_entry(top)])


def _history(then: dict[str, Any], now: dict[str, Any]) -> str:
    first, second = _entry(then), _entry(now)
    second["entry"], second["changes"] = 2, {"a": {"entered": ["2"], "left": []}}
    return render_history([first, second]).split("## Entry 1")[0]


def test_a_changed_rule_is_shown_as_it_changed() -> None:
    """A lowered threshold lets statement 2 in at the same score: the line said
    "gac ≥ 0.300" as if nothing but the score could have moved it."""
    scores = {"0": 0.6, "1": 0.5, "2": 0.35}
    text = _history(_summary(0.4, None, scores, {"0", "1"}),
                    _summary(0.3, None, scores, {"0", "1", "2"}))
    assert "selected: gac ≥ 0.400 → gac ≥ 0.300." in text
    assert "- `2` statement 2 — gac 0.350 → 0.350; votes on it: 30" in text


def test_a_changed_method_names_each_score_by_its_method() -> None:
    """gac then, bridging now: the entry said "bridging 0.350 → 0.120", a GAC score as if it
    were the old bridging one."""
    then = _summary(0.4, None, {"0": 0.6, "1": 0.5, "2": 0.35}, {"0", "1"})
    now = {**_summary(0.1, None, {"0": 0.05, "1": 0.02, "2": 0.12}, {"2"}),
           "method": "bridging"}
    text = _history(then, now)
    assert "selected: gac ≥ 0.400 → bridging ≥ 0.100." in text
    assert "- `2` statement 2 — gac 0.350 → bridging 0.120; votes on it: 30" in text


def test_a_watch_without_assemblies_prints_no_empty_counts(tmp_path: Path) -> None:
    """A file of hand-written principles: the poll lines ended in "()" (no assembly to count)."""
    from tests.cli_runner import run_cli

    spec = tmp_path / "hand.ccai"
    spec.write_text('constitution "c" {\n  principle "p" {\n    text = "Choose the response '
                    'that is kind."\n  }\n}\n', encoding="utf-8")
    out = tmp_path / "w"
    code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once"])
    assert code == 0 and err.strip().endswith(f"~ {out}/history/1/: the constitution changed")
    code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once"])
    assert code == 0 and err.strip().endswith("watch: no change"), err


def test_a_statement_that_left_says_why() -> None:
    """Bridging's factor bar: statement 1 left with its score still above the cut, and the
    entry showed only "bridging 0.450 → 0.470", no cause. Its reason is recorded and shown."""
    then = {**_summary(0.4, None, {"0": 0.6, "1": 0.45}, {"0", "1"}), "method": "bridging"}
    now = {**_summary(0.4, None, {"0": 0.6, "1": 0.47}, {"0"}), "method": "bridging"}
    now["statements"]["1"]["reason"] = "factor |f| >= 0.5"
    first, second = _entry(then), _entry(now)
    second["entry"], second["changes"] = 2, {"a": {"entered": [], "left": ["1"]}}
    text = render_history([first, second]).split("## Entry 1")[0]
    assert ("- `1` statement 1 — bridging 0.450 → 0.470 (factor |f| >= 0.5); votes on it: 30"
            in text)


def test_the_summary_records_why_a_statement_is_out() -> None:
    from ccaic.watch.summary import assembly_summary

    rows = [{"id": "0", "text": "a", "gac": 0.6, "selected": True, "reason": "selected"},
            {"id": "1", "text": "b", "gac": 0.5, "selected": False, "reason": "beyond top 1"}]
    summary = assembly_summary({"consensus": {"score": "gac", "top_k": 1}, "statements": rows})
    assert "reason" not in summary["statements"]["0"]
    assert summary["statements"]["1"]["reason"] == "beyond top 1"
