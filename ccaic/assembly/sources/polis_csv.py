"""A Polis CSV export folder: comments.csv + votes.csv and/or participants-votes.csv.

Sign: CSV exports are EXPORT sign (+1 agree, -1 disagree, 0 pass); the exporter negated
Polis's internal votes. votes.csv has one row per vote event (revotes included): the latest by
`timestamp` wins. participants-votes.csv holds latest votes only, one column per statement id
(picked by name: all-digit headers), plus `group-id` (Polis's groups; blank = not clustered).
When both vote files exist, votes.csv is the vote source (it has timestamps, hence first-vote
order) and participants-votes.csv gives the groups; a disagreement between them is a warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ccaic.assembly._io import (
    MAX_REPORTS,
    CsvFile,
    group_labels,
    normalize_id,
    normalize_ids,
    read_csv,
    require_columns,
)
from ccaic.assembly.sources import columnar
from ccaic.assembly.sources.base import (
    LoadedSource,
    SourceOptions,
    assemble,
    counted_without_votes,
    signed_votes_and_times,
    statements_and_fields,
)
from ccaic.assembly.votes import Provenance, Statement, VoteTable, natural_key, parse_votes
from ccaic.diagnostics import Diagnostic, DiagnosticError, error, warning


def _bad_votes(table: CsvFile, rows: np.ndarray, cols: np.ndarray) -> list[Diagnostic]:
    out = []
    for r, c in list(zip(rows.tolist(), cols.tolist(), strict=True))[:MAX_REPORTS]:
        value = table.rows[r][c]
        out.append(error("CCAI405", f"{table.name}: unknown vote value {value!r}",
                         table.span(r, c),
                         help="votes are 1 (agree), -1 (disagree) or 0 (pass); blank = no vote"))
    return out


def read_votes_csv(path: Path, display: str, statements: list[Statement] | None,
                   opts: SourceOptions, prov: Provenance) -> tuple[VoteTable, list[Diagnostic]]:
    """votes.csv (timestamp, comment-id, voter-id, vote) -> latest-vote table (columnar fast
    path first; this precise reader when it declines, for the diagnostic)."""
    fast = None if opts.as_of is not None else columnar.polis_votes(
        path, display, statements, opts.vote_sign, prov)
    if fast is not None:
        return fast, []
    t = read_csv(path, display)
    cols = require_columns(t, {"sid": "comment-id", "pid": "voter-id", "vote": "vote"},
                           "Polis votes")
    ti = t.column("timestamp")
    prov.rows_read += len(t.rows)
    prov.files.append(display)
    diags: list[Diagnostic] = []
    short = [i for i, r in enumerate(t.rows) if len(r) < len(t.header)]
    for i in short[:MAX_REPORTS]:
        diags.append(error("CCAI411", f"{display}: row has {len(t.rows[i])} fields but the "
                           f"header has {len(t.header)}", t.span(i, len(t.rows[i]) - 1),
                           help="every row needs a value for every column"))
    if diags:
        raise DiagnosticError(diags)
    vote = parse_votes([r[cols["vote"]] for r in t.rows], words=False)
    bad = np.flatnonzero(vote == 99)
    if len(bad):
        raise DiagnosticError(_bad_votes(t, bad, np.full(len(bad), cols["vote"])))
    vote, ts = signed_votes_and_times(t, vote, ti, opts)
    pids = normalize_ids([r[cols["pid"]] for r in t.rows], "voter-id",
                         lambda i: t.span(i, cols["pid"]), display)
    sids = normalize_ids([r[cols["sid"]] for r in t.rows], "comment-id",
                         lambda i: t.span(i, cols["sid"]), display)
    return assemble(pids, sids, vote, ts, statements, opts,
                    lambda i: t.span(i, cols["sid"]), display, prov)


def read_participants_votes(path: Path, display: str, statements: list[Statement] | None,
                            opts: SourceOptions, prov: Provenance
                            ) -> tuple[VoteTable, dict[str, str], list[Diagnostic]]:
    """participants-votes.csv -> (latest-vote table in file row order, groups, warnings);
    columnar fast path first, as for votes.csv."""
    fast = None if opts.as_of is not None else columnar.participants_votes(
        path, display, statements, opts.vote_sign, prov)
    if fast is not None:
        return fast[0], fast[1], []
    t = read_csv(path, display)
    cols = require_columns(t, {"pid": "participant"}, "Polis participants-votes")
    gi = t.column("group-id")
    stmt_cols = [i for i, h in enumerate(t.header) if h.isascii() and h.isdigit()]
    prov.files.append(display)
    row_pids = normalize_ids([row[cols["pid"]] if cols["pid"] < len(row) else ""
                              for row in t.rows], "participant id",
                             lambda r: t.span(r, cols["pid"]), display)
    seen: dict[str, int] = {}
    diags: list[Diagnostic] = []
    for r, pid in enumerate(row_pids):
        if pid in seen and len(diags) < MAX_REPORTS:
            diags.append(error("CCAI412", f"{display}: participant {pid!r} has two rows "
                               f"(first on line {t.lines[seen[pid]]})", t.span(r, cols["pid"]),
                               help="each participant must appear once"))
        seen.setdefault(pid, r)
    if diags:
        raise DiagnosticError(diags)
    rr, cc, cells = _present_cells(t.rows, stmt_cols, len(t.header))
    vote = parse_votes(cells, words=False)
    bad = np.flatnonzero(vote == 99)
    if len(bad):
        raise DiagnosticError(_bad_votes(t, rr[bad], np.asarray(stmt_cols)[cc[bad]]))
    if opts.vote_sign == "api":
        vote = -vote
    prov.rows_read += len(rr)
    pids = [row_pids[r] for r in rr.tolist()]
    col_ids = [normalize_id(t.header[c]) for c in stmt_cols]
    sids = [col_ids[c] for c in cc.tolist()]
    table, warns = assemble(pids, sids, vote, None, statements, opts,
                            lambda i: t.span(int(rr[i]), stmt_cols[int(cc[i])]), display, prov,
                            participant_order="file")
    groups: dict[str, str] = {}
    if gi is not None:
        labels = [row[gi] if gi < len(row) else "" for row in t.rows]
        for pid, g in zip(row_pids, group_labels(labels, lambda r: t.span(r, gi), display),
                          strict=True):
            if g:
                groups[pid] = g
    return table, groups, warns


def _present_cells(rows: list[list[str]], cols: list[int], width: int
                   ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(row, column position, cell) of every non-blank cell in `cols`, row-major.

    Plain Python over the cells: a numpy string grid would be rows x columns x the widest
    cell (one 100,000-character cell made it gigabytes)."""
    rr: list[int] = []
    cc: list[int] = []
    cells: list[str] = []
    for r, row in enumerate(rows):
        padded = row if len(row) >= width else row + [""] * (width - len(row))
        for k, c in enumerate(cols):
            cell = padded[c]
            if cell and not cell.isspace():
                rr.append(r)
                cc.append(k)
                cells.append(cell)
    return np.asarray(rr, dtype=np.int64), np.asarray(cc, dtype=np.int64), cells


