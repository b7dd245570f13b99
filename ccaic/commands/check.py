"""`ccaic check PATH...`: parse and check, read no data, need no variable values."""

from __future__ import annotations

import argparse

from ccaic.commands.common import add_format, add_vars, find_ccai_files, program_sources
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="check .ccai files for errors (reads no data)",
                       description="Parse and check .ccai files and their imports. Reads no data "
                       "files and needs no variable values, like `terraform validate`.")
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help=".ccai files or folders (default: .); - reads stdin")
    add_format(p, ("text", "json", "github"))
    add_vars(p, "check a variable value too (not needed: check needs no values)")
    p.add_argument("--warnings-as-errors", action="store_true",
                   help="exit 1 when there are warnings too")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.check.checker import check_paths
    from ccaic.diagnostics import DiagnosticError, count, error, summary_line
    from ccaic.syntax.parser import read_stdin_source

    files = find_ccai_files(args.paths)
    if not files:
        diags = [error("CCAI100", f"no .ccai files found in {', '.join(args.paths)}",
                       help="pass .ccai files or a folder that contains some")]
        out.diagnostics(diags, args.format)
        return 1
    try:
        stdin_text = read_stdin_source() if "-" in files else None
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, args.format)
        return 1
    programs, diagnostics = check_paths(files, stdin_text)
    from ccaic.check.templates import check_interpolated
    from ccaic.check.variables import parse_cli_vars, resolve_variables

    cli_vars, var_diags = parse_cli_vars(args.var)
    diagnostics.extend(var_diags)
    for program in programs:  # values from --var and defaults: templates are checked with them
        values, value_diags = resolve_variables(program, cli_vars, require_values=False)
        diagnostics.extend(value_diags + check_interpolated(program, values))
    sources = program_sources(programs)
    errors, warnings = count(diagnostics)
    out.diagnostics(diagnostics, args.format, sources, quiet_ok=True)
    if args.format == "text" and not diagnostics:
        n = len(files)
        out.info(f"ok: {n} file{'s' if n != 1 else ''} checked, {summary_line(diagnostics)}")
    if errors or (args.warnings_as_errors and warnings):
        return 1
    return 0
