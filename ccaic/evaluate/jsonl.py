"""Reading evaluation data: one JSON object per line, problems named for a diagnostic."""

from __future__ import annotations

import json
from typing import Any


def json_object(line: str) -> dict[str, Any]:
    """One JSONL line as a dict; ValueError says what is wrong (the caller adds file:line)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    return row
