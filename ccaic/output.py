"""Where output goes: machine-readable results on stdout, people-facing text on stderr.

Colour only on a terminal, never when NO_COLOR is set or output is piped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from ccaic.diagnostics import (
    Diagnostic,
    SourceCache,
    cap_per_file,
    diagnostics_limit,
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
        self.out.write(text)
        self.out.flush()

    def info(self, text: str) -> None:
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
