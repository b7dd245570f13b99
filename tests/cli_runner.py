"""Run the ccaic CLI in-process, the way the tests drive it: argv and stdin in, (exit code,
stdout, stderr) out."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

from ccaic.cli import main
from ccaic.output import Output


def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(argv, Output(stdout, stderr))
    finally:
        sys.stdin = old
    return code, stdout.getvalue(), stderr.getvalue()


@dataclass(frozen=True)
class CliBuild:
    """One `ccaic build` run through the CLI: its spec, output folder and what it printed."""

    spec: Path
    out: Path
    code: int
    stdout: str
    stderr: str
