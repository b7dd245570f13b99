"""Moderation conditions as lowered predicates, and their vectorised evaluation over a table.

`ccaic.lowering.lower_conditions` compiles a rule's `where` condition (variables already put in,
`file(...)` paths already resolved) into the frozen tree below; the assembly stage asks it for
`mask(table)` and never sees the syntax. A table maps a field name to a numpy array (one entry
per statement or participant). Ids are compared as text, so `id == 12` and `id == "12"` mean
the same thing, and a literal compared with an id field is put in the sources' normal form first,
so `id == "643.0"` and `id in ["643.0"]` match participant 643 as `listed in ["643.0"]` does.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Literal, Union

import numpy as np
import numpy.typing as npt
import pydantic
from pydantic import BaseModel, ConfigDict

from ccaic.assembly._io import normalize_id
from ccaic.assembly.moderation import read_id_file
from ccaic.diagnostics import DiagnosticError, Span, error
from ccaic.files import limit_from_env

Table = Mapping[str, npt.NDArray[np.generic]]
Mask = npt.NDArray[np.bool_]
Scalar = Union[str, int, float, bool]  # noqa: UP007 (a runtime alias)

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_OPS: dict[str, Callable[..., object]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal,
}

#: Default time one `matches` test may take over all rows of a table, in seconds; a regex
#: that backtracks catastrophically (`/^(\w+\s?)*$/` on a long sentence) ran forever.
REGEX_MAX_SECONDS = 10
REGEX_ENV = "CCAIC_REGEX_MAX_SECONDS"

#: Fields whose values are ids, loaded in normal form (`normalize_id`): author ids, group
#: labels and the statement a near-duplicate repeats (`duplicate_of`) too.
ID_FIELDS = frozenset({"id", "author", "group", "duplicate_of"})


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True)


# ---------------------------------------------------------------- operands


class FieldRef(_Node):
    """A field of the table (`votes`, `text`, ...); the span is where the condition names it."""

    kind: Literal["field"] = "field"
    name: str
    span: Span

    @property
    def is_id(self) -> bool:
        return self.name in ID_FIELDS

    def read(self, table: Table) -> object:
        return table[self.name]


class Const(_Node):
    """A literal operand, variables already put in."""

    kind: Literal["const"] = "const"
    value: Scalar

    @property
    def is_id(self) -> bool:
        return False

    def read(self, table: Table) -> object:
        return self.value


Operand = Annotated[Union[FieldRef, Const], pydantic.Field(discriminator="kind")]  # noqa: UP007


# ---------------------------------------------------------------- predicates


class Compare(_Node):
    kind: Literal["compare"] = "compare"
    left: Operand
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    right: Operand
    span: Span  # the comparison: where CCAI438 points

    def mask(self, table: Table) -> Mask:
        left, right = self.left.read(table), self.right.read(table)
        if any(isinstance(v, np.ndarray) and v.dtype.kind in "USO" for v in (left, right)):
            if self.op in ("==", "!="):
                left, right = as_text(left), as_text(right)
                if self.left.is_id or self.right.is_id:
                    left, right = _id_text(left), _id_text(right)
            else:  # ordering on ids: numeric where every id is a number
                left, right = self._numbers(left), self._numbers(right)
        result = _OPS[self.op](left, right)
        return np.broadcast_to(np.asarray(result, dtype=bool), (_size(table),)).copy()

    def _numbers(self, value: object) -> object:
        """Ids (or a literal) as numbers for `<`, `>`...; CCAI438 at the comparison when one
        is not a number: `id > 2` over ids such as "p0" exited 3."""
        try:
            return value.astype(float) if isinstance(value, np.ndarray) else float(str(value))
        except ValueError:
            pass
        bad = next(str(v) for v in (value if isinstance(value, np.ndarray) else [value])
                   if not _is_number(str(v)))
        shown = bad if len(bad) <= 40 else bad[:40] + "…"
        raise DiagnosticError([error(
            "CCAI438", f"`{self.op}` orders ids as numbers, but {shown!r} is not a number",
            self.span, help="ids that are not all numbers can only be compared with == and != "
            "or listed (`id in [...]`, `listed in file(...)`)")])

    def fields(self) -> Iterator[FieldRef]:
        yield from _fields(self.left)
        yield from _fields(self.right)


class Matches(_Node):
    """`field matches /re/`, time-boxed; the span is the regex's (CCAI437 points there)."""

    kind: Literal["matches"] = "matches"
    left: Operand
    pattern: str
    flags: str
    span: Span

    def mask(self, table: Table) -> Mask:
        n = _size(table)
        pattern = re.compile(self.pattern, sum(_FLAGS[f] for f in set(self.flags)))
        limit = limit_from_env(REGEX_ENV, REGEX_MAX_SECONDS)
        texts = _row_texts(self.left.read(table), n)
        try:
            with _time_box(limit):
                return np.fromiter((pattern.search(t) is not None for t in texts), dtype=bool,
                                   count=n)
        except _Expired:
            raise DiagnosticError([error(
                "CCAI437", f"the regex /{self.pattern[:60]}/ took over {limit} s to test "
                "the rows", self.span,
                help="it backtracks catastrophically (nested repeats such as (a+)+ or "
                f"(\\w+\\s?)*); simplify it, or raise {REGEX_ENV} (docs/limits.md)")]) from None

    def fields(self) -> Iterator[FieldRef]:
        yield from _fields(self.left)


