"""`--every 10m`: the poll interval, in seconds."""

from __future__ import annotations

import re

from ccaic.diagnostics import DiagnosticError, error

_UNITS = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smh])")


def parse_every(text: str) -> float:
    """`30s`, `10m`, `1.5h` -> seconds; CCAI604 for anything else (a bare number is refused:
    seconds or minutes is a guess the user should not have to check)."""
    found = _DURATION.fullmatch(text.strip())
    seconds = float(found.group(1)) * _UNITS[found.group(2)] if found else 0.0
    if seconds <= 0:
        raise DiagnosticError([error(
            "CCAI604", f"--every {text!r} is not a duration", None,
            help="write a positive number and a unit: 30s, 10m or 1h")])
    return seconds
