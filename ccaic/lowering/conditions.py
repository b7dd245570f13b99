"""Evaluate a moderation rule's `where` condition over a table of fields, vectorised.

A table is a mapping from field name to a numpy array (one entry per statement or
participant). Ids are compared as text, so `id == 12` and `id == "12"` mean the same thing, and
a literal compared with an id field is put in the sources' normal form first, so `id == "643.0"`
and `id in ["643.0"]` match participant 643 as `listed in ["643.0"]` does.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from ccaic.assembly._io import normalize_id
from ccaic.diagnostics import DiagnosticError, error
from ccaic.files import limit_from_env
from ccaic.syntax import ast

Table = Mapping[str, npt.NDArray[np.generic]]
Mask = npt.NDArray[np.bool_]

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_OPS: dict[str, Callable[..., object]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}


#: Default time one `matches` test may take over all rows of a table, in seconds; a regex
#: that backtracks catastrophically (`/^(\w+\s?)*$/` on a long sentence) ran forever.
REGEX_MAX_SECONDS = 10
REGEX_ENV = "CCAIC_REGEX_MAX_SECONDS"


class _Expired(Exception):
    pass


@contextmanager
def _time_box(seconds: int) -> Iterator[None]:
    """Raise _Expired in the block after `seconds` (SIGALRM: `re` checks for signals while it
    matches). Only the main thread can take signals; elsewhere, and for 0, no limit."""
    if (seconds <= 0 or threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "setitimer")):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _matches(cond: ast.Matches, texts: np.ndarray | list[str], n: int) -> Mask:
    """`field matches /re/` over the rows, time-boxed; CCAI437 at the regex past the limit."""
    pattern = re.compile(cond.regex.pattern, sum(_FLAGS[f] for f in set(cond.regex.flags)))
    limit = limit_from_env(REGEX_ENV, REGEX_MAX_SECONDS)
    try:
        with _time_box(limit):
            return np.fromiter((pattern.search(t) is not None for t in texts), dtype=bool,
                               count=n)
    except _Expired:
        raise DiagnosticError([error(
            "CCAI437", f"the regex /{cond.regex.pattern[:60]}/ took over {limit} s to test "
            "the rows", cond.regex.span,
            help="it backtracks catastrophically (nested repeats such as (a+)+ or (\\w+\\s?)*); "
            f"simplify it, or raise {REGEX_ENV} (docs/limits.md)")]) from None


#: Fields whose values are ids, loaded in normal form (`normalize_id`): author ids and group
#: labels too.
ID_FIELDS = frozenset({"id", "author", "group"})


def _is_id(node: ast.Operand | ast.Condition) -> bool:
    return isinstance(node, ast.FieldRef) and node.name in ID_FIELDS


def _id_text(value: object) -> object:
    return normalize_id(value) if isinstance(value, str) else value


def _size(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


def _operand(node: ast.Operand | ast.Condition, table: Table) -> object:
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
    """Text values as they are: object arrays of str stay object (no fixed-width copy, which
    costs rows x the longest text); other arrays become str."""
    return values if values.dtype.kind == "O" else values.astype(str)


def _as_text(value: object) -> object:
    if isinstance(value, np.ndarray):
        return _texts(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _compare(node: ast.Compare, table: Table) -> Mask:
    left, right = _operand(node.left, table), _operand(node.right, table)
    textual = any(isinstance(v, np.ndarray) and v.dtype.kind in "USO" for v in (left, right))
    if textual:
        if node.op in ("==", "!="):
            left, right = _as_text(left), _as_text(right)
            if _is_id(node.left) or _is_id(node.right):
                left, right = _id_text(left), _id_text(right)
        else:  # ordering on ids: numeric where every id is a number
            left, right = _numbers(left, node), _numbers(right, node)
    result = _OPS[node.op](left, right)
    return np.broadcast_to(np.asarray(result, dtype=bool), (_size(table),)).copy()


def _numbers(value: object, node: ast.Compare) -> object:
    """Ids (or a literal) as numbers for `<`, `>`...; CCAI438 at the comparison when one is
    not a number: `id > 2` over ids such as "p0" exited 3."""
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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _truthy(value: object, n: int) -> Mask:
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "USO":
            return np.asarray(_texts(value) != "", dtype=bool)
        return value.astype(bool)
    return np.full(n, bool(value))


def evaluate(cond: ast.Condition, table: Table,
             read_ids: Callable[[ast.Expr], set[str]] | None = None) -> Mask:
    """The rows of `table` for which `cond` holds."""
    n = _size(table)
    if isinstance(cond, ast.Compare):
        return _compare(cond, table)
    if isinstance(cond, ast.Matches):
        values = _operand(cond.left, table)
        texts = _texts(values) if isinstance(values, np.ndarray) else [str(values)] * n
        return _matches(cond, texts, n)
    if isinstance(cond, ast.Member):
        values = _operand(cond.left, table)
        if isinstance(cond.collection, ast.ListLit):
            members = {str(_as_text(_literal(i))) for i in cond.collection.items}
            if _is_id(cond.left):
                members = {normalize_id(m) for m in members}
        elif read_ids is not None:
            members = read_ids(cond.collection)
        else:
            raise ValueError("this condition reads a file; no reader was given")
        texts = _texts(values) if isinstance(values, np.ndarray) else [str(values)] * n
        return np.fromiter((str(t) in members for t in texts), dtype=bool, count=n)
    if isinstance(cond, ast.Not):
        return ~evaluate(cond.operand, table, read_ids)
    if isinstance(cond, ast.And):
        mask = np.ones(n, dtype=bool)
        for op in cond.operands:
            mask &= evaluate(op, table, read_ids)
        return mask
    if isinstance(cond, ast.Or):
        mask = np.zeros(n, dtype=bool)
        for op in cond.operands:
            mask |= evaluate(op, table, read_ids)
        return mask
    if isinstance(cond, ast.Paren):
        return evaluate(cond.inner, table, read_ids)
    return _truthy(_operand(cond, table), n)


def _literal(expr: ast.Expr) -> object:
    if isinstance(expr, ast.StringLit):
        return expr.constant
    if isinstance(expr, (ast.NumberLit, ast.BoolLit)):
        return expr.value
    raise TypeError(f"a list of ids holds strings and numbers, not {type(expr).__name__}")
