"""A rule's `where` condition, lowered: AST in, a ccaic.lowering.conditions predicate out.

Variables are put in here (`id == "${var.s}"` compares with the variable's text, `id in var.l`
with the list's items), `file(...)` paths are resolved against the .ccai file's folder, and
list members are put in the text form the rows are compared by, so the assembly stage runs
the predicate without the syntax or the variables.
"""

from __future__ import annotations

from pathlib import Path

from ccaic.assembly._io import normalize_id
from ccaic.lowering.conditions import (
    And,
    Compare,
    Const,
    FieldRef,
    InFile,
    InList,
    Matches,
    Not,
    Or,
    Predicate,
    Truthy,
    as_text,
)
from ccaic.lowering.env import Env
from ccaic.syntax import ast


def lower_condition(cond: ast.Condition, env: Env, base: Path) -> Predicate:
    """The predicate `cond` stands for; relative `file(...)` paths are relative to `base`."""
    if isinstance(cond, ast.Compare):
        return Compare(left=_operand(cond.left, env), op=cond.op,
                       right=_operand(cond.right, env), span=cond.span)
    if isinstance(cond, ast.Matches):
        return Matches(left=_operand(cond.left, env), pattern=cond.regex.pattern,
                       flags=cond.regex.flags, span=cond.regex.span)
    if isinstance(cond, ast.Member):
        return _member(cond, env, base)
    if isinstance(cond, ast.Not):
        return Not(operand=lower_condition(cond.operand, env, base))
    if isinstance(cond, ast.And):
        return And(operands=tuple(lower_condition(o, env, base) for o in cond.operands))
    if isinstance(cond, ast.Or):
        return Or(operands=tuple(lower_condition(o, env, base) for o in cond.operands))
    if isinstance(cond, ast.Paren):
        return lower_condition(cond.inner, env, base)
    return Truthy(operand=_operand(cond, env))


def _operand(node: ast.Compared | ast.Condition, env: Env) -> FieldRef | Const:
    if isinstance(node, ast.FieldRef):
        return FieldRef(name=node.name, span=node.span)
    if isinstance(node, (ast.NumberLit, ast.BoolLit)):
        return Const(value=node.value)
    if isinstance(node, ast.StringLit):
        return Const(value=env.string(node))
    if isinstance(node, ast.NullLit):  # `duplicate_of != null`: a field without a value is ""
        return Const(value="")
    raise TypeError(type(node).__name__)


def _member(cond: ast.Member, env: Env, base: Path) -> InList | InFile:
    """`field in [...]`, `field in var.l` (a list variable: its items) or `field in file(...)`."""
    left = _operand(cond.left, env)
    collection = cond.collection
    if isinstance(collection, ast.ListLit):
        values = [_literal(i, env) for i in collection.items]
    else:
        value = env.value(collection) if isinstance(collection, ast.Reference) else None
        if not isinstance(value, list):
            return InFile(left=left, path=env.path(collection, base))
        values = value
    members = {str(as_text(v)) for v in values}
    if isinstance(left, FieldRef) and left.is_id:
        members = {normalize_id(m) for m in members}
    return InList(left=left, members=tuple(sorted(members)))


def _literal(expr: ast.Expr, env: Env) -> object:
    if isinstance(expr, ast.StringLit):
        return env.string(expr)
    if isinstance(expr, (ast.NumberLit, ast.BoolLit)):
        return expr.value
    raise TypeError(f"a list of ids holds strings and numbers, not {type(expr).__name__}")
