"""history/watch.json: the last good poll, the one file a poll commits last.

A poll writes its history entry (history/<n>/, renamed into place whole) and only then this
file, atomically. A poll killed before that leaves an entry numbered past `entries`: the next
poll removes it and does the work again, so nothing is lost and nothing counts twice. The
file also holds the timeline (one point per poll whose data moved), which the report draws.

history/.base-<k>/ keeps the assembly artifacts of the last good poll (k = `base`), and in
from/ those that poll started from. The next poll puts one set back into assemblies/ before it
builds, because a `groups polis { warm_start = true }` build starts from the last build in the
folder: the last good poll's when new votes arrived, else the state that poll started from (so
an unchanged conversation rebuilds the same bytes), never what a killed poll left there.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccaic.artifacts import checked
from ccaic.atomic import write_bytes_atomic, write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.diagnostics import DiagnosticError, error

HISTORY = "history"
STATE = "watch.json"
HISTORY_MD = "HISTORY.md"
FORMAT_VERSION = "1.0"


@dataclass
class WatchState:
    """The last good poll: how many entries and timeline points exist, and what they hashed."""

    entries: int = 0
    polls: int = 0
    fingerprint: str | None = None
    data_key: str | None = None
    base: int | None = None  # history/.base-<base>/: the last good poll's assembly artifacts
    sources: str | None = None  # the last good poll's sources (ccaic.watch.sources)
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


@contextmanager
def polling(out_dir: Path) -> Iterator[None]:
    """One poll at a time in a folder (a cron job can overlap a long poll): an exclusive lock
    on history/.lock, which the kernel releases when the process ends, kill -9 included;
    CCAI607 when another watch holds it."""
    lock = out_dir / HISTORY / ".lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DiagnosticError([error(
                "CCAI607", f"another ccaic watch is polling {out_dir}", None,
                help="wait for it to finish (a scheduled job: space the runs further apart), "
                "or watch into another folder")]) from None
        yield


def save_state(out_dir: Path, state: WatchState) -> None:
    write_text_atomic(state_path(out_dir), checked("watch-state", canonical_json(
        {"format_version": FORMAT_VERSION, **asdict(state)})))


def base_dir(out_dir: Path, n: int) -> Path:
    return out_dir / HISTORY / f".base-{n}"


def drop_unfinished(out_dir: Path, state: WatchState) -> None:
    """Remove what a killed poll left past the committed state: entries numbered past
    `entries`, half-written entry folders, base folders but the committed one, and the
    temporary files of a killed write."""
    folder = out_dir / HISTORY
    if not folder.is_dir():
        return
    # a writer killed mid-write leaves its temporary file (ccaic.atomic names them .NAME.*.tmp)
    for temp in [*folder.glob(f".{STATE}.*.tmp"), *out_dir.glob(f".{HISTORY_MD}.*.tmp")]:
        temp.unlink(missing_ok=True)
    for path in sorted(folder.iterdir()):
        stale_base = path.name.startswith(".base-") and path.name != f".base-{state.base}"
        unfinished = path.name.startswith(".entry-") or stale_base or (
            path.name.isdigit() and int(path.name) > state.entries)
        if unfinished and path.is_dir():
            shutil.rmtree(path)


def restore_base(out_dir: Path, state: WatchState, unchanged: bool) -> dict[str, bytes]:
    """Put the last good poll's assembly artifacts back in assemblies/ (where a killed poll
    may have left newer ones), or with `unchanged` sources those it started from (none: a
    cold start). Returns name -> the bytes this poll's build starts from."""
    if state.base is None:
        return {}
    folder = base_dir(out_dir, state.base)
    started = {}
    for name in sorted(p.stem for p in folder.glob("*.json")):
        source = folder / "from" / f"{name}.json" if unchanged else folder / f"{name}.json"
        target = out_dir / "assemblies" / f"{name}.json"
        if not source.is_file():
            target.unlink(missing_ok=True)
            continue
        started[name] = source.read_bytes()
        if not target.is_file() or target.read_bytes() != started[name]:
            write_bytes_atomic(target, started[name])
    return started


def differs_from_base(out_dir: Path, state: WatchState) -> bool:
    """Whether the build left assembly artifacts other than the last good poll's."""
    if state.base is None:
        return False
    folder = base_dir(out_dir, state.base)
    for kept in sorted(folder.glob("*.json")):
        built = out_dir / "assemblies" / kept.name
        if not built.is_file() or built.read_bytes() != kept.read_bytes():
            return True
    return False


def write_base(out_dir: Path, n: int, names: list[str], started: dict[str, bytes]) -> None:
    """history/.base-<n>/: this poll's assembly artifacts and, in from/, those it started
    from (committed by the state)."""
    for name in names:
        body = (out_dir / "assemblies" / f"{name}.json").read_bytes()
        write_bytes_atomic(base_dir(out_dir, n) / f"{name}.json", body)
        if name in started:
            write_bytes_atomic(base_dir(out_dir, n) / "from" / f"{name}.json", started[name])
