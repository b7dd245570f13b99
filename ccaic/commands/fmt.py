"""`ccaic fmt [PATH...|-] [--check] [--diff]`: rewrite files in the one canonical style."""

from __future__ import annotations

import argparse
import difflib

from ccaic.commands.common import find_ccai_files
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fmt", help="format .ccai files in the canonical style",
                       description="Rewrite .ccai files in place in the one canonical style "
                       "(no options). `-` reads stdin and writes stdout.")
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help=".ccai files or folders (default: .), or - for stdin")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 and list the files that are not formatted")
    p.add_argument("--diff", action="store_true",
                   help="change nothing; print a unified diff of what would change")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.atomic import write_text_atomic
    from ccaic.diagnostics import DiagnosticError, SourceCache
    from ccaic.output import write_error
    from ccaic.syntax.fmt import format_file
    from ccaic.syntax.parser import parse, read_source, read_stdin_source

    files = find_ccai_files(args.paths)
    failed = False
    unformatted: list[str] = []
    for path in files:
        text = ""
        try:
            text = read_stdin_source() if path == "-" else read_source(path)
            name = "<stdin>" if path == "-" else path
            formatted = format_file(parse(text, name))
        except DiagnosticError as exc:
            sources = SourceCache({"<stdin>": text}) if path == "-" else None
            out.diagnostics(exc.diagnostics, "text", sources)
            failed = True
            continue
        if path == "-" and not args.check and not args.diff:
            out.write(formatted)
            continue
        if formatted == text:
            continue
        unformatted.append(path)
        if args.diff:
            out.write("".join(difflib.unified_diff(
                text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                fromfile=f"{path} (original)", tofile=f"{path} (formatted)")))
        if args.check:
            out.info(f"would reformat {path}")
        elif path != "-" and not args.diff:  # --diff only prints, as black and gofmt -d do
            try:
                write_text_atomic(path, formatted)
            except OSError as exc:  # read-only, full disk: the file is left as it was
                out.diagnostics([write_error(exc, path)], "text")
                failed = True
                continue
            out.info(f"formatted {path}")
    if failed:
        return 1
    if args.check and unformatted:
        n = len(unformatted)
        out.info(f"{n} file{'s' if n != 1 else ''} would be reformatted")
        return 1
    return 0
