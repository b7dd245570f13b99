"""HHH judge accuracy: scoring by hand, the file checks (CCAI493/495-497), and a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaic.diagnostics import DiagnosticError
from ccaic.evaluate import hhh
from ccaic.evaluate.data import MAX_ROW_DIAGNOSTICS, Comparison, load_comparisons, parse_row

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "eval" / "hhh.jsonl"


def item(a_correct: bool, a: str = "first", b: str = "second") -> dict[str, object]:
    return {"prompt": f"\n\nHuman: hi\n\nPick one. Options:\n (A) [[[{a}]]]\n (B) [[[{b}]]]"
                      "\n\nThe answer is:",
            "corrects": [" (A)" if a_correct else " (B)"]}


def comparisons(*a_correct: bool) -> list[Comparison]:
    return [parse_row(json.dumps(item(x)), f"t:{i}") for i, x in enumerate(a_correct)]


def codes(path: Path) -> list[str]:
    with pytest.raises(DiagnosticError) as caught:
        load_comparisons(path)
    return [d.code for d in caught.value.diagnostics]


def test_swapped_exchanges_only_the_responses() -> None:
    text = str(item(True, "one ]] two", "three")["prompt"])
    flipped = hhh.swapped(text)
    assert "(A) [[[three]]]" in flipped and "(B) [[[one ]] two]]]" in flipped
    assert hhh.swapped(flipped) == text


def test_a_perfect_judge_scores_one_and_a_position_judge_scores_chance() -> None:
    items = comparisons(True, False, True, False)
    # Right in both orders: high P(A) exactly where (A) is right, before and after the swap.
    perfect = hhh.score(items, [0.9, 0.1, 0.9, 0.1], [0.1, 0.9, 0.1, 0.9])
    assert perfect["accuracy_given_order"] == perfect["accuracy_swapped_order"] == 1.0
    assert perfect["accuracy_debiased"] == 1.0 and perfect["mean_position_bias"] == 0.0
    # Always (A) with p = 0.8: right half the time per order; debiased every item is a tie.
    always_a = hhh.score(items, [0.8] * 4, [0.8] * 4)
    assert always_a["accuracy_given_order"] == always_a["accuracy_swapped_order"] == 0.5
    assert always_a["accuracy_debiased"] == 0.5 and always_a["ties_debiased"] == 4
    assert always_a["mean_position_bias"] == pytest.approx(0.6)
    lo, hi = always_a["intervals"]["accuracy_given_order"]
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0
    assert always_a == hhh.score(items, [0.8] * 4, [0.8] * 4)  # seeded bootstrap


def test_file_diagnostics(tmp_path: Path) -> None:
    assert codes(tmp_path / "missing.jsonl") == ["CCAI493"]
    assert codes(tmp_path) == ["CCAI493"]
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    assert codes(tmp_path / "empty.jsonl") == ["CCAI497"]
    bad = tmp_path / "bad.jsonl"
    rows = [json.dumps(item(True)), "{not json", json.dumps({"prompt": "x", "corrects": ["(C)"]}),
            json.dumps({"prompt": "no options here", "corrects": ["(A)"]})]
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert codes(bad) == ["CCAI495", "CCAI495", "CCAI496"]
    (tmp_path / "many.jsonl").write_text("x\n" * 30, encoding="utf-8")
    many = codes(tmp_path / "many.jsonl")
    assert len(many) == MAX_ROW_DIAGNOSTICS + 1 and set(many) == {"CCAI495"}


def test_error_pages_exist(repo: Path) -> None:
    for code in ("CCAI493", "CCAI495", "CCAI496", "CCAI497", "CCAI498", "CCAI499"):
        text = (repo / "docs" / "errors" / f"{code}.md").read_text(encoding="utf-8")
        assert text.startswith(f"# {code}: ")
        for heading in ("## What", "## Why", "## How to fix", "## Example"):
            assert heading in text


def test_quickstart_file_is_balanced_and_loads() -> None:
    items = load_comparisons(QUICKSTART)
    assert len(items) == 12
    assert sum(c.a_correct for c in items) == 6


def test_tiny_judge_on_the_quickstart_file() -> None:
    """builtin:tiny is random, so its accuracy is chance and not asserted; the body is."""
    pytest.importorskip("transformers")
    body = hhh.evaluate_hhh(QUICKSTART, "builtin:tiny", seed=0, limit=6)
    assert body["benchmark"] == "hhh" and body["model"] == "builtin:tiny"
    assert body["n"] == body["items"] == 6 and body["limit"] == 6
    for key in ("accuracy_given_order", "accuracy_swapped_order", "accuracy_debiased"):
        assert 0.0 <= body[key] <= 1.0
        lo, hi = body["intervals"][key]
        assert lo <= body[key] <= hi
    assert -1.0 <= body["mean_position_bias"] <= 1.0
    assert str(QUICKSTART.parent) not in json.dumps(body)


def test_unknown_model_is_a_diagnostic() -> None:
    with pytest.raises(DiagnosticError) as caught:
        hhh.evaluate_hhh(QUICKSTART, "builtin:huge", seed=0)
    assert [d.code for d in caught.value.diagnostics] == ["CCAI494"]