class InList(_Node):
    """`field in [...]`: the members as text, in the sources' normal form for id fields."""

    kind: Literal["in_list"] = "in_list"
    left: Operand
    members: tuple[str, ...]  # sorted, so the spec (and the assembly cache key) is stable

    def mask(self, table: Table) -> Mask:
        return _member_mask(self.left.read(table), set(self.members), _size(table))

    def fields(self) -> Iterator[FieldRef]:
        yield from _fields(self.left)


class InFile(_Node):
    """`field in file(...)`: the ids of a one-id-per-line file, read when the rule runs."""

    kind: Literal["in_file"] = "in_file"
    left: Operand
    path: str  # absolute

    def mask(self, table: Table) -> Mask:
        return _member_mask(self.left.read(table), set(read_id_file(self.path)), _size(table))

    def fields(self) -> Iterator[FieldRef]:
        yield from _fields(self.left)


class Truthy(_Node):
    """A bare operand as a condition (`meta`): non-zero, non-empty."""

    kind: Literal["truthy"] = "truthy"
    operand: Operand

    def mask(self, table: Table) -> Mask:
        value = self.operand.read(table)
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "USO":
                return np.asarray(_texts(value) != "", dtype=bool)
            return value.astype(bool)
        return np.full(_size(table), bool(value))

    def fields(self) -> Iterator[FieldRef]:
        yield from _fields(self.operand)


class Not(_Node):
    kind: Literal["not"] = "not"
    operand: Predicate

    def mask(self, table: Table) -> Mask:
        return ~self.operand.mask(table)

    def fields(self) -> Iterator[FieldRef]:
        yield from self.operand.fields()


class And(_Node):
    kind: Literal["and"] = "and"
    operands: tuple[Predicate, ...]

    def mask(self, table: Table) -> Mask:
        mask = np.ones(_size(table), dtype=bool)
        for op in self.operands:
            mask &= op.mask(table)
        return mask

    def fields(self) -> Iterator[FieldRef]:
        for op in self.operands:
            yield from op.fields()


class Or(_Node):
    kind: Literal["or"] = "or"
    operands: tuple[Predicate, ...]

    def mask(self, table: Table) -> Mask:
        mask = np.zeros(_size(table), dtype=bool)
        for op in self.operands:
            mask |= op.mask(table)
        return mask

    def fields(self) -> Iterator[FieldRef]:
        for op in self.operands:
            yield from op.fields()


Predicate = Annotated[
    Union[Compare, Matches, InList, InFile, Truthy, Not, And, Or],  # noqa: UP007
    pydantic.Field(discriminator="kind"),
]
for _model in (Not, And, Or):
    _model.model_rebuild()


def id_files(predicate: Predicate) -> list[str]:
    """The files of `id in file(...)` tests anywhere in a condition (through and/or/not), in
    order: the build warns about their ids that match nothing (CCAI434)."""
    if isinstance(predicate, (And, Or)):
        return [p for op in predicate.operands for p in id_files(op)]
    if isinstance(predicate, Not):
        return id_files(predicate.operand)
    if isinstance(predicate, InFile) and isinstance(predicate.left, FieldRef) \
            and predicate.left.name == "id":
        return [predicate.path]
    return []


# ---------------------------------------------------------------- helpers


def as_text(value: object) -> object:
    """A value as the text ids are compared by: arrays of text as they are, 3.0 as "3"."""
    if isinstance(value, np.ndarray):
        return _texts(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fields(operand: FieldRef | Const) -> Iterator[FieldRef]:
    if isinstance(operand, FieldRef):
        yield operand


def _id_text(value: object) -> object:
    return normalize_id(value) if isinstance(value, str) else value


def _size(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


def _texts(values: np.ndarray) -> np.ndarray:
    """Text values as they are: object arrays of str stay object (no fixed-width copy, which
    costs rows x the longest text); other arrays become str."""
    return values if values.dtype.kind == "O" else values.astype(str)


def _row_texts(values: object, n: int) -> np.ndarray | list[str]:
    return _texts(values) if isinstance(values, np.ndarray) else [str(values)] * n


def _member_mask(values: object, members: set[str], n: int) -> Mask:
    return np.fromiter((str(t) in members for t in _row_texts(values, n)), dtype=bool, count=n)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
