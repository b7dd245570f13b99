"""One poll of `ccaic watch`, and the loop around it.

A poll builds (ccaic.build.run_until: the sources are re-read, a polis_api source syncs its
snapshot, and the stages' caches rerun only what changed), reads the build folder's summaries,
adds a timeline point when the data moved and a history entry when the constitution or a
selection changed, commits history/watch.json, then rewrites HISTORY.md and the reports. A
failed build commits nothing: the history and the last good state stay as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccaic.assembly.sources.polis_api import offline
from ccaic.atomic import write_text_atomic
from ccaic.build import BuildResult, run_until, write_build_reports
from ccaic.check.checker import Program
from ccaic.diagnostics import Diagnostic, DiagnosticError, error
from ccaic.watch.changelog import render_history
from ccaic.watch.history import read_entry, write_entry
from ccaic.watch.sources import source_fingerprint
from ccaic.watch.state import (
    HISTORY_MD,
    WatchState,
    differs_from_base,
    drop_unfinished,
    entry_dir,
    load_state,
    polling,
    restore_base,
    save_state,
    write_base,
)
from ccaic.watch.summary import Summary, cut, data_key, fingerprint, read_build, selected

ENTRY_ENV = "CCAIC_WATCH_ENTRY"  # the new entry's folder, for the --on-change command


@dataclass
class PollResult:
    """What one poll did: its diagnostics, and the history entry it added (None: no change)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    entry: int | None = None
    programs: list[Program] = field(default_factory=list)  # to render the diagnostics
    counts: list[str] = field(default_factory=list)  # per assembly: participants and votes

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def poll_time() -> str:
    """The poll's moment, UTC to the second; SOURCE_DATE_EPOCH (the reproducible-builds
    convention) fixes it, so a replayed watch writes the same history."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(fixed), UTC) if fixed.isdigit() else datetime.now(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def poll(path: str, out_dir: Path, cli_vars: Sequence[str], until: str,
         on_change: str | None = None) -> PollResult:
    """One poll: build, then record what changed (see the module docstring)."""
    try:
        with polling(out_dir):
            return _poll(path, out_dir, cli_vars, until, on_change)
    except DiagnosticError as exc:
        return PollResult(exc.diagnostics)


def _poll(path: str, out_dir: Path, cli_vars: Sequence[str], until: str,
          on_change: str | None) -> PollResult:
    state = load_state(out_dir)
    drop_unfinished(out_dir, state)
    result, started = _build(path, out_dir, cli_vars, until, state)
    if not result.ok or result.stopped_after == "check":
        return PollResult(result.diagnostics, None, result.programs)
    assemblies, constitutions = read_build(out_dir)
    assemblies = {k: v for k, v in assemblies.items() if k in result.selections}
    constitutions = {k: v for k, v in constitutions.items()
                     if k in {c.name for c in result.constitutions}}
    entry = _record(out_dir, state, poll_time(), assemblies, constitutions, started)
    drop_unfinished(out_dir, state)  # the base folder the state no longer names
    write_text_atomic(out_dir / HISTORY_MD, render_history(
        [read_entry(out_dir, n) for n in range(1, state.entries + 1)]))
    if result.stopped_after != "assemblies":
        write_build_reports(out_dir, result)  # after the state: the timeline has this poll
    done = PollResult(list(result.diagnostics), entry, result.programs, _counts(assemblies))
    if entry is not None and on_change:
        done.diagnostics.extend(run_on_change(on_change, entry_dir(out_dir, entry)))
    return done


def _counts(assemblies: dict[str, Summary]) -> list[str]:
    return [f"{name}: {s['participants']:,} participants, {s['votes']:,} votes"
            for name, s in assemblies.items()]


def _build(path: str, out_dir: Path, cli_vars: Sequence[str], until: str, state: WatchState
           ) -> tuple[BuildResult, dict[str, bytes]]:
    """The build, started from the last good poll's assembly artifacts; when no vote arrived
    and warm-started groups moved anyway, again from the state that poll started from (see
    ccaic.watch.sources). Returns the result and the artifacts it started from."""
    started = restore_base(out_dir, state, unchanged=False)
    result = run_until(until, path, out_dir, cli_vars, report=False)
    if not result.ok or result.stopped_after == "check":
        return result, started
    sources = source_fingerprint(out_dir, result)
    if sources == state.sources and differs_from_base(out_dir, state):
        started = restore_base(out_dir, state, unchanged=True)
        with offline():  # the snapshots are the ones the first build synced
            result = run_until(until, path, out_dir, cli_vars, report=False)
    state.sources = sources  # committed with the state, after a good poll only
    return result, started


def warm_starts(out_dir: Path, started: dict[str, bytes], assemblies: dict[str, Summary]
                ) -> dict[str, bytes]:
    """The artifacts this poll's warm-started assemblies started from (their groups record a
    `warm_from`): kept in the entry, so it can be rebuilt byte for byte."""
    out = {}
    for name in assemblies:
        body = json.loads((out_dir / "assemblies" / f"{name}.json").read_text(encoding="utf-8"))
        if name in started and (body.get("groups") or {}).get("warm_from"):
            out[name] = started[name]
    return out


def _record(out_dir: Path, state: WatchState, when: str, assemblies: dict[str, Summary],
            constitutions: dict[str, bytes], started: dict[str, bytes]) -> int | None:
    """Add the timeline point, the base and the history entry this poll calls for, then
    commit the state (last: a poll killed before this line is redone by the next)."""
    key = data_key(out_dir)
    if key != state.data_key:
        state.timeline.append(timeline_point(state.polls + 1, when, assemblies))
        write_base(out_dir, state.polls + 1, sorted(assemblies), started)
        state.data_key, state.base = key, state.polls + 1
    mark = fingerprint(assemblies, constitutions)
    entry = None
    if mark != state.fingerprint:
        entry = state.entries + 1
        write_entry(out_dir, entry, when, assemblies, constitutions,
                    warm_starts(out_dir, started, assemblies))
        state.entries, state.fingerprint = entry, mark
    state.polls += 1
    save_state(out_dir, state)
    return entry


def timeline_point(n: int, when: str, assemblies: dict[str, Summary]) -> dict[str, Any]:
    """What the report's timeline draws for one poll: counts, every score, the cut."""
    return {"poll": n, "time": when, "assemblies": {name: {
        "participants": s["participants"], "votes": s["votes"], "method": s["method"],
        "cut": cut(s), "threshold": s["threshold"], "selected": selected(s),
        "scores": {i: row["score"] for i, row in s["statements"].items()},
    } for name, s in assemblies.items()}}


