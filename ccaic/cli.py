"""The `ccaic` command line: a thin shell that maps arguments to stages and results to exit codes.

Exit codes: 0 success; 1 any error, usage errors included (argparse's 2 is remapped);
2 "changes present", only under --detailed-exitcode; 3 an internal error (a ccaic bug).
Command modules are imported here, so they must keep heavy imports (numpy, torch) inside
their run functions: `ccaic check` must stay fast and never import torch.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from importlib import import_module
from typing import NoReturn

from ccaic import __version__
from ccaic.output import Output, output_failure

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERNAL = 3

# Module names under ccaic.commands, in the order `ccaic --help` lists them.
COMMANDS = ("check", "fmt", "analyze", "build", "show", "diff", "suggest", "evaluate",
            "explain", "schema", "init", "watch")


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; we reserve 2 for "changes present"."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> Parser:
    parser = Parser(prog="ccaic", description="The Collective Constitutional AI compiler.")
    parser.add_argument("--version", action="version", version=f"ccaic {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        try:
            module = import_module(f"ccaic.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ccaic.commands.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: Output | None = None) -> int:
    out = out or Output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        out.info(parser.format_usage().rstrip())
        out.info(f"error: {exc}")
        return EXIT_ERROR
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    if not getattr(args, "run", None):
        out.info(parser.format_help())
        return EXIT_ERROR
    try:
        return int(args.run(args, out))
    except KeyboardInterrupt:
        out.info("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # an output that cannot be written is the user's to fix, not a bug
        outputs = getattr(args, "outputs", None)
        failure = output_failure(exc, outputs(args) if outputs else [])
        if failure is None:
            return _crash(out)
        fmt = getattr(args, "format", "text")
        try:
            out.diagnostics([failure], fmt if fmt in ("json", "github") else "text")
        except OSError:  # standard output may be what cannot be written: say it on stderr
            out.diagnostics([failure], "text")
        return EXIT_ERROR
    except Exception:
        return _crash(out)


def _crash(out: Output) -> int:
    """A ccaic bug: say so plainly, keep the traceback out of the user's way."""
    report = _write_crash_report(traceback.format_exc())
    out.info("internal error: ccaic hit a bug it could not recover from (exit code 3).")
    out.info(f"The details are in {report}; please attach that file to a bug report.")
    return EXIT_INTERNAL


def _write_crash_report(text: str) -> str:
    import os
    import tempfile

    if os.environ.get("CCAIC_DEBUG"):
        sys.stderr.write(text)
    fd, path = tempfile.mkstemp(prefix="ccaic-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"ccaic {__version__}\n{text}")
    return path


if __name__ == "__main__":
    sys.exit(main())
