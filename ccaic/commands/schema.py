"""`ccaic schema [ast]`: the JSON Schema of a published format."""

from __future__ import annotations

import argparse

from ccaic.canonical import canonical_json
from ccaic.output import Output

SCHEMAS = ("ast", "plan")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print a JSON Schema: ast (default) or plan",
                       description="Print the JSON Schema of a format ccaic publishes.")
    p.add_argument("name", nargs="?", default="ast", choices=SCHEMAS,
                   help="which schema (default: ast)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    if args.name == "plan":
        from ccaic.plan.model import plan_json_schema

        schema = plan_json_schema()
    else:
        from ccaic.syntax.ast import json_schema

        schema = json_schema()
    out.write(canonical_json(schema, ascii=True))
    return 0
