"""Where votes come from: the loaders ccaic.registry.sources names, one module each.

`load_source(kind, path, options)` is the single entry point; `kind` is a loader's `--kind`
name and "auto" detects a folder's format from the files in it. A loader is
`(path, display, SourceOptions) -> LoadedSource`; every one returns votes in EXPORT sign
(+1 agree), see `ccaic.assembly.votes`, and raises `DiagnosticError` (CCAI4xx,
file:line:column) for bad data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ccaic.assembly.sources.base import LoadedSource, SourceOptions
from ccaic.diagnostics import DiagnosticError, error, refused, warning
from ccaic.files import FileRefused, path_kind
from ccaic.registry import load_target
from ccaic.registry.sources import SOURCES, by_kind, kinds

KINDS = kinds()

__all__ = ["KINDS", "LoadedSource", "SourceOptions", "detect_kind", "load_detected",
           "load_source", "snapshot_folder", "sync_source"]


def detect_kind(path: Path, display: str | None = None) -> str:
    """polis-json if the folder has votes.json/comments.json, polis-csv if it has votes.csv or
    participants-votes.csv; a single .csv file is long-csv."""
    name = display or str(path)
    try:
        kind = path_kind(path)
    except FileRefused as exc:  # a name too long, a symlink loop, no permission, ...
        raise DiagnosticError([refused(exc, name)]) from None
    if kind in ("file", "other"):  # a device or FIFO: the reader refuses it (CCAI108)
        return "long-csv"
    if kind == "dir":
        names = {p.name for p in path.iterdir()}
        if names & {"votes.json", "math-pca2.json"}:
            return "polis-json"
        if names & {"votes.csv", "participants-votes.csv"}:
            return "polis-csv"
        raise DiagnosticError([error(
            "CCAI410", f"{name}: no vote files found (looked for votes.csv, "
            "participants-votes.csv, votes.json)", None,
            help="point at a Polis export folder, a Polis API JSON folder or a long-format "
            "CSV file")])
    raise DiagnosticError([error("CCAI401", f"source not found: {name}", None,
                                 help="check the path: in a .ccai file it is relative to that "
                                 "file's folder, on the command line to the current folder")])


def load_source(kind: str, path: str | Path, options: SourceOptions | None = None) -> LoadedSource:
    """Load a source of the given `--kind` ("auto" detects it) into a `LoadedSource`."""
    return _load(kind, Path(path), str(path), options or SourceOptions())


def load_detected(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    """The `polis` source: the loader `detect_kind` picks for what the path holds; an attribute
    that loader does not take (a long-format column on an export folder) is CCAI217."""
    kind = detect_kind(path, display)
    loaded = _load(kind, path, display, opts)
    entry = by_kind(kind)
    unread = sorted(set(opts.attrs) - set(entry.attrs) - {"as_of"}) if entry else []
    loaded.warnings.extend(warning(
        "CCAI217", f"`{name}` is ignored: {display} is read as {entry.name if entry else kind}",
        None, help=f"only a long-format votes file takes `{name}`; remove it")
        for name in unread)
    return loaded


def _load(kind: str, path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    entry = by_kind(kind)
    if entry is None:
        raise DiagnosticError([error("CCAI410", f"unknown source kind {kind!r}", None,
                                     help=f"use one of {', '.join(KINDS)}")])
    loader: Callable[[Path, str, SourceOptions], LoadedSource] = SOURCES.load(entry.name)
    return loader(path, display, opts)


def snapshot_folder(name: str, root: str | Path, assembly: str) -> Path | None:
    """Where `source <name>` of an assembly keeps its downloads in the build folder `root`
    (DIR/sources/<assembly>/<name>/): a build from an API is then reproducible from its own
    folder. None for a source that reads local files (its entry has no sync step)."""
    if SOURCES.entry(name).meta.get("sync") is None:
        return None
    return Path(root) / "sources" / assembly / name


def sync_source(name: str, path: str | Path, options: SourceOptions,
                seed: str | Path | None = None) -> None:
    """Run `source <name>`'s sync step, if its entry has one (a remote source refreshes its
    snapshot in `path`, starting from the snapshot in `seed` when `path` has none); before
    the assembly cache hashes the files there."""
    target = SOURCES.entry(name).meta.get("sync")
    if target is None:
        return
    sync: Callable[[Path, str, SourceOptions, Path | None], None] = load_target(str(target))
    sync(Path(path), str(path), options, None if seed is None else Path(seed))
