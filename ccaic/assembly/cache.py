"""The assembly stage's cache: one assembly's outcome, content-addressed by its inputs.

Loading and analyzing an assembly is the costly part of `ccaic build --until constitution` and
of `ccaic diff` (which builds each side into a scratch folder). Its outcome (the artifact text,
the warnings, the selection handed to rendering, the opinion map) is a pure function of:

- the spec (every attribute, spans included: diagnostics point there), the variable values and
  the folder artifact paths are written relative to;
- ccaic itself: its version and a digest of its source files, so an edited checkout never
  reads a stale result;
- the bytes of every data file the stage read, recorded as they are read
  (`ccaic.files.recording`), and the names in the source folder (a file appearing there can
  change what is read).

The first two give the *stage key*; its manifest lists the files last read for it. A lookup
hashes those files as they are now and looks for the entry named by the stage key and those
digests: any changed byte is a miss. Entries live under the build folder (`.cache/`) and in the
user cache, `$CCAIC_CACHE_DIR` (default `$XDG_CACHE_HOME/ccaic`, else `~/.cache/ccaic`; `off`
disables it), which `ccaic diff` shares. Entries are canonical JSON, written atomically; an
unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import compact_json
from ccaic.diagnostics import Diagnostic

CACHE_ENV = "CCAIC_CACHE_DIR"
FORMAT = "1"


@dataclass(frozen=True)
class Outcome:
    """What the build does with one analyzed assembly (ccaic.assembly.stage.assembly_stage)."""

    artifact: str  # assemblies/NAME.json, canonical
    warnings: tuple[Diagnostic, ...]  # the source's and the grouping's
    empty_errors: tuple[Diagnostic, ...]  # empty results in a build (CCAI422/423)
    empty_warnings: tuple[Diagnostic, ...]  # the same under --until assemblies
    selected: Any  # ccaic.constitution.render.SelectedStatements
    opinion_map: Any  # ccaic.report.projections.OpinionMap or None


def user_cache_dir() -> Path | None:
    """$CCAIC_CACHE_DIR, else $XDG_CACHE_HOME/ccaic, else ~/.cache/ccaic; None when `off`."""
    raw = os.environ.get(CACHE_ENV, "").strip()
    if raw.lower() in ("off", "0", "none"):
        return None
    if raw:
        return Path(raw).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "ccaic"


def cache_dirs(build_dir: Path | None) -> list[Path]:
    """Where entries are looked up and written: the build folder's first, then the user's."""
    dirs = [build_dir / ".cache"] if build_dir is not None else []
    user = user_cache_dir()
    return dirs + ([user] if user is not None else [])


@lru_cache(maxsize=1)
def code_digest() -> str:
    """ccaic's version and the sha256 of its source files: a changed checkout is a new key."""
    import ccaic

    root = Path(ccaic.__file__).parent
    h = hashlib.sha256(ccaic.__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _digest(obj: Any) -> str:
    return hashlib.sha256(compact_json(obj, default=str).encode("utf-8")).hexdigest()


def stage_key(spec: Any, variables: dict[str, Any], base: Path) -> str:
    """Everything but the data files' bytes."""
    return _digest({"format": FORMAT, "code": code_digest(), "base": str(base),
                    "spec": spec.model_dump(mode="json"), "variables": variables})


def _listing(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _file_sha(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def entry_key(key: str, files: dict[str, str | None], folders: Iterable[str]) -> str:
    return _digest({"stage": key, "files": files,
                    "listings": {f: _listing(f) for f in sorted(set(folders))}})


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def lookup(key: str, dirs: Sequence[Path]) -> dict[str, Any] | None:
    """The stored outcome for `key` and the data files as they are now, else None."""
    for d in dirs:
        manifest = _read_json(d / "assemblies" / f"{key}.inputs.json")
        if not isinstance(manifest, dict):
            continue
        files = {f: _file_sha(f) for f in manifest.get("files", [])}
        name = entry_key(key, files, manifest.get("folders", []))
        entry = _read_json(d / "assemblies" / f"{name}.json")
        if isinstance(entry, dict) and entry.get("format") == FORMAT:
            return entry
    return None


def store(key: str, dirs: Sequence[Path], files: dict[str, str], folders: Sequence[str],
          body: dict[str, Any]) -> None:
    """Write the manifest and the entry into every cache folder that accepts them."""
    manifest = json.dumps({"files": sorted(files), "folders": sorted(set(folders))},
                          sort_keys=True, indent=1)
    entry = compact_json({"format": FORMAT, **body})
    name = entry_key(key, dict(files), folders)
    for d in dirs:
        try:
            write_text_atomic(d / "assemblies" / f"{name}.json", entry)
            write_text_atomic(d / "assemblies" / f"{key}.inputs.json", manifest)
        except OSError:
            continue  # a read-only or full cache folder only costs the next run its time


def cached(key: str, dirs: Sequence[Path], folders: Sequence[str],
           compute: Callable[[], Outcome]) -> Outcome:
    """The outcome from the cache, or computed (recording the files it reads) and stored."""
    from ccaic.files import recording

    found = lookup(key, dirs)
    if found is not None:
        try:
            return decode(found)
        except (KeyError, TypeError, ValueError):
            pass
    with recording() as reads:
        outcome = compute()
    store(key, dirs, reads, folders, encode(outcome))
    return outcome


def encode(o: Outcome) -> dict[str, Any]:
    s = o.selected
    m = o.opinion_map
    return {
        "artifact": o.artifact,
        "warnings": [d.model_dump(mode="json") for d in o.warnings],
        "empty_errors": [d.model_dump(mode="json") for d in o.empty_errors],
        "empty_warnings": [d.model_dump(mode="json") for d in o.empty_warnings],
        "selected": {"assembly": s.assembly, "method": s.method, "threshold": s.threshold,
                     "top_k": s.top_k,
                     "statements": [r.model_dump(mode="json") for r in s.statements],
                     "candidates": {k: r.model_dump(mode="json") for k, r in s.candidates.items()},
                     "summary": dict(s.summary),
                     "fields": {k: dict(v) for k, v in s.fields.items()}},
        "opinion_map": None if m is None else {
            "points": [list(p) for p in m.points], "participants": m.participants,
            "groups": list(m.groups)},
    }


def decode(body: dict[str, Any]) -> Outcome:
    from ccaic.constitution.model import StatementRef
    from ccaic.constitution.render import SelectedStatements
    from ccaic.report.projections import OpinionMap

    s = body["selected"]
    m = body["opinion_map"]
    return Outcome(
        artifact=body["artifact"],
        warnings=tuple(Diagnostic.model_validate(d) for d in body["warnings"]),
        empty_errors=tuple(Diagnostic.model_validate(d) for d in body["empty_errors"]),
        empty_warnings=tuple(Diagnostic.model_validate(d) for d in body["empty_warnings"]),
        selected=SelectedStatements(
            assembly=s["assembly"], method=s["method"], threshold=s["threshold"],
            top_k=s["top_k"], statements=tuple(StatementRef.model_validate(r)
                                               for r in s["statements"]),
            candidates={k: StatementRef.model_validate(r) for k, r in s["candidates"].items()},
            summary=s["summary"], fields=s["fields"]),
        opinion_map=None if m is None else OpinionMap(
            points=tuple((float(x), float(y), str(g)) for x, y, g in m["points"]),
            participants=m["participants"], groups=tuple(m["groups"])),
    )
