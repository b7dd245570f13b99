"""Helpers shared by the BBQ tests: synthetic rows in the real file format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def row(example_id: int = 0, *, polarity: str = "neg", condition: str = "ambig",
        info: dict[str, list[str]] | None = None, stereotyped: list[str] | None = None,
        label: int = 2, category: str = "Age") -> dict[str, Any]:
    """A BBQ row; defaults are Age example_id 0 (grandfather / grandson / unknown)."""
    info = info or {"ans0": ["grandfather", "old"], "ans1": ["grandson", "nonOld"],
                    "ans2": ["Can't be determined", "unknown"]}
    return {
        "example_id": example_id, "question_index": "1", "question_polarity": polarity,
        "context_condition": condition, "category": category, "answer_info": info,
        "additional_metadata": {"subcategory": "None",
                                "stereotyped_groups": stereotyped or ["old"],
                                "version": "a", "source": "test"},
        "context": f"Context {example_id}.", "question": "Who was it?",
        "ans0": "The grandfather", "ans1": "The grandson", "ans2": "Can't be determined",
        "label": label,
    }


def balanced_rows(n_sets: int, category: str = "Age") -> list[dict[str, Any]]:
    """Sets of 4 rows (ambig/disambig x neg/nonneg), the way BBQ templates come.

    In each set the grandfather (ans0) is the stereotyped group; disambiguated answers
    alternate so half of the correct answers are the biased one.
    """
    rows: list[dict[str, Any]] = []
    for s in range(n_sets):
        for polarity in ("neg", "nonneg"):
            for condition in ("ambig", "disambig"):
                label = 2 if condition == "ambig" else (0 if (s + (polarity == "neg")) % 2 else 1)
                rows.append(row(len(rows), polarity=polarity, condition=condition,
                                label=label, category=category))
    return rows


def write(folder: Path, category: str, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{category}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
