"""The `where` evaluation as it was before issue 12 (commit 241b3d9), frozen as an oracle.

Conditions stayed AST nodes: `bind_condition` put the variables in and `evaluate` walked the
tree over a table. tests/lowering/test_lowered_conditions.py checks that the lowered predicates
give the same rows and the same diagnostics. Only the regex time box is left out (the new code
keeps it; its own test is in tests/test_variables_and_spec.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ccaic.assembly._io import normalize_id
from ccaic.diagnostics import DiagnosticError, Span, error
from ccaic.lowering.env import Env
from ccaic.syntax import ast

Table = dict[str, np.ndarray]
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_OPS: dict[str, Callable[..., object]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}
ID_FIELDS = frozenset({"id", "author", "group"})


def _literal_of(value: object, span: Span) -> ast.Expr:
    if isinstance(value, bool):
        return ast.BoolLit(span=span, value=value)
    if isinstance(value, (int, float)):
        return ast.NumberLit(span=span, raw=str(value), value=value)
    return ast.StringLit(span=span, raw=str(value), parts=(str(value),))


def bind_condition(cond: Any, env: Env) -> Any:
    if isinstance(cond, ast.StringLit) and not cond.is_constant:
        return ast.StringLit(span=cond.span, raw=cond.raw, parts=(env.string(cond),))
    if isinstance(cond, ast.ListLit):
        return cond.model_copy(update={"items": tuple(bind_condition(i, env)
                                                      for i in cond.items)})
    if isinstance(cond, ast.Member):
        collection = cond.collection
        value = env.value(collection) if isinstance(collection, ast.Reference) else None
        if isinstance(value, list):
            collection = ast.ListLit(span=collection.span, items=tuple(
                _literal_of(v, collection.span) for v in value))
        return cond.model_copy(update={"left": bind_condition(cond.left, env),
                                       "collection": bind_condition(collection, env)})
    if isinstance(cond, ast.Compare):
        return cond.model_copy(update={"left": bind_condition(cond.left, env),
                                       "right": bind_condition(cond.right, env)})
    if isinstance(cond, ast.Not):
        return cond.model_copy(update={"operand": bind_condition(cond.operand, env)})
    if isinstance(cond, (ast.And, ast.Or)):
        return cond.model_copy(update={"operands": tuple(bind_condition(o, env)
                                                         for o in cond.operands)})
    if isinstance(cond, ast.Paren):
        return cond.model_copy(update={"inner": bind_condition(cond.inner, env)})
    return cond


def _is_id(node: Any) -> bool:
    return isinstance(node, ast.FieldRef) and node.name in ID_FIELDS


def _id_text(value: object) -> object:
    return normalize_id(value) if isinstance(value, str) else value


def _size(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


def _operand(node: Any, table: Table) -> object:
    if isinstance(node, ast.FieldRef):
        return table[node.name]
    if isinstance(node, ast.NumberLit):
        return node.value
    if isinstance(node, ast.StringLit):
        return node.constant
    if isinstance(node, ast.BoolLit):
        return node.value
    raise TypeError(type(node).__name__)


def _texts(values: np.ndarray) -> np.ndarray:
    return values if values.dtype.kind == "O" else values.astype(str)


def _as_text(value: object) -> object:
    if isinstance(value, np.ndarray):
        return _texts(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(value: object, node: ast.Compare) -> object:
    try:
        return value.astype(float) if isinstance(value, np.ndarray) else float(str(value))
    except ValueError:
        pass
    bad = next(str(v) for v in (value if isinstance(value, np.ndarray) else [value])
               if not _is_number(str(v)))
    shown = bad if len(bad) <= 40 else bad[:40] + "…"
    raise DiagnosticError([error(
        "CCAI438", f"`{node.op}` orders ids as numbers, but {shown!r} is not a number",
        node.span, help="ids that are not all numbers can only be compared with == and != or "
        "listed (`id in [...]`, `listed in file(...)`)")])


def _compare(node: ast.Compare, table: Table) -> np.ndarray:
    left, right = _operand(node.left, table), _operand(node.right, table)
    textual = any(isinstance(v, np.ndarray) and v.dtype.kind in "USO" for v in (left, right))
    if textual:
        if node.op in ("==", "!="):
            left, right = _as_text(left), _as_text(right)
            if _is_id(node.left) or _is_id(node.right):
                left, right = _id_text(left), _id_text(right)
        else:
            left, right = _numbers(left, node), _numbers(right, node)
    result = _OPS[node.op](left, right)
    return np.broadcast_to(np.asarray(result, dtype=bool), (_size(table),)).copy()


def _literal(expr: ast.Expr) -> object:
    if isinstance(expr, ast.StringLit):
        return expr.constant
    if isinstance(expr, (ast.NumberLit, ast.BoolLit)):
        return expr.value
    raise TypeError(type(expr).__name__)


def evaluate(cond: Any, table: Table, read_ids: Callable[[ast.Expr], set[str]]) -> np.ndarray:
    n = _size(table)
    if isinstance(cond, ast.Compare):
        return _compare(cond, table)
    if isinstance(cond, (ast.Matches, ast.Member)):
        values = _operand(cond.left, table)
        texts = _texts(values) if isinstance(values, np.ndarray) else [str(values)] * n
        if isinstance(cond, ast.Matches):
            pattern = re.compile(cond.regex.pattern,
                                 sum(_FLAGS[f] for f in set(cond.regex.flags)))
            return np.fromiter((pattern.search(t) is not None for t in texts), dtype=bool,
                               count=n)
        if isinstance(cond.collection, ast.ListLit):
            members = {str(_as_text(_literal(i))) for i in cond.collection.items}
            if _is_id(cond.left):
                members = {normalize_id(m) for m in members}
        else:
            members = read_ids(cond.collection)
        return np.fromiter((str(t) in members for t in texts), dtype=bool, count=n)
    if isinstance(cond, ast.Not):
        return ~evaluate(cond.operand, table, read_ids)
    if isinstance(cond, (ast.And, ast.Or)):
        masks = [evaluate(op, table, read_ids) for op in cond.operands]
        start = np.ones(n, dtype=bool) if isinstance(cond, ast.And) else np.zeros(n, dtype=bool)
        for m in masks:
            start = start & m if isinstance(cond, ast.And) else start | m
        return start
    if isinstance(cond, ast.Paren):
        return evaluate(cond.inner, table, read_ids)
    value = _operand(cond, table)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "USO":
            return np.asarray(_texts(value) != "", dtype=bool)
        return value.astype(bool)
    return np.full(n, bool(value))


def condition_id_files(cond: Any) -> list[ast.Expr]:
    """The `file(...)` of `id in file(...)` tests at boolean positions (id_files.py had it)."""
    return [c.collection for c in ast.boolean_positions(cond)
            if isinstance(c, ast.Member) and isinstance(c.left, ast.FieldRef)
            and c.left.name == "id" and not isinstance(c.collection, ast.ListLit)]