def run_on_change(command: str, entry: Path) -> list[Diagnostic]:
    """Run `--on-change` (through the shell) with the entry's folder in CCAIC_WATCH_ENTRY,
    absolute: a relative `-o` gave a path that broke once the command changed folder. CCAI606
    when it fails (the entry is recorded all the same)."""
    env = {**os.environ, ENTRY_ENV: os.path.abspath(entry)}
    try:
        # the shell runs the user's own command line, as cron would
        done = subprocess.run(command, shell=True, env=env, check=False)
    except OSError as exc:
        return [_failed(command, str(exc))]
    return [] if done.returncode == 0 else [_failed(command, f"exit code {done.returncode}")]


def _failed(command: str, why: str) -> Diagnostic:
    return error("CCAI606", f"the --on-change command {command!r} failed ({why})", None,
                 help="the history entry is recorded; fix the command and run it by hand with "
                 f"{ENTRY_ENV} set to the entry's folder")


def loop(once: bool, every: float, polls: int | None, step: Callable[[], PollResult],
         sleep: Callable[[float], None] = time.sleep) -> list[PollResult]:
    """Poll once, or every `every` seconds (`polls` times, or until interrupted)."""
    done: list[PollResult] = []
    while True:
        done.append(step())
        if once or (polls is not None and len(done) >= polls):
            return done
        sleep(every)
