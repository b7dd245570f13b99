"""Shared source types and the statements-file reader used by CSV sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ccaic.assembly._io import MAX_REPORTS, CsvFile, read_csv
from ccaic.assembly.votes import Statement, VoteTable
from ccaic.diagnostics import Diagnostic, DiagnosticError, error, warning


@dataclass(frozen=True)
class SourceOptions:
    """Options a `source` block may set. Every field has a working default.

    - participant_column / statement_column / vote_column / timestamp_column: long-format CSV
      column names (None = recognise from the header).
    - statements_file: long-format CSV's optional statements file (id + text [+ moderated,
      author, is_meta]); statement_id_column / statement_text_column name its columns.
    - vote_sign: "auto" (JSON: decided from comments.json agree_count; CSV: export),
      "export" (+1 = agree, CSV convention) or "api" (-1 = agree, Polis API/database).
    - unknown_statements: "error" (CCAI407) or "drop" (counted in provenance, with a warning).
    """

    participant_column: str | None = None
    statement_column: str | None = None
    vote_column: str | None = None
    timestamp_column: str | None = None
    statements_file: str | None = None
    statement_id_column: str | None = None
    statement_text_column: str | None = None
    vote_sign: str = "auto"
    unknown_statements: str = "error"


@dataclass
class LoadedSource:
    """A loaded source: the vote table plus what the export says about groups and in-conv."""

    kind: str
    path: str
    table: VoteTable
    export_groups: dict[str, str] | None = None  # participant id -> group label
    in_conv: frozenset[str] | None = None
    math: dict[str, Any] | None = None
    warnings: list[Diagnostic] = field(default_factory=list)


def pick(table: CsvFile, explicit: str | None, candidates: tuple[str, ...]) -> str | None:
    """The column to use for a role: the explicit name, else the first recognised candidate."""
    if explicit is not None:
        return explicit
    lower = {h.lower(): h for h in table.header}
    for c in candidates:
        if c in lower:
            return lower[c]
    return None


def parse_ints(table: CsvFile, col: int, what: str, allow_blank: bool = True,
               default: int = 0) -> tuple[np.ndarray, list[Diagnostic]]:
    """An integer column (vectorised over unique values); bad cells become CCAI408."""
    raw = [r[col].strip() if col < len(r) else "" for r in table.rows]
    uniq = sorted(set(raw))
    conv: dict[str, int | None] = {}
    for u in uniq:
        if u == "" and allow_blank:
            conv[u] = default
            continue
        try:
            conv[u] = int(float(u))
        except ValueError:
            conv[u] = None
    diags = []
    if any(v is None for v in conv.values()):
        for i, v in enumerate(raw):
            if conv[v] is None:
                diags.append(error("CCAI408", f"{table.name}: {what} {v!r} is not a number",
                                   table.span(i, col), help=f"{what} must be an integer"))
                if len(diags) >= MAX_REPORTS:
                    break
    out = np.array([conv[v] if conv[v] is not None else default for v in raw], dtype=np.int64)
    return out, diags


def read_statements(path: Path, display: str, id_col: str | None = None,
                    text_col: str | None = None) -> tuple[list[Statement], CsvFile]:
    """A comments/statements CSV -> statements in natural id order; duplicate ids are CCAI406."""
    table = read_csv(path, display)
    idc = pick(table, id_col, ("comment-id", "statement_id", "statement-id", "tid", "id",
                               "comment_id"))
    if idc is None:
        from ccaic.assembly._io import require_columns

        require_columns(table, {"id": id_col or "comment-id"}, "statement ids")
    assert idc is not None
    textc = pick(table, text_col, ("comment-body", "text", "txt", "statement", "body",
                                   "statement_text"))
    modc = pick(table, None, ("moderated", "mod"))
    authc = pick(table, None, ("author-id", "author", "author_id"))
    metac = pick(table, None, ("is_meta", "is-meta", "meta"))
    idx = table.column(idc)
    if idx is None or (textc is not None and table.column(textc) is None):
        from ccaic.assembly._io import require_columns

        require_columns(table, {"id": idc, "text": textc}, "statements")
    assert idx is not None
    diags: list[Diagnostic] = []
    mods = np.zeros(len(table.rows), dtype=np.int64)
    if modc is not None:
        mods, d = parse_ints(table, table.header.index(modc), "moderated")
        diags += d
    first_seen: dict[str, int] = {}
    statements: list[Statement] = []
    ti = table.column(textc) if textc else None
    ai = table.column(authc) if authc else None
    mi = table.column(metac) if metac else None
    for r, row in enumerate(table.rows):
        sid = row[idx].strip() if idx < len(row) else ""
        if sid == "":
            diags.append(error("CCAI408", f"{display}: empty statement id", table.span(r, idx),
                               help="every statement needs an id"))
            continue
        if sid in first_seen:
            diags.append(error(
                "CCAI406", f"{display}: duplicate statement id {sid!r} "
                f"(first on line {table.lines[first_seen[sid]]})", table.span(r, idx),
                help="statement ids must be unique; remove or renumber the duplicate"))
            continue
        first_seen[sid] = r
        meta = (row[mi].strip().lower() in {"1", "true", "yes", "t"}) if (
            mi is not None and mi < len(row)) else False
        statements.append(Statement(
            id=sid, text=row[ti] if ti is not None and ti < len(row) else "",
            author=(row[ai].strip() or None) if ai is not None and ai < len(row) else None,
            moderated=int(mods[r]), is_meta=meta))
    if diags:
        raise DiagnosticError(diags[: MAX_REPORTS * 2])
    from ccaic.assembly.votes import natural_key

    statements.sort(key=lambda s: natural_key(s.id))
    return statements, table


def assemble(pids: list[str], sids: list[str], vote: np.ndarray, ts: np.ndarray | None,
             statements: list[Statement] | None, opts: SourceOptions,
             span_of: Any, what: str, provenance: Any,
             participant_order: str = "first-vote") -> tuple[VoteTable, list[Diagnostic]]:
    """Vote events (string ids) -> VoteTable, checking statement ids against `statements`.

    `span_of(i)` locates event i for diagnostics. Without a statements list the statements are
    the ids that have votes. Returns the table and warnings.
    """
    from ccaic.assembly.votes import build_table, natural_key

    warnings: list[Diagnostic] = []
    s_arr = np.asarray(sids, dtype=object)
    if statements is None:
        ids = sorted(set(sids), key=natural_key)
        statements = [Statement(id=i) for i in ids]
    known = {s.id: k for k, s in enumerate(statements)}
    s_idx = np.array([known.get(s, -1) for s in s_arr], dtype=np.int64)
    unknown = np.flatnonzero(s_idx < 0)
    if len(unknown):
        if opts.unknown_statements != "drop":
            diags = [error("CCAI407", f"{what}: vote for statement {sids[i]!r}, which is not in "
                           "the statements file", span_of(int(i)),
                           help="add the statement, fix the id, or set "
                           "unknown_statements = \"drop\" to count and skip such votes")
                     for i in unknown[:MAX_REPORTS]]
            raise DiagnosticError(diags)
        provenance.drop("vote for an unknown statement", len(unknown))
        warnings.append(warning("CCAI407", f"{what}: {len(unknown)} votes for unknown "
                                "statements were skipped", span_of(int(unknown[0])),
                                help="see the provenance counts"))
    ok = s_idx >= 0
    p_arr = np.asarray(pids, dtype=object)[ok]
    uniq_p, first_pos = np.unique(p_arr.astype(str), return_index=True)
    # keep participants in order of first appearance in the file before build_table reorders
    by_appearance = np.argsort(first_pos, kind="stable")
    participants = [str(x) for x in uniq_p[by_appearance]]
    remap = np.empty(len(uniq_p), dtype=np.int64)
    remap[by_appearance] = np.arange(len(uniq_p))
    p_idx = remap[np.searchsorted(uniq_p, p_arr.astype(str))]
    table = build_table(p_idx, s_idx[ok], vote[ok], participants, statements,
                        None if ts is None else ts[ok], provenance, participant_order)
    return table, warnings


def signed_votes_and_times(table: CsvFile, vote: np.ndarray, ts_col: int | None,
                           opts: SourceOptions) -> tuple[np.ndarray, np.ndarray | None]:
    """Votes in export sign (+1 = agree; `vote_sign = "api"` flips them) and the timestamps
    that order revotes, when the file has a timestamp column."""
    if opts.vote_sign == "api":
        vote = -vote
    if ts_col is None:
        return vote, None
    values, problems = parse_ints(table, ts_col, "timestamp", allow_blank=False)
    if problems:
        raise DiagnosticError(problems)
    return vote, values.astype(np.float64)
