"""What a poll's sources held when it built: the fingerprint that says whether any vote or
statement arrived since the last good poll.

A `groups polis { warm_start = true }` build is not a fixed point: built again from its own
groups, it records other centers. Polis recomputes only when votes arrive, and so does the
watch: a poll whose sources are unchanged is built again from the state the last good poll
started from (ccaic.watch.state.restore_base), which gives the last good bytes back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from ccaic.assembly.sources import snapshot_folder

if TYPE_CHECKING:
    from ccaic.build import BuildResult


def _files(path: Path) -> list[Path]:
    """A source's files, sorted; hidden ones (a rejected download in .incoming/) left out."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


def source_fingerprint(out_dir: Path, result: BuildResult) -> str:
    """The sha256 of every file the build's assemblies read: a remote source's snapshot in
    the build folder (synced by the build), a local source's files where they are."""
    digest = hashlib.sha256()
    for spec in result.assemblies:
        where = snapshot_folder(spec.source.kind, out_dir, spec.name) or spec.source.path
        digest.update(f"{spec.name}\n{spec.source.kind}\n".encode())
        if where is None:  # only a remote source goes without `path`: its snapshot is above
            continue
        folder = Path(where)
        for file in _files(folder):
            digest.update(f"{file.relative_to(folder) if file != folder else file.name}\n"
                          .encode() + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()
