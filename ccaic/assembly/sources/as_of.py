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
    """Which vote events happened by `as_of`; CCAI467 when the source has no timestamps,
    CCAI486 when none had happened yet (the build went on to blame moderation for the empty
    conversation)."""
    if ts is None:
        raise no_times(what, "its votes have no timestamps")
    times = np.asarray(ts, dtype=np.float64)
    keep = times <= as_of
    if len(times) and not keep.any():
        raise before_first_vote(what, as_of, float(times.min()))
    return keep


def iso(ms: float) -> str:
    """Milliseconds since the epoch as an ISO-8601 UTC date-time, with its milliseconds when it
    has any (a hint's moment must not fall before the vote it names)."""
    when = datetime.fromtimestamp(int(ms) // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return when + (f".{int(ms) % 1000:03d}Z" if int(ms) % 1000 else "Z")


def before_first_vote(what: str, as_of: float, first: float) -> DiagnosticError:
    """CCAI486; a TIME that reaches the votes once read as seconds says so."""
    seconds = as_of * 1000 >= first and as_of < 1e11
    return DiagnosticError([error(
        "CCAI486", f"{what}: --as-of {iso(as_of)} ({spelled(as_of)}) is before the first "
        f"vote, at {iso(first)} ({spelled(first)})", None,
        help=(f"a Polis timestamp is in milliseconds: {spelled(as_of)} seconds is "
              f"--as-of {spelled(as_of * 1000)}") if seconds
        else f"give a moment from {iso(first)} on")])


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
