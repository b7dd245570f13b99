"""history/watch.json: the last good poll, the one file a poll commits last.

A poll writes its history entry (history/<n>/, renamed into place whole) and only then this
file, atomically. A poll killed before that leaves an entry numbered past `entries`: the next
poll removes it and does the work again, so nothing is lost and nothing counts twice. The
file also holds the timeline (one point per poll whose data moved), which the report draws.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.diagnostics import DiagnosticError, error

HISTORY = "history"
STATE = "watch.json"
FORMAT_VERSION = "1.0"


@dataclass
class WatchState:
    """The last good poll: how many entries and timeline points exist, and what they hashed."""

    entries: int = 0
    polls: int = 0
    fingerprint: str | None = None
    data_key: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)


def state_path(out_dir: Path) -> Path:
    return out_dir / HISTORY / STATE


def entry_dir(out_dir: Path, n: int) -> Path:
    return out_dir / HISTORY / str(n)


def load_state(out_dir: Path) -> WatchState:
    """The committed state (a fresh one when the folder was never watched); CCAI605 when the
    file is there but not one ccaic wrote (hand-edited or from another tool)."""
    path = state_path(out_dir)
    if not path.exists():
        return WatchState()
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return WatchState(**{k: body[k] for k in asdict(WatchState())})
    except (OSError, ValueError, KeyError, TypeError):
        raise DiagnosticError([error(
            "CCAI605", f"{path} is not a watch state ccaic can read", None,
            help="it records the last good poll; restore it from version control, or move "
            f"{path.parent} away to start a new history")]) from None


def save_state(out_dir: Path, state: WatchState) -> None:
    write_text_atomic(state_path(out_dir), canonical_json(
        {"format_version": FORMAT_VERSION, **asdict(state)}))


def drop_unfinished(out_dir: Path, state: WatchState) -> None:
    """Remove what a killed poll left past the committed state: entries numbered past
    `entries` and half-written entry folders."""
    folder = out_dir / HISTORY
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        unfinished = path.name.startswith(".entry-") or (
            path.name.isdigit() and int(path.name) > state.entries)
        if unfinished and path.is_dir():
            shutil.rmtree(path)
