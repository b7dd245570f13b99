"""A real shared Polis conversation replayed in 10 time slices through the fake Polis server
(tests/assembly/fake_polis.py), and the .ccai file that watches it."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from tests.assembly.fake_polis import CSV_CONVERSATION, LIVE_ASSEMBLY, conversation

SLICES = 10

SPEC = LIVE_ASSEMBLY + """
constitution "main" {
  from     = assembly.live
  template = "Choose the response that agrees: {{ statement.text }}"
}
"""


def cutoffs(folder: Path | None = None) -> list[float]:
    """The 10 moments: the time of the vote that ends each tenth of the conversation's votes."""
    with (conversation(folder or CSV_CONVERSATION) / "votes.csv").open(encoding="utf-8") as f:
        times = sorted(float(row["timestamp"]) for row in csv.DictReader(f))
    return [times[math.ceil(i * len(times) / SLICES) - 1] for i in range(1, SLICES + 1)]


WARM = "  groups polis { warm_start = true }\n"


def write_spec(folder: Path, warm: bool = False) -> Path:
    """The watched .ccai file; `warm`: its groups start from the last build's (warm_start)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "live.ccai"
    text = SPEC.replace("  consensus gac", WARM + "  consensus gac") if warm else SPEC
    spec.write_text(text, encoding="utf-8")
    return spec


def selected_ids(out: Path) -> list[str]:
    body = json.loads((out / "assemblies" / "live.json").read_text(encoding="utf-8"))
    return [str(s["id"]) for s in body["statements"] if s["selected"]]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (relative path -> bytes), for "left untouched" checks."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def state(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "history" / "watch.json").read_text(encoding="utf-8")))
