"""Variable values: `--var name=value` from the command line, else the declared default.

`ccaic check` needs no values; when `--var` is given anyway (and always at build time) the
names and types are checked here, and relative `path` values are kept as written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ccaic.check.checker import Checker, Program, did_you_mean, quoted_number
from ccaic.check.consensus import method_attr
from ccaic.check.schema import SCHEMA, Attr, BlockSpec
from ccaic.diagnostics import Diagnostic, Note, Span, error
from ccaic.files import resolved
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
    if type_name == "path":
        problem = path_problem(raw)
        if problem:
            raise ValueError(problem)
        return raw
    if type_name == "string":
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


NAME_MAX, PATH_MAX = 255, 4096  # bytes, Linux's limits (macOS and Windows allow less)


def path_problem(text: str) -> str | None:
    """Why `text` cannot name a file on any system, or None; reads nothing."""
    if "\x00" in text:
        return "a path cannot contain a NUL character"
    try:
        encoded = os.fsencode(text)
    except UnicodeEncodeError:
        return "the path holds characters that no file name can have"
    if len(encoded) > PATH_MAX:
        return f"the path is {len(encoded)} bytes long; paths are at most {PATH_MAX}"
    longest = max((len(os.fsencode(part)) for part in Path(text).parts), default=0)
    if longest > NAME_MAX:
        return f"a file name in the path is {longest} bytes long; names are at most {NAME_MAX}"
    return None


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
                    values[name] = str(resolved(given[name]))
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
                values[name] = str(resolved(base_dir(block) / str(values[name])))
        elif require_values:
            diags.append(error(
                "CCAI218", f"variable `{name}` has no value", block.labels[0].span,
                help=f"pass --var {name}=... or give it a default"))
    if not diags:
        diags.extend(check_values(program, {
            name: (value, "--var" if name in given else "default")
            for name, value in values.items()
            if _has_type(value, _declared_type(declared[name]))}))
    return values, diags


def base_dir(block: ast.Node) -> Path:
    """Relative paths in a file are relative to that file's folder."""
    return Path(block.span.file).resolve().parent


def _has_type(value: Value, type_name: str) -> bool:
    """A default of the wrong type is the checker's CCAI206 already; it is not checked again."""
    if value is None:
        return False  # null: as if the attribute were not set
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str, "path": str, "number": (int, float), "bool": bool, "list": list}
    wanted = expected.get(type_name, object)
    return isinstance(value, wanted) and not (type_name == "number" and isinstance(value, bool))


# ---------------------------------------------------------------- values at their use sites


def check_values(program: Program, values: dict[str, tuple[Value, str]]) -> list[Diagnostic]:
    """Every `attr = var.x` with x's value known, checked by the rules a literal gets.

    The value is turned back into a literal at the use site and given to the checker's own type
    and range checks (one rule table: ccaic.check.schema), so `--var threshold=1.5` is the
    CCAI207 that `threshold = 1.5` is, and no value reaches the build stages unchecked.
    """
    checker = Checker(program)
    for tree in program.files.values():
        for block in tree.blocks():
            spec = SCHEMA.get(block.type.name)
            if spec is not None:
                _check_block_values(checker, block, spec, values)
    return checker.diagnostics


def _check_block_values(checker: Checker, block: ast.Block, spec: BlockSpec,
                        values: dict[str, tuple[Value, str]]) -> None:
    for item in block.body:
        if isinstance(item, ast.Block) and item.type.name in spec.blocks:
            _check_block_values(checker, item, spec.blocks[item.type.name], values)
        if not isinstance(item, ast.Attribute) or item.name.name not in spec.attrs:
            continue
        ref = item.value
        if not (isinstance(ref, ast.Reference) and len(ref.parts) == 2
                and ref.parts[0].name == "var" and ref.parts[1].name in values):
            continue
        attr = method_attr(block, item.name.name, spec.attrs[item.name.name])
        if attr.type == "type_name":
            continue
        value, origin = values[ref.parts[1].name]
        before = len(checker.diagnostics)
        literal = as_literal(value, ref.span)
        ends = literal.items if isinstance(literal, ast.ListLit) else ()
        if attr.type == "int_or_range" and len(ends) == 2 and \
                isinstance(ends[0], ast.NumberLit) and isinstance(ends[1], ast.NumberLit):
            # a [low, high] list is how a variable gives a range (lowering.assembly reads it so)
            literal = ast.RangeLit(start=ends[0], end=ends[1], span=ref.span)
        checker.check_type(item.name.name, literal, attr, attr.type)
        if block.type.name == "stability" and item.name.name == "groupings":
            checker.check_groupings(literal)  # as check_block_semantics does for a literal
        name = ref.parts[1].name
        declared = checker.program.symbols[("variable", name)]
        where = f"var.{name} = {_shown(value)}, from {origin}"
        hint = _number_hint(name, attr, value)
        checker.diagnostics[before:] = [d.model_copy(update={
            "message": f"{d.message} ({where})", "span": ref.span,
            "help": hint if hint and d.code == "CCAI215" else d.help,
            "notes": (*d.notes, Note(message=f"variable `{name}` is declared here",
                                     span=declared.labels[0].span))})
            for d in checker.diagnostics[before:]]


def _number_hint(name: str, attr: Attr, value: Value) -> str | None:
    """For a string variable spelling a number where one is meant (`pass = var.p`, p = "0.5"):
    no quotes to remove in the .ccai file, the variable must hold a number."""
    number = quoted_number(value) if isinstance(value, str) else None
    if attr.type != "choice_or_number" or number is None:
        return None
    return (f"give var.{name} a number: declare it `type = number`, then `--var {name}={number}`"
            f" or `default = {number}` is the number {number}")


def as_literal(value: Value, span: Span) -> ast.Expr:
    """A variable's value as the literal that would have been written in its place."""
    if isinstance(value, bool):
        return ast.BoolLit(value=value, span=span)
    if isinstance(value, (int, float)):
        return ast.NumberLit(value=value, raw=_shown(value), span=span)
    if isinstance(value, str):
        return ast.StringLit(raw=json.dumps(value), parts=(value,), span=span)
    if isinstance(value, list):
        return ast.ListLit(items=tuple(as_literal(v, span)  # type: ignore[arg-type]
                                       for v in value), span=span)
    return ast.NullLit(span=span)


def _shown(value: Value) -> str:
    """A value as the .ccai text that writes it (true, 0.5, "text", [1, 2])."""
    return repr(value) if isinstance(value, float) else json.dumps(value, ensure_ascii=False)
