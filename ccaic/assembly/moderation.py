"""Moderation rules: pure functions from (table, rules) to (table, per-rule report).

Rules are small frozen dataclasses so the language front end can build them directly:

- KeepStatements(where=...) / DropStatements(where=...) with a StatementFilter:
  `moderated` (Polis flag, compared with `moderated_op`), `is_meta`, `text_regex`, `author`,
  `ids`, `ids_file` (one id per line; a header line that is not an id is skipped).
- DropParticipants(votes_op, votes) drops by vote count ("<=", "<", ">=", ">", "==");
  DropParticipants(ids=...) / (ids_file=...) drops listed ids.
- PolisModOut() drops what the export itself moderated out (rejected or meta): builds and
  `analyze` put it first, so the statements it removes are counted like any rule's.

Statements are never deleted from the table: removed ones are reported as moderated out
(`ModerationResult.statement_out`), so `analyze` can still show them flagged. Participants are
removed. Rules apply in order; vote counts for a participant rule are counted on the table as it
is at that point, over the statements still in (see `count_on`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ccaic.assembly._io import span_at
from ccaic.assembly.votes import Statement, VoteTable
from ccaic.diagnostics import DiagnosticError, error

OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater,
       "==": np.equal, "!=": np.not_equal}


@dataclass(frozen=True)
class StatementFilter:
    """Statements matching ALL given conditions (None = condition not used)."""

    moderated: int | None = None
    moderated_op: str = "=="
    is_meta: bool | None = None
    text_regex: str | None = None
    author: str | None = None
    ids: tuple[str, ...] | None = None
    ids_file: str | None = None


@dataclass(frozen=True)
class KeepStatements:
    where: StatementFilter


@dataclass(frozen=True)
class DropStatements:
    where: StatementFilter


@dataclass(frozen=True)
class DropParticipants:
    """Drop by vote count (`votes_op` `votes`) or by listed ids (`ids` / `ids_file`).

    count_on: "kept" counts votes on statements still in at this point, "all" on every statement.
    """

    votes_op: str | None = None
    votes: int | None = None
    ids: tuple[str, ...] | None = None
    ids_file: str | None = None
    count_on: str = "all"


@dataclass(frozen=True)
class PolisModOut:
    """Polis's own moderation: statements the export marks rejected (moderated == -1) or meta
    are out before any written rule. A rule of its own so the report counts them."""

    text: str = "drop statements where moderated == -1 or meta"
    because: str = "implicit: Polis's own moderation (rejected or meta statements)"


Rule = KeepStatements | DropStatements | DropParticipants | PolisModOut


@dataclass(frozen=True)
class RuleReport:
    rule: Rule
    kind: str  # "statements" or "participants"
    removed: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.removed)


@dataclass(frozen=True)
class ModerationResult:
    table: VoteTable
    statement_out: np.ndarray  # bool per column: moderated out
    reports: tuple[RuleReport, ...] = field(default=())

    def to_dict(self) -> list[dict[str, object]]:
        return [{"rule": r.rule.text if isinstance(r.rule, PolisModOut) else repr(r.rule),
                 "kind": r.kind, "count": r.count,
                 "ids": list(r.removed)} for r in self.reports]


def read_id_file(path: str) -> tuple[str, ...]:
    """Ids one per line (first CSV field), normalised like every source's ids ("643.0" is
    participant 643); blank lines and a header line are skipped (see `read_id_entries`)."""
    from ccaic.assembly.sources.id_files import read_id_entries

    return tuple(i for i, _ in read_id_entries(path))


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise DiagnosticError([error("CCAI413", f"invalid regular expression {pattern!r}: "
                                     f"{exc.msg}", None,
                                     help="use Python regular expression syntax")]) from None


def statement_matches(statements: Sequence[Statement], f: StatementFilter) -> np.ndarray:
    m = np.ones(len(statements), dtype=bool)
    if f.moderated is not None:
        if f.moderated_op not in OPS:
            raise DiagnosticError([error("CCAI413", f"unknown comparison {f.moderated_op!r}",
                                         None, help=f"use one of {', '.join(OPS)}")])
        m &= OPS[f.moderated_op](np.array([s.moderated for s in statements]), f.moderated)
    if f.is_meta is not None:
        m &= np.array([s.is_meta == f.is_meta for s in statements], dtype=bool)
    if f.text_regex is not None:
        rx = _compile(f.text_regex)
        m &= np.array([rx.search(s.text) is not None for s in statements], dtype=bool)
    if f.author is not None:
        m &= np.array([s.author == f.author for s in statements], dtype=bool)
    ids: set[str] | None = None
    if f.ids is not None:
        ids = set(f.ids)
    if f.ids_file is not None:
        ids = (ids or set()) | set(read_id_file(f.ids_file))
    if ids is not None:
        m &= np.array([s.id in ids for s in statements], dtype=bool)
    return m


def apply_moderation(table: VoteTable, rules: Sequence[Rule],
                     initially_out: np.ndarray | None = None) -> ModerationResult:
    """Apply rules in order; each reports the ids it removed (already-removed ones not counted)."""
    out = (np.zeros(table.shape[1], dtype=bool) if initially_out is None
           else np.asarray(initially_out, dtype=bool).copy())
    reports: list[RuleReport] = []
    for rule in rules:
        if isinstance(rule, KeepStatements | DropStatements | PolisModOut):
            if isinstance(rule, PolisModOut):
                drop = np.array([s.is_meta or s.moderated == -1 for s in table.statements],
                                dtype=bool) & ~out
            else:
                match = statement_matches(table.statements, rule.where)
                drop = (~match if isinstance(rule, KeepStatements) else match) & ~out
            out |= drop
            reports.append(RuleReport(rule, "statements",
                                      tuple(table.statements[j].id for j in np.flatnonzero(drop))))
        elif isinstance(rule, DropParticipants):
            drop_rows = np.zeros(table.shape[0], dtype=bool)
            if rule.votes_op is not None:
                if rule.votes_op not in OPS or rule.votes is None:
                    raise DiagnosticError([error("CCAI413", f"bad vote-count rule "
                                                 f"{rule.votes_op!r} {rule.votes!r}", None,
                                                 help=f"use one of {', '.join(OPS)} and a number")])
                codes = table.codes
                if rule.count_on == "kept":
                    counts = np.asarray(codes[:, np.flatnonzero(~out)].getnnz(axis=1))
                else:
                    counts = table.vote_counts()
                drop_rows |= OPS[rule.votes_op](counts, rule.votes)
            listed: set[str] = set(rule.ids or ())
            if rule.ids_file is not None:
                listed |= set(read_id_file(rule.ids_file))
            if listed:
                drop_rows |= np.array([p in listed for p in table.participants], dtype=bool)
            removed = tuple(table.participants[i] for i in np.flatnonzero(drop_rows))
            table = _without_rows(table, drop_rows)
            reports.append(RuleReport(rule, "participants", removed))
    return ModerationResult(table, out, tuple(reports))


def _without_rows(table: VoteTable, drop_rows: np.ndarray) -> VoteTable:
    """The table less the dropped participants; their votes move from used to dropped in a
    copy of the provenance (votes, not participants, so read = used + dropped still holds)."""
    votes = int(table.codes[np.flatnonzero(drop_rows)].nnz) if drop_rows.any() else 0
    provenance = copy.deepcopy(table.provenance)
    provenance.rows_used -= votes
    provenance.drop("participant removed by moderation", votes)
    return replace(table.subset(rows=np.flatnonzero(~drop_rows)), provenance=provenance)


def id_file_span(path: str) -> object:
    return span_at(path, 1, 1)
