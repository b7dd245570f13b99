"""`--as-of TIME`: a conversation as it stood at a moment, rebuilt from a later export.

TIME is a Polis timestamp (milliseconds since the epoch) or an ISO-8601 date-time (UTC when
it names no offset); either becomes milliseconds, the unit of Polis's vote and comment times.
A source keeps the vote events with a timestamp up to TIME (then the latest of each
participant's votes on a statement wins, as always) and the statements created by then; one
with no vote timestamps cannot be cut (CCAI467). `ccaic build --as-of` sets the moment for
every assembly (`moment`); the assembly stage writes it into the source's options, so the
cache keys on it and the artifact records it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ccaic.assembly._io import normalize_id
from ccaic.assembly.votes import Statement
from ccaic.diagnostics import DiagnosticError, error

_moment: ContextVar[float | None] = ContextVar("ccaic_as_of", default=None)


@contextmanager
def moment(as_of: float | None) -> Iterator[None]:
    """Build every assembly as of `as_of` (ms; None: as the sources are now)."""
    token = _moment.set(as_of)
    try:
        yield
    finally:
        _moment.reset(token)


def current() -> float | None:
    return _moment.get()


def parse_time(text: str) -> float:
    """`--as-of`'s value in milliseconds since the epoch (CCAI468 when it is neither form)."""
    value = text.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DiagnosticError([error(
            "CCAI468", f"--as-of {text!r} is not a time", None,
            help="write an ISO-8601 date-time (2024-05-01T12:00:00Z, or a date: 2024-05-01) "
            "or a Polis timestamp in milliseconds (1714564800000)")]) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return float(round(when.timestamp() * 1000))


def spelled(as_of: float) -> str:
    """The moment as the artifact and the source options carry it: whole milliseconds."""
    return str(int(as_of)) if float(as_of).is_integer() else repr(as_of)


def events_until(ts: np.ndarray | None, as_of: float, what: str) -> np.ndarray:
    """Which vote events happened by `as_of`; CCAI467 when the source has no timestamps."""
    if ts is None:
        raise no_times(what, "its votes have no timestamps")
    return np.asarray(ts, dtype=np.float64) <= as_of


def no_times(what: str, why: str) -> DiagnosticError:
    return DiagnosticError([error(
        "CCAI467", f"{what}: --as-of needs vote timestamps, and {why}", None,
        help="use an export with vote times (votes.csv, votes.json, or a long CSV with a "
        "timestamp column), or build without --as-of")])


def created_late(cell: str, as_of: float | None) -> bool:
    """A statement whose creation time (a number in ms) is after `as_of`; blank or
    unreadable times never hide a statement."""
    if as_of is None:
        return False
    try:
        created = float(cell)
    except (TypeError, ValueError):
        return False
    return math.isfinite(created) and created > as_of


def created_by(statements: list[Statement], comments: Any, as_of: float | None
               ) -> list[Statement]:
    """The statements of a comments.json created by `as_of` (its `created`, ms)."""
    if as_of is None or not isinstance(comments, list):
        return statements
    late = {normalize_id(str(c.get("tid"))) for c in comments
            if isinstance(c, dict) and created_late(str(c.get("created")), as_of)}
    return [s for s in statements if s.id not in late]
