"""HISTORY.md's selection line and the cut it reports, from summaries alone (pure)."""

from __future__ import annotations

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
