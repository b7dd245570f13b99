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

from ccaic.assembly._io import MAX_REPORTS, CsvFile, read_csv, require_columns
from ccaic.assembly.sources.base import (
    LoadedSource,
    SourceOptions,
    assemble,
    read_statements,
    signed_votes_and_times,
)
from ccaic.assembly.votes import Provenance, Statement, VoteTable, parse_votes
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
    """votes.csv (timestamp, comment-id, voter-id, vote) -> latest-vote table."""
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
    pids = [r[cols["pid"]].strip() for r in t.rows]
    sids = [r[cols["sid"]].strip() for r in t.rows]
    return assemble(pids, sids, vote, ts, statements, opts,
                    lambda i: t.span(i, cols["sid"]), display, prov)


def read_participants_votes(path: Path, display: str, statements: list[Statement] | None,
                            opts: SourceOptions, prov: Provenance
                            ) -> tuple[VoteTable, dict[str, str], list[Diagnostic]]:
    """participants-votes.csv -> (latest-vote table in file row order, groups, warnings)."""
    t = read_csv(path, display)
    cols = require_columns(t, {"pid": "participant"}, "Polis participants-votes")
    gi = t.column("group-id")
    stmt_cols = [i for i, h in enumerate(t.header) if h.isdigit()]
    prov.files.append(display)
    seen: dict[str, int] = {}
    diags: list[Diagnostic] = []
    for r, row in enumerate(t.rows):
        pid = row[cols["pid"]].strip()
        if pid in seen and len(diags) < MAX_REPORTS:
            diags.append(error("CCAI412", f"{display}: participant {pid!r} has two rows "
                               f"(first on line {t.lines[seen[pid]]})", t.span(r, cols["pid"]),
                               help="each participant must appear once"))
        seen.setdefault(pid, r)
    if diags:
        raise DiagnosticError(diags)
    width = len(t.header)
    grid = np.array([(row + [""] * (width - len(row)))[:width] for row in t.rows],
                    dtype=object).reshape(len(t.rows), width)
    sub = grid[:, stmt_cols].astype(str) if stmt_cols else np.zeros((len(t.rows), 0), str)
    present = np.char.strip(sub) != ""
    rr, cc = np.nonzero(present)
    vote = parse_votes(sub[rr, cc].tolist(), words=False)
    bad = np.flatnonzero(vote == 99)
    if len(bad):
        raise DiagnosticError(_bad_votes(t, rr[bad], np.asarray(stmt_cols)[cc[bad]]))
    if opts.vote_sign == "api":
        vote = -vote
    prov.rows_read += len(rr)
    pids = [t.rows[r][cols["pid"]].strip() for r in rr.tolist()]
    sids = [t.header[stmt_cols[c]] for c in cc.tolist()]
    table, warns = assemble(pids, sids, vote, None, statements, opts,
                            lambda i: t.span(int(rr[i]), stmt_cols[int(cc[i])]), display, prov,
                            participant_order="file")
    groups: dict[str, str] = {}
    if gi is not None:
        for row in t.rows:
            g = row[gi].strip() if gi < len(row) else ""
            if g:
                groups[row[cols["pid"]].strip()] = g
    return table, groups, warns


def _same_cells(a: VoteTable, b: VoteTable) -> int:
    """How many (participant, statement) cells differ between two tables."""
    from ccaic.assembly.votes import natural_key

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
    statements = None
    warns: list[Diagnostic] = []
    if (path / "comments.csv").exists():
        statements, _ = read_statements(path / "comments.csv", f"{display}/comments.csv")
        prov.files.append(f"{display}/comments.csv")
    else:
        prov.notes.append("no comments.csv: statements have no text or moderation flags")
    has_votes = (path / "votes.csv").exists()
    has_pv = (path / "participants-votes.csv").exists()
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
    return LoadedSource("polis-csv", display, table, export_groups=groups, warnings=warns)
