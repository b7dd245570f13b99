"""Shared source types and the statements-file reader used by CSV sources."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ccaic.assembly._io import (
    MAX_REPORTS,
    CsvFile,
    id_error,
    id_problem,
    normalize_id,
    read_csv,
    require_columns,
    span_at,
)
from ccaic.assembly.sources.as_of import created_late, events_until
from ccaic.assembly.votes import Statement, VoteTable, build_table, natural_key
from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, error, warning
from ccaic.registry.sources import UNKNOWN_STATEMENTS, VOTE_SIGN

#: Optional statement fields and the statements-file columns that give them (first match wins).
STATEMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("comment-body", "text", "txt", "statement", "body", "statement_text"),
    "moderated": ("moderated", "mod"),
    "author": ("author-id", "author", "author_id"),
    "meta": ("is_meta", "is-meta", "meta"),
}


@dataclass(frozen=True)
class SourceOptions:
    """Options a `source` block may set. Every field has a working default, the one its
    attribute declares in ccaic.registry.sources.

    - participant_column / statement_column / vote_column / timestamp_column: long-format CSV
      column names (None = recognise from the header).
    - statements_file: long-format CSV's optional statements file (id + text [+ moderated,
      author, is_meta]); statement_id_column / statement_text_column name its columns.
    - vote_sign: "auto" (JSON: decided from comments.json agree_count; CSV: export),
      "export" (+1 = agree, CSV convention) or "api" (-1 = agree, Polis API/database).
    - unknown_statements: "error" (CCAI407) or "drop" (counted in provenance, with a warning).
    - as_of: only the votes and statements with a timestamp up to this (ms), `--as-of`.
    - attrs: every attribute the block set, by its language name, for a source's own options
      (so a new source needs no new field here).
    """

    participant_column: str | None = None
    statement_column: str | None = None
    vote_column: str | None = None
    timestamp_column: str | None = None
    statements_file: str | None = None
    statement_id_column: str | None = None
    statement_text_column: str | None = None
    vote_sign: str = str(VOTE_SIGN.default)
    unknown_statements: str = str(UNKNOWN_STATEMENTS.default)
    as_of: float | None = None  # --as-of, in ms (ccaic.assembly.sources.as_of)
    attrs: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def from_attrs(cls, values: Mapping[str, str]) -> SourceOptions:
        """The options a source block's attributes give (as lowered: strings, `statements`
        an absolute path); absent ones keep their defaults."""
        known = {f.name for f in fields(cls)} - {"attrs", "as_of"}
        named = {_FIELD.get(k, k): v for k, v in values.items()}
        as_of = float(values["as_of"]) if "as_of" in values else None
        return cls(**{k: v for k, v in named.items() if k in known}, as_of=as_of,
                   attrs=dict(values))


#: Block attributes whose SourceOptions field has another name.
_FIELD = {"statements": "statements_file"}


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
    #: the optional statement fields the source has data for (moderation rules on the others
    #: are CCAI419): "text", "author", "moderated", "meta"
    statement_fields: frozenset[str] = frozenset(STATEMENT_COLUMNS)


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
               default: int = 0, allowed: frozenset[int] | None = None
               ) -> tuple[np.ndarray, list[Diagnostic]]:
    """An integer column (each distinct value parsed once); bad cells become CCAI408.

    A cell is an integer written as one ("7", "-1", "7.0"), at most 18 digits; "0.9" is not
    truncated to 0 and "inf" is not a number. `allowed` limits the values (a flag's -1/0/1)."""
    raw = [r[col].strip() if col < len(r) else "" for r in table.rows]
    conv: dict[str, int | None] = {}
    for u in set(raw):
        conv[u] = default if u == "" and allow_blank else _integer(u)
        if allowed is not None and conv[u] not in allowed and not (u == "" and allow_blank):
            conv[u] = None
    diags = []
    if any(v is None for v in conv.values()):
        for i, v in enumerate(raw):
            if conv[v] is None:
                diags.append(_not_integer(table, i, col, what, v, allowed))
                if len(diags) >= MAX_REPORTS:
                    break
    out = np.array([conv[v] if conv[v] is not None else default for v in raw], dtype=np.int64)
    return out, diags


def _integer(text: str) -> int | None:
    """The integer a cell spells ("7", "+7", "-7", "7.000"), None for anything else."""
    norm = normalize_id(text)
    digits = norm.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        return None
    return int(norm)


def _not_integer(table: CsvFile, row: int, col: int, what: str, value: str,
                 allowed: frozenset[int] | None) -> Diagnostic:
    shown = _shown(value)
    number = _float(value)
    if allowed is not None and number is not None and math.isfinite(number):
        spelled = ", ".join(str(a) for a in sorted(allowed, reverse=True))
        return error("CCAI408", f"{table.name}: {what} {shown!r} is not one of {spelled}",
                     table.span(row, col), help=f"{what} must be one of {spelled}")
    return error("CCAI408", f"{table.name}: {what} {shown!r} is not a number",
                 table.span(row, col), help=f"{what} must be an integer")


def _shown(value: str) -> str:
    """A bad cell as quoted in a diagnostic: at most 40 characters, then an ellipsis."""
    return value if len(value) <= 40 else value[:40] + "…"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


#: The hint of every bad-timestamp diagnostic (CSV and Parquet readers alike).
TIMESTAMP_HELP = "timestamps are finite numbers (Polis: milliseconds since the epoch)"


def parse_times(table: CsvFile, col: int) -> tuple[np.ndarray, list[Diagnostic]]:
    """A timestamp column as float64: finite numbers only (blank, "soon", "inf" and "1e400"
    are CCAI408), never truncated."""
    raw = [r[col].strip() if col < len(r) else "" for r in table.rows]
    conv = {u: _float(u) for u in set(raw)}
    diags = []
    for i, v in enumerate(raw):
        t = conv[v]
        if t is None or not math.isfinite(t):
            shown = _shown(v)
            problem = "is not a number" if t is None else "is not a finite number"
            diags.append(error("CCAI408", f"{table.name}: timestamp {shown!r} {problem}",
                               table.span(i, col), help=TIMESTAMP_HELP))
            if len(diags) >= MAX_REPORTS:
                break
    out = np.array([conv[v] or 0.0 for v in raw], dtype=np.float64)
    return out, diags


def statement_fields(table: CsvFile, text_col: str | None = None) -> frozenset[str]:
    """The optional statement fields a statements file has a column for."""
    return frozenset(f for f, names in STATEMENT_COLUMNS.items()
                     if pick(table, text_col if f == "text" else None, names) is not None)


def missing_field_warnings(fields: frozenset[str], where: str, span: Span | None,
                           spelled: dict[str, str] | None = None) -> list[Diagnostic]:
    """CCAI420 when statements have no text, CCAI421 when they have no moderation flags.

    `spelled` names the missing column or key per field; None means there is no statements
    file at all. Without these warnings the texts are silently blank and rejected statements
    silently analysed."""
    def lacks(f: str) -> str:
        return f"has no {spelled[f]}" if spelled is not None else "has no statements file"

    no_file = ("give the source a statements file: `statements = \"comments.csv\"` for "
               "votes_csv (analyze: --statements FILE), comments.csv in a Polis export folder, "
               "comments.json in a Polis API folder")
    out = []
    if "text" not in fields:
        out.append(warning(
            "CCAI420", f"{where} {lacks('text')}: every statement text is empty", span,
            help=no_file if spelled is None else "add the texts (a CSV's text column can also "
            "be named with `statement_text_column`): principles rendered from empty texts are "
            "empty"))
    if "moderated" not in fields:
        out.append(warning(
            "CCAI421", f"{where} {lacks('moderated')}: rejected statements cannot be told "
            "apart and are analysed with the others", span,
            help=no_file if spelled is None else "add the moderation flags (1 accepted, "
            "0 unmoderated, -1 rejected); a rule on `moderated` is an error without them"))
    return out


def statements_and_fields(path: Path | None, display: str, id_col: str | None = None,
                          text_col: str | None = None, as_of: float | None = None
                          ) -> tuple[list[Statement] | None, frozenset[str], list[Diagnostic]]:
    """`read_statements`, the optional fields the file has, and CCAI420/421 for those it
    lacks (located at its header). `path` None: the source has no statements file, `display`
    names the source."""
    if path is None:
        return None, frozenset(), missing_field_warnings(frozenset(), display, None)
    statements, table = read_statements(path, display, id_col, text_col, as_of)
    fields = statement_fields(table, text_col)
    spelled = {f: f"{f} column ({', '.join(names)})" for f, names in STATEMENT_COLUMNS.items()}
    return statements, fields, missing_field_warnings(fields, display, span_at(display, 1, 1),
                                                      spelled)


def read_statements(path: Path, display: str, id_col: str | None = None,
                    text_col: str | None = None, as_of: float | None = None
                    ) -> tuple[list[Statement], CsvFile]:
    """A comments/statements CSV -> statements in natural id order; duplicate ids are CCAI406.
    `as_of`: rows whose timestamp / created column is later are left out (`--as-of`)."""
    table = read_csv(path, display)
    created = table.column(pick(table, None, ("timestamp", "created")) or "")
    idc = pick(table, id_col, ("comment-id", "statement_id", "statement-id", "tid", "id",
                               "comment_id"))
    if idc is None:
        require_columns(table, {"id": id_col or "comment-id"}, "statement ids")
    assert idc is not None
    textc = pick(table, text_col, STATEMENT_COLUMNS["text"])
    modc = pick(table, None, STATEMENT_COLUMNS["moderated"])
    authc = pick(table, None, STATEMENT_COLUMNS["author"])
    metac = pick(table, None, STATEMENT_COLUMNS["meta"])
    idx = table.column(idc)
    if idx is None or (textc is not None and table.column(textc) is None):
        require_columns(table, {"id": idc, "text": textc}, "statements")
    assert idx is not None
    diags: list[Diagnostic] = []
    mods = np.zeros(len(table.rows), dtype=np.int64)
    if modc is not None:
        mods, d = parse_ints(table, table.header.index(modc), "moderated",
                             allowed=frozenset({-1, 0, 1}))
        diags += d
    first_seen: dict[str, int] = {}
    statements: list[Statement] = []
    ti = table.column(textc) if textc else None
    ai = table.column(authc) if authc else None
    mi = table.column(metac) if metac else None
    for r, row in enumerate(table.rows):
        if created is not None and created < len(row) and created_late(row[created], as_of):
            continue
        sid = normalize_id(row[idx]) if idx < len(row) else ""
        if sid == "":
            diags.append(error("CCAI408", f"{display}: empty statement id", table.span(r, idx),
                               help="every statement needs an id"))
            continue
        problem = id_problem(sid, "statement id")
        if problem is not None:
            diags.append(id_error(f"{display}: {problem}", table.span(r, idx), False))
            continue
        if sid in first_seen:
            diags.append(error(
                "CCAI406", f"{display}: duplicate statement id {sid!r} "
                f"(first on line {table.lines[first_seen[sid]]})", table.span(r, idx),
                help="statement ids must be unique; remove or renumber the duplicate"))
            continue
        first_seen[sid] = r
        meta = meta_flag(row[mi]) if mi is not None and mi < len(row) else False
        if meta is None:
            diags.append(_not_a_flag(table, r, mi or 0, display))
            continue
        statements.append(Statement(
            id=sid, text=row[ti] if ti is not None and ti < len(row) else "",
            author=_author(row[ai]) if ai is not None and ai < len(row) else None,
            moderated=int(mods[r]), is_meta=meta))
    if diags:
        raise DiagnosticError(diags[: MAX_REPORTS * 2])
    statements.sort(key=lambda s: natural_key(s.id))
    return statements, table


#: How a statements file writes is_meta (a spreadsheet's "1.0" and "TRUE" included).
META_TRUE = frozenset({"1", "true", "yes", "t", "y"})
META_FALSE = frozenset({"0", "false", "no", "f", "n", ""})


def meta_flag(cell: str) -> bool | None:
    """An is_meta cell as True / False, None when it is neither: "maybe", "2" and "1.0" all
    meant False silently, so a meta statement entered the analysis."""
    value = normalize_id(cell).lower()
    return True if value in META_TRUE else False if value in META_FALSE else None


def _not_a_flag(table: CsvFile, row: int, col: int, display: str) -> Diagnostic:
    shown = _shown(table.rows[row][col].strip())
    return error("CCAI436", f"{display}: is_meta {shown!r} is not true or false",
                 table.span(row, col), help="write is_meta as true / false, 1 / 0 or yes / no "
                 "(blank is false)")


def _author(cell: str) -> str | None:
    """An author id, normalised like participant ids (None when blank or not an id)."""
    author = normalize_id(cell)
    return author if author and id_problem(author, "author") is None else None


def assemble(pids: list[str], sids: list[str], vote: np.ndarray, ts: np.ndarray | None,
             statements: list[Statement] | None, opts: SourceOptions,
             span_of: Any, what: str, provenance: Any,
             participant_order: str = "first-vote") -> tuple[VoteTable, list[Diagnostic]]:
    """Vote events (string ids) -> VoteTable, checking statement ids against `statements`.

    `span_of(i)` locates event i for diagnostics. Without a statements list the statements are
    the ids that have votes. Returns the table and warnings.
    """
    warnings: list[Diagnostic] = []
    if opts.as_of is not None:
        pids, sids, vote, ts, span_of = _until(pids, sids, vote, ts, span_of, opts.as_of, what,
                                               provenance)
    if statements is None:
        ids = sorted(set(sids), key=natural_key)
        statements = [Statement(id=i) for i in ids]
    known = {s.id: k for k, s in enumerate(statements)}
    s_idx = np.fromiter((known.get(s, -1) for s in sids), dtype=np.int64, count=len(sids))
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
    p_idx, participants = intern([p for p, keep in zip(pids, ok.tolist(), strict=True) if keep])
    table = build_table(p_idx, s_idx[ok], vote[ok], participants, statements,
                        None if ts is None else ts[ok], provenance, participant_order)
    return table, warnings


def _until(pids: list[str], sids: list[str], vote: np.ndarray, ts: np.ndarray | None,
           span_of: Any, as_of: float, what: str, provenance: Any
           ) -> tuple[list[str], list[str], np.ndarray, np.ndarray, Any]:
    """The vote events up to `as_of` (`--as-of`), counted in provenance; `span_of` still
    locates them in the file."""
    keep = events_until(ts, as_of, what)
    assert ts is not None
    rows = np.flatnonzero(keep)
    provenance.drop("vote after --as-of", len(keep) - len(rows))
    listed = rows.tolist()
    return ([pids[i] for i in listed], [sids[i] for i in listed], vote[rows], ts[rows],
            lambda i: span_of(listed[i]))


def intern(ids: list[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes for ids in order of first appearance, and the distinct ids.

    A dict, not numpy strings: memory follows the ids' total length, where a fixed-width
    array costs rows x the longest id (one 1,000,000-character id in 5,303 rows was 20 GB)."""
    codes: dict[str, int] = {}
    idx = np.fromiter((codes.setdefault(i, len(codes)) for i in ids), dtype=np.int64,
                      count=len(ids))
    return idx, list(codes)


def signed_votes_and_times(table: CsvFile, vote: np.ndarray, ts_col: int | None,
                           opts: SourceOptions) -> tuple[np.ndarray, np.ndarray | None]:
    """Votes in export sign (+1 = agree; `vote_sign = "api"` flips them) and the timestamps
    that order revotes, when the file has a timestamp column."""
    if opts.vote_sign == "api":
        vote = -vote
    if ts_col is None:
        return vote, None
    values, problems = parse_times(table, ts_col)
    if problems:
        raise DiagnosticError(problems)
    return vote, values


def counted_without_votes(counted: set[str] | dict[str, str], participants: set[str], head: str,
                          place: str, export: str, span: Span | None = None
                          ) -> list[Diagnostic]:
    """CCAI455 when the server counted or grouped participants that have no vote in the export:
    they are left out, and a silent drop would hide that the server's groups and repness are
    not those of the table analysed. `head` says who counted them, `export` what to re-export."""
    missing = sorted((p for p in counted if p not in participants), key=natural_key)
    if not missing:
        return []
    shown = ", ".join(repr(p) for p in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return [warning(
        "CCAI455", f"{head} {len(missing)} participant{'s' if len(missing) != 1 else ''} "
        f"with no vote in {place} ({shown}): left out", span,
        help=f"export {export} at the same time; the server's groups and repness counted these "
        "participants, so `groups export` results can differ from the server's report")]
