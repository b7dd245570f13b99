"""A long-format CSV: one vote per row (participant, statement, vote [, timestamp]).

Columns are recognised from the header (participant_id/voter-id/pid..., statement_id/
comment-id/tid..., vote_value/vote/value, timestamp/created) or named in SourceOptions. Votes
are AGREE / DISAGREE / PASS (any case) or numbers in EXPORT sign (1 agree, -1 disagree,
0 pass); vote_sign = "api" flips numeric votes. Revotes: the latest by timestamp wins (file
order when there is no timestamp column). An optional statements file gives texts and flags.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ccaic.assembly._io import MAX_REPORTS, normalize_ids, read_csv, require_columns
from ccaic.assembly.sources import columnar
from ccaic.assembly.sources.as_of import no_times
from ccaic.assembly.sources.base import (
    LoadedSource,
    SourceOptions,
    assemble,
    pick,
    signed_votes_and_times,
    statements_and_fields,
)
from ccaic.assembly.votes import Provenance, parse_votes
from ccaic.diagnostics import DiagnosticError, error

PARTICIPANT = ("participant_id", "participant", "voter-id", "voter_id", "voter", "pid",
               "user_id", "user")
STATEMENT = ("statement_id", "statement", "comment-id", "comment_id", "tid", "comment")
VOTE = ("vote_value", "vote", "value")
TIMESTAMP = ("timestamp", "created", "modified", "time")


def load_long_csv(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    prov = Provenance()
    statements, fields, field_warns = statements_and_fields(
        Path(opts.statements_file) if opts.statements_file else None,
        opts.statements_file or display, opts.statement_id_column, opts.statement_text_column,
        opts.as_of)
    if opts.statements_file:
        prov.files.append(opts.statements_file)
    if path.suffix.lower() == ".parquet" and opts.as_of is not None:
        raise no_times(display, "a Parquet file is not cut by time yet (convert it to CSV)")
    if path.suffix.lower() == ".parquet":
        table, warns = columnar.parquet_votes(path, display, statements, opts, prov)
        return LoadedSource("long-csv", display, table, warnings=field_warns + warns,
                            statement_fields=fields)
    fast = None if opts.as_of is not None else columnar.long_votes(path, display, statements,
                                                                    opts, prov)
    if fast is not None:
        return LoadedSource("long-csv", display, fast, warnings=field_warns,
                            statement_fields=fields)
    t = read_csv(path, display)
    prov.files.append(display)
    names = {
        "pid": pick(t, opts.participant_column, PARTICIPANT) or "participant_id",
        "sid": pick(t, opts.statement_column, STATEMENT) or "statement_id",
        "vote": pick(t, opts.vote_column, VOTE) or "vote_value",
    }
    cols = require_columns(t, dict(names), "long-format votes")
    tname = pick(t, opts.timestamp_column, TIMESTAMP)
    ti = require_columns(t, {"ts": tname}, "timestamps")["ts"] if tname else None
    prov.rows_read += len(t.rows)
    need = max(cols.values())
    short = [i for i, r in enumerate(t.rows) if len(r) <= need]
    if short:
        raise DiagnosticError([error("CCAI411", f"{display}: row has {len(t.rows[i])} fields "
                                     f"but the header has {len(t.header)}",
                                     t.span(i, len(t.rows[i]) - 1),
                                     help="every row needs participant, statement and vote")
                               for i in short[:MAX_REPORTS]])
    vote = parse_votes([r[cols["vote"]] for r in t.rows], words=True)
    bad = np.flatnonzero(vote == 99)
    if len(bad):
        raise DiagnosticError([error(
            "CCAI405", f"{display}: unknown vote value {t.rows[i][cols['vote']]!r}",
            t.span(int(i), cols["vote"]),
            help="use AGREE, DISAGREE or PASS, or 1 / -1 / 0 (1 = agree)")
            for i in bad[:MAX_REPORTS]])
    vote, ts = signed_votes_and_times(t, vote, ti, opts)
    empty = [i for i, r in enumerate(t.rows) if not r[cols["pid"]].strip()
             or not r[cols["sid"]].strip()]
    if empty:
        i = empty[0]
        c = cols["pid"] if not t.rows[i][cols["pid"]].strip() else cols["sid"]
        raise DiagnosticError([error("CCAI408", f"{display}: empty participant or statement id",
                                     t.span(i, c), help="every vote needs both ids")])
    pids = normalize_ids([r[cols["pid"]] for r in t.rows], "participant id",
                         lambda i: t.span(i, cols["pid"]), display)
    sids = normalize_ids([r[cols["sid"]] for r in t.rows], "statement id",
                         lambda i: t.span(i, cols["sid"]), display)
    table, warns = assemble(pids, sids, vote, ts, statements, opts,
                            lambda i: t.span(i, cols["sid"]), display, prov)
    return LoadedSource("long-csv", display, table, warnings=field_warns + warns,
                        statement_fields=fields)
