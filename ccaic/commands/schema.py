"""`ccaic schema [NAME]`: the JSON Schema of a format ccaic publishes (ccaic.artifacts)."""

from __future__ import annotations

import argparse

from ccaic.canonical import canonical_json
from ccaic.output import Output
from ccaic.registry.artifacts import ARTIFACTS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    names = ", ".join(ARTIFACTS.names())
    p = sub.add_parser("schema", help=f"print a JSON Schema: {names} (default: ast)",
                       description="Print the JSON Schema of a format ccaic publishes: the "
                       ".ccai AST, a file a build (or watch, suggest) writes, or a "
                       "command's --format json output.")
    # not argparse choices: an unknown name is a coded diagnostic (CCAI603), not a usage error
    p.add_argument("name", nargs="?", default="ast", metavar="NAME",
                   help=f"which schema: {names} (default: ast)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    if args.name not in ARTIFACTS:
        from ccaic.check.checker import did_you_mean
        from ccaic.diagnostics import error

        guess = did_you_mean(args.name, ARTIFACTS.names())
        out.diagnostics([error(
            "CCAI603", f"no schema named `{args.name}`",
            help=(f"did you mean `{guess}`? " if guess else "")
            + f"ccaic publishes: {', '.join(ARTIFACTS.names())}")], "text")
        return 1
    from ccaic.artifacts import json_schema

    out.write(canonical_json(json_schema(args.name), ascii=True))
    return 0
