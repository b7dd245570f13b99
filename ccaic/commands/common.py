"""Helpers shared by commands: finding .ccai files, the options several take (--format,
--var, -o, --offline), checking -o."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccaic.check.checker import Program
    from ccaic.diagnostics import Diagnostic, SourceCache

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".tox"}


def find_ccai_files(paths: list[str]) -> list[str]:
    """Expand folders to the .ccai files below them (sorted), keep files and `-` as given."""
    found: list[str] = []
    for raw in paths:
        path = Path(raw)
        if raw != "-" and is_folder(path):
            for candidate in sorted(path.rglob("*.ccai")):
                parts = set(candidate.relative_to(path).parts[:-1])
                if parts & SKIP_DIRS or any(p.startswith(".") for p in parts):
                    continue
                found.append(str(candidate))
        else:
            found.append(raw)
    return found


def is_folder(path: Path) -> bool:
    """Whether a path named on the command line is a folder; a name too long or a symlink
    loop is for the reader to report (CCAI113), not a crash here (Path.is_dir raises)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("text", "json"),
               default: str = "text") -> None:
    parser.add_argument("--format", choices=choices, default=default,
                        help=f"output format (default {default}); json goes to stdout only")


def add_vars(parser: argparse.ArgumentParser, help: str = "set a variable (repeatable)") -> None:
    """--var NAME=VALUE, repeatable: args.var is the list of them as given."""
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help=help)


def add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", default="build", help="output folder (default: build)")


def add_offline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true",
                        help="make no network request: polis_api sources read their last snapshot")


def not_a_folder(out_dir: str) -> Diagnostic | None:
    """CCAI602 when -o names a file (or a path through one): artifacts need a folder."""
    from ccaic.diagnostics import error

    path = Path(out_dir)
    blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocker is None:
        return None
    where = "is a file" if blocker == path else f"is under {blocker}, which is a file"
    return error("CCAI602", f"the output folder {out_dir} {where}, not a folder",
                 help="pass -o a folder (it is created when missing), e.g. -o build")


def program_sources(programs: Sequence[Program]) -> SourceCache:
    """The checked programs' texts, for diagnostics to quote (stdin included)."""
    from ccaic.diagnostics import SourceCache

    return SourceCache({k: v for p in programs for k, v in p.sources.items()})
