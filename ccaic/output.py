"""Where output goes: machine-readable results on stdout, people-facing text on stderr.

Colour only on a terminal, never when NO_COLOR is set or output is piped.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ccaic.diagnostics import (
    Diagnostic,
    SourceCache,
    cap_per_file,
    diagnostics_limit,
    error,
    escape_terminal,
    render_github,
    render_json,
    render_text,
    sort_key,
)


def color_enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


class Output:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr

    def write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:  # say which output failed (the CLI reports it as CCAI601)
            if exc.filename is None:
                exc.filename = STDOUT
            raise

    def text(self, text: str) -> None:
        """A text-format result on stdout (statement texts, principles, plan values, all from
        user files): control characters escaped, line breaks and tabs kept. JSON escapes them
        itself, and CSV stays the data as read."""
        self.write(escape_terminal(text))

    def info(self, text: str) -> None:
        """A line for people; control characters (from a file name, say) are escaped."""
        text = escape_terminal(text)
        self.err.write(text if text.endswith("\n") else text + "\n")
        self.err.flush()

    def diagnostics(self, diagnostics: Sequence[Diagnostic], fmt: str = "text",
                    sources: SourceCache | None = None, quiet_ok: bool = False) -> None:
        """Text goes to stderr (it is for people); json/github go to stdout (for machines)."""
        ordered = sorted(cap_per_file(sorted(diagnostics, key=sort_key), diagnostics_limit()),
                         key=sort_key)
        if fmt == "json":
            self.write(render_json(ordered, sources))
        elif fmt == "github":
            self.write(render_github(ordered))
        elif ordered or not quiet_ok:
            self.err.write(render_text(ordered, sources, color=color_enabled(self.err)))
            self.err.flush()


# ---------------------------------------------------------------- output that cannot be written

WRITE_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or write elsewhere",
    errno.EDQUOT: "the disk quota is used up: free some space, or write elsewhere",
    errno.EFBIG: "the file is larger than this file system allows: write elsewhere",
    errno.EROFS: "the file system is read-only: write to a folder you can write to",
    errno.EACCES: "no permission to write there: write to a folder you can write to",
    errno.EPERM: "no permission to write there: write to a folder you can write to",
    errno.ENOTDIR: "a file stands where a folder is needed: remove it or write elsewhere",
    errno.EEXIST: "a file stands where a folder is needed: remove it or write elsewhere",
    errno.EISDIR: "a folder stands where a file is written: remove it or write elsewhere",
    errno.ENOENT: "the folder cannot be created there: write to an ordinary folder",
}
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
STDOUT = "standard output"


def write_error(exc: OSError, path: str | Path) -> Diagnostic:
    """CCAI601: an output that could not be written, naming it and saying why, in words."""
    where = exc.filename if isinstance(exc.filename, str) else str(path)
    return error("CCAI601", f"cannot write {where}: {exc.strerror or exc}",
                 help=WRITE_HINTS.get(exc.errno or 0, "write to another folder"))


def output_failure(exc: OSError, outputs: Sequence[str | Path]) -> Diagnostic | None:
    """The CCAI601 for an OSError met while writing one of `outputs` (files or folders, and what
    is below them); None when the error is about anything else, which stays a crash (exit 3)."""
    if exc.filename == STDOUT or exc.errno in FULL:  # only writes fill a disk
        return write_error(exc, outputs[0] if outputs else STDOUT)
    names = [n for n in (exc.filename, exc.filename2) if isinstance(n, str)]
    for name in names:
        for output in outputs:
            if _related(Path(name), Path(output)):
                return write_error(exc, output)
    return None


def _related(path: Path, output: Path) -> bool:
    """`path` is the output, below it, or a folder the output is to be created in."""
    a, b = Path(os.path.abspath(path)), Path(os.path.abspath(output))
    return a == b or b in a.parents or a in b.parents
