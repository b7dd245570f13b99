"""Variable values: `--var name=value` from the command line, else the declared default.

`ccaic check` needs no values; when `--var` is given anyway (and always at build time) the
names and types are checked here, and relative `path` values are kept as written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ccaic.check.checker import Program, did_you_mean
from ccaic.diagnostics import Diagnostic, Note, error
from ccaic.syntax import ast

Value = str | int | float | bool | list[object] | None


@dataclass(frozen=True)
class CliVar:
    name: str
    raw: str


def parse_cli_vars(items: Sequence[str]) -> tuple[list[CliVar], list[Diagnostic]]:
    """`name=value` pairs; a missing `=` is a CCAI218 error."""
    out: list[CliVar] = []
    diags: list[Diagnostic] = []
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            diags.append(error("CCAI218", f"--var {item!r} is not name=value",
                               help="write --var data=path/to/export"))
            continue
        out.append(CliVar(name.strip(), raw))
    return out, diags


def _declared_type(block: ast.Block) -> str:
    attr = block.attributes().get("type")
    if attr is not None and isinstance(attr.value, ast.Reference):
        return attr.value.parts[0].name
    return "string"


def _convert(raw: str, type_name: str) -> Value:
    """Command-line text to the declared type; raises ValueError with a reason."""
    if type_name in ("string", "path"):
        return raw
    if type_name == "number":
        try:
            return int(raw)
        except ValueError:
            pass
        try:
            return float(raw)
        except ValueError:
            raise ValueError("expected a number such as 3 or 0.5") from None
    if type_name == "bool":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ValueError("expected true or false")
    if type_name == "list":
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("expected a JSON list such as [1, 2]") from None
        if not isinstance(value, list):
            raise ValueError("expected a JSON list such as [1, 2]")
        return value
    return raw


def _literal(expr: ast.Expr) -> Value:
    if isinstance(expr, ast.StringLit):
        return expr.constant
    if isinstance(expr, (ast.NumberLit, ast.BoolLit)):
        return expr.value
    if isinstance(expr, ast.ListLit):
        return [_literal(i) for i in expr.items]
    return None


def resolve_variables(program: Program, cli_vars: Sequence[CliVar], require_values: bool
                      ) -> tuple[dict[str, Value], list[Diagnostic]]:
    """Values for every declared variable; errors for unknown names, bad types, missing values."""
    declared = {name: block for (kind, name), block in program.symbols.items()
                if kind == "variable"}
    values: dict[str, Value] = {}
    diags: list[Diagnostic] = []
    given: dict[str, str] = {}
    for var in cli_vars:
        if var.name not in declared:
            guess = did_you_mean(var.name, declared)
            diags.append(error(
                "CCAI218", f"--var {var.name}: no variable named `{var.name}`",
                help=f"did you mean `{guess}`?" if guess else
                f"declare it: variable \"{var.name}\" {{ type = string }}"))
            continue
        given[var.name] = var.raw
    for name, block in sorted(declared.items()):
        type_name = _declared_type(block)
        if name in given:
            try:
                values[name] = _convert(given[name], type_name)
                if type_name == "path":
                    values[name] = str(Path(given[name]).resolve())
            except (ValueError, json.JSONDecodeError) as exc:
                diags.append(error(
                    "CCAI218", f"--var {name}={given[name]!r} is not a {type_name}: {exc}",
                    notes=[Note(message="declared here", span=block.labels[0].span)],
                    help=f"give a {type_name} value"))
            continue
        default = block.attributes().get("default")
        if default is not None:
            values[name] = _literal(default.value)
            if type_name == "path" and isinstance(values[name], str):
                values[name] = str((base_dir(block) / str(values[name])).resolve())
        elif require_values:
            diags.append(error(
                "CCAI218", f"variable `{name}` has no value", block.labels[0].span,
                help=f"pass --var {name}=... or give it a default"))
    return values, diags


def base_dir(block: ast.Node) -> Path:
    """Relative paths in a file are relative to that file's folder."""
    return Path(block.span.file).resolve().parent