def _same_cells(a: VoteTable, b: VoteTable) -> int:
    """How many (participant, statement) cells differ between two tables."""

    pids = sorted(set(a.participants) | set(b.participants), key=natural_key)
    pos = {p: i for i, p in enumerate(pids)}
    sids = {s: i for i, s in enumerate(sorted(set(a.statement_ids) | set(b.statement_ids),
                                              key=natural_key))}

    def canon(t: VoteTable) -> set[tuple[int, int, int]]:
        c = t.codes.tocoo()
        rows = [pos[t.participants[i]] for i in c.row.tolist()]
        cols = [sids[t.statements[j].id] for j in c.col.tolist()]
        return set(zip(rows, cols, c.data.tolist(), strict=True))

    return len(canon(a) ^ canon(b))


def load_polis_csv(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    prov = Provenance()
    has_comments = (path / "comments.csv").exists()
    statements, fields, warns = statements_and_fields(
        path / "comments.csv" if has_comments else None,
        f"{display}/comments.csv" if has_comments else display, as_of=opts.as_of)
    if has_comments:
        prov.files.append(f"{display}/comments.csv")
    else:
        prov.notes.append("no comments.csv: statements have no text or moderation flags")
    has_votes = (path / "votes.csv").exists()
    # --as-of cuts votes.csv; participants-votes.csv (no times) is the conversation's end
    has_pv = (path / "participants-votes.csv").exists() and (opts.as_of is None or not has_votes)
    if not has_votes and not has_pv:
        raise DiagnosticError([error("CCAI410", f"{display}: neither votes.csv nor "
                                     "participants-votes.csv is present", None,
                                     help="a Polis export folder needs at least one vote file")])
    groups = None
    table: VoteTable | None = None
    if has_votes:
        table, w = read_votes_csv(path / "votes.csv", f"{display}/votes.csv", statements, opts,
                                  prov)
        warns += w
    if has_pv:
        pv_prov = Provenance() if table is not None else prov
        pv_table, groups, w = read_participants_votes(
            path / "participants-votes.csv", f"{display}/participants-votes.csv", statements,
            opts, pv_prov)
        if table is None:
            table = pv_table
            warns += w
        else:
            prov.files.append(f"{display}/participants-votes.csv")
            diff = _same_cells(table, pv_table)
            if diff:
                warns.append(warning(
                    "CCAI416", f"{display}: votes.csv (latest votes) and participants-votes.csv "
                    f"disagree on {diff} cells", None,
                    help="the export may be from different moments; votes.csv is used"))
            prov.notes.append("groups from participants-votes.csv; votes from votes.csv")
    assert table is not None
    warns += grouped_without_votes(groups or {}, table, f"{display}/participants-votes.csv")
    return LoadedSource("polis-csv", display, table, export_groups=groups, warnings=warns,
                        statement_fields=fields)


def grouped_without_votes(groups: dict[str, str], table: VoteTable, name: str
                          ) -> list[Diagnostic]:
    """CCAI455 for participants that participants-votes.csv puts in a group (the server counted
    and clustered them) but the table the analysis uses has no vote of."""
    return counted_without_votes(groups, set(table.participants), f"{name} groups",
                                 "the export", "the vote files")
