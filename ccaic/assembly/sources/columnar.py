"""Columnar ingest: long-format vote files read by pyarrow straight into integer codes.

The precise readers (ccaic.assembly._io.read_csv and the source modules) hold every cell as a
Python string, which is where a 1M-vote export spent 15 of its 22 s. Here pyarrow's CSV reader
parses the file in C++, the id and vote columns are dictionary-encoded (distinct values plus
one int32 code per row) and only the distinct values ever become Python strings; timestamps
are parsed as float64 by the reader. The distinct values go through the same normalisation
and checks as the precise path (normalize_ids, parse_votes), so the table is the same.

pyarrow rather than polars: its CSV reader gives dictionary-encoded columns directly (codes +
distinct values, exactly what the vote table is built from), it reads Parquet natively, it is
one self-contained wheel with no query engine to import, and numpy views its buffers without
copies; polars would add its own engine and a second dataframe model for the same two arrays.

This is a fast path only. Whenever the file is not plainly well-formed (quotes, a stray CR,
NUL bytes, non-UTF-8 text, a field over the length limit, ragged rows, blank ids, unknown vote
values, non-finite timestamps, votes for statements the statements file lacks, duplicate
header names) `fast_events` returns None and the caller runs the precise reader, which finds
the line and column and gives the diagnostic exactly as before.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ccaic.assembly._io import (
    MAX_FIELD_CHARS,
    MAX_REPORTS,
    CsvFile,
    group_labels,
    normalize_id,
    normalize_ids,
    read_bytes,
    require_columns,
    span_at,
)
from ccaic.assembly.sources.base import TIMESTAMP_HELP, assemble, intern, pick
from ccaic.assembly.votes import (
    Provenance,
    Statement,
    VoteTable,
    build_table,
    natural_key,
    parse_votes,
)
from ccaic.diagnostics import DiagnosticError, error

BOM = b"\xef\xbb\xbf"
#: Below this size the precise reader is about as quick as importing pyarrow (~0.3 s), so
#: small exports (most real conversations) skip the fast path and its import.
FAST_MIN_BYTES = 512 * 1024


@dataclass(frozen=True)
class Encoded:
    """One dictionary-encoded column: distinct raw cells (first appearance) and row codes."""

    values: list[str]
    codes: np.ndarray


@dataclass(frozen=True)
class Columns:
    pid: Encoded
    sid: Encoded
    vote: Encoded
    ts: np.ndarray | None
    rows: int


def plain(data: bytes) -> bytes | None:
    """The bytes pyarrow and Python's csv module provably read alike, BOM and CRLF removed;
    None when the file needs the precise reader."""
    data = data.removeprefix(BOM).replace(b"\r\n", b"\n")
    if not data.strip() or any(c in data for c in (b'"', b"\r", b"\0")):
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    bounds = np.concatenate([[-1], ends, [len(data)]])
    if int(np.diff(bounds).max()) > MAX_FIELD_CHARS:  # a line's bytes bound its fields' chars
        return None
    return data


def header(data: bytes) -> list[str] | None:
    """The header as the precise reader sees it (stripped names); None if names repeat."""
    first = data.split(b"\n", 1)[0].decode("utf-8")
    names = [h.strip() for h in next(csv.reader(io.StringIO(first)), [])]
    return names if names and len(set(names)) == len(names) else None


def _encode(column: Any) -> Encoded:
    arr = column.combine_chunks().dictionary_encode()
    return Encoded(arr.dictionary.to_pylist(), arr.indices.to_numpy(zero_copy_only=False))


def arrow_csv(data: bytes, names: Sequence[str], types: dict[str, Any]) -> Any:
    """The `types` columns of plain CSV bytes whose header is `names`, as a pyarrow table: no
    quoting, no nulls, every row as wide as the header; None when pyarrow objects."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        return pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=list(names), skip_rows=1),
            parse_options=pacsv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=list(types), null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None


def read_columns(data: bytes, names: Sequence[str], pid: str, sid: str, vote: str,
                 ts: str | None) -> Columns | None:
    """Parse the columns `pid`, `sid`, `vote` (strings) and `ts` (float64) of plain CSV bytes
    whose header is `names`; None when pyarrow finds anything irregular."""
    import pyarrow as pa

    types = {n: pa.string() for n in (pid, sid, vote)}
    if ts is not None:
        types[ts] = pa.float64()
    table = arrow_csv(data, names, types)
    if table is None:
        return None
    times = None
    if ts is not None:
        col = table.column(ts)
        if col.null_count:
            return None
        times = col.to_numpy()
        if not np.isfinite(times).all():
            return None
    return Columns(_encode(table.column(pid)), _encode(table.column(sid)),
                   _encode(table.column(vote)), times, table.num_rows)


def fast_events(cols: Columns, statements: list[Statement] | None, words: bool,
                vote_sign: str, pid_what: str, sid_what: str, display: str,
                prov: Provenance, participant_order: str = "first-vote"
                ) -> VoteTable | None:
    """The latest-vote table from encoded columns, or None when any value needs a diagnostic
    (the precise reader then reports it). `prov` is only touched when a table comes back."""
    votes = parse_votes(cols.vote.values, words=words)
    if cols.rows == 0 or (votes == 99).any():
        return None
    try:
        pids = normalize_ids(cols.pid.values, pid_what, lambda _: None, display)
        sids = normalize_ids(cols.sid.values, sid_what, lambda _: None, display)
    except DiagnosticError:
        return None
    if statements is None:
        statements = [Statement(id=i) for i in sorted(set(sids), key=natural_key)]
    known = {s.id: k for k, s in enumerate(statements)}
    s_of = np.array([known.get(s, -1) for s in sids], dtype=np.int64)
    if (s_of < 0).any():
        return None
    p_of, participants = intern(pids)
    vote = votes[cols.vote.codes]
    if vote_sign == "api":
        vote = -vote
    prov.rows_read += cols.rows
    prov.files.append(display)
    return build_table(p_of[cols.pid.codes], s_of[cols.sid.codes], vote, participants,
                       statements, cols.ts, prov, participant_order)


def load_bytes(path: Any) -> bytes | None:
    """The file's bytes under the data cap when the fast path is worth taking and pyarrow is
    there; None on any problem (the precise reader then reports it) or for small files."""
    from ccaic.files import read_data_bytes

    try:
        if os.stat(path).st_size < FAST_MIN_BYTES:
            return None
        import pyarrow.csv  # noqa: F401 (a dependency; a broken install only costs speed)

        return read_data_bytes(path)
    except (OSError, ImportError):
        return None


def plain_csv(path: Any) -> tuple[bytes, list[str]] | None:
    """A file worth the fast path, as plain bytes (`plain`) and its header (`header`); None:
    use the precise reader."""
    data = load_bytes(path)
    data = plain(data) if data is not None else None
    names = header(data) if data is not None else None
    return None if data is None or names is None else (data, names)


def polis_votes(path: Any, display: str, statements: list[Statement] | None,
                vote_sign: str, prov: Provenance) -> VoteTable | None:
    """A Polis votes.csv (timestamp, comment-id, voter-id, vote), fast; None: use the precise
    reader (ccaic.assembly.sources.polis_csv.read_votes_csv)."""
    found = plain_csv(path)
    if found is None or not {"comment-id", "voter-id", "vote"} <= set(found[1]):
        return None
    data, names = found
    cols = read_columns(data, names, "voter-id", "comment-id", "vote",
                        "timestamp" if "timestamp" in names else None)
    if cols is None:
        return None
    return fast_events(cols, statements, False, vote_sign, "voter-id", "comment-id", display,
                       prov)


def long_votes(path: Any, display: str, statements: list[Statement] | None,
               opts: Any, prov: Provenance) -> VoteTable | None:
    """A long-format votes CSV, columns recognised as ccaic.assembly.sources.long_csv does;
    None: use the precise reader."""
    from ccaic.assembly.sources import long_csv

    found = plain_csv(path)
    if found is None:
        return None
    data, names = found
    head = CsvFile(display, names, [], [], [])  # what `pick` reads: the header
    pid = pick(head, opts.participant_column, long_csv.PARTICIPANT)
    sid = pick(head, opts.statement_column, long_csv.STATEMENT)
    vote = pick(head, opts.vote_column, long_csv.VOTE)
    ts = pick(head, opts.timestamp_column, long_csv.TIMESTAMP)
    if not all(c in names for c in (pid, sid, vote)) or (ts is not None and ts not in names):
        return None
    cols = read_columns(data, names, str(pid), str(sid), str(vote), ts)
    if cols is None:
        return None
    return fast_events(cols, statements, True, opts.vote_sign, "participant id",
                       "statement id", display, prov)



def participants_votes(path: Any, display: str, statements: list[Statement] | None,
                       vote_sign: str, prov: Provenance
                       ) -> tuple[VoteTable, dict[str, str]] | None:
    """A Polis participants-votes.csv (one row per participant, one column per statement),
    fast: (table in file row order, groups); None: use the precise reader
    (ccaic.assembly.sources.polis_csv.read_participants_votes)."""
    import pyarrow as pa

    found = plain_csv(path)
    if found is None or "participant" not in found[1]:
        return None
    data, names = found
    stmt = [h for h in names if h.isascii() and h.isdigit()]
    wanted = ["participant", *(["group-id"] if "group-id" in names else []), *stmt]
    table = arrow_csv(data, names, dict.fromkeys(wanted, pa.string()))
    if table is None:
        return None
    try:
        row_pids = normalize_ids(table.column("participant").to_pylist(), "participant id",
                                 lambda _: None, display)
        labels = (group_labels(table.column("group-id").to_pylist(), lambda _: None, display)
                  if "group-id" in names else None)
    except DiagnosticError:
        return None
    if len(set(row_pids)) != len(row_pids) or table.num_rows == 0:
        return None
    col_ids = [normalize_id(h) for h in stmt]
    rows, cols, codes = [], [], []
    for k, h in enumerate(stmt):
        enc = _encode(table.column(h))
        blank = np.array([not v or v.isspace() for v in enc.values], dtype=bool)
        votes = parse_votes(enc.values, words=False)
        if (votes[~blank] == 99).any():
            return None
        present = np.flatnonzero(~blank[enc.codes])
        rows.append(present)
        cols.append(np.full(len(present), k, dtype=np.int64))
        codes.append(votes[enc.codes[present]])
    rr, cc, vote = (np.concatenate(x) if x else np.zeros(0, dtype=np.int64)
                    for x in (rows, cols, codes))
    voted = [col_ids[k] for k in range(len(stmt)) if len(rows[k])]
    if statements is None:  # as the precise reader: the statements that have votes
        statements = [Statement(id=i) for i in sorted(set(voted), key=natural_key)]
    known = {s.id: k for k, s in enumerate(statements)}
    if any(i not in known for i in voted):
        return None
    order = np.lexsort((cc, rr))  # row-major, as the precise reader lists cells
    rr, cc, vote = rr[order], cc[order], vote[order].astype(np.int8)
    if vote_sign == "api":
        vote = -vote
    s_of = np.array([known.get(i, -1) for i in col_ids], dtype=np.int64)
    voters = np.unique(rr)
    p_of, participants = intern([row_pids[r] for r in voters.tolist()])
    row_code = np.full(table.num_rows, -1, dtype=np.int64)
    row_code[voters] = p_of
    prov.files.append(display)
    prov.rows_read += len(rr)
    out = build_table(row_code[rr], s_of[cc] if len(cc) else cc, vote, participants,
                      statements, None, prov, "file")
    groups = ({p: g for p, g in zip(row_pids, labels, strict=True) if g}
              if labels is not None else {})
    return out, groups


# ---------------------------------------------------------------- Parquet (long format)


def _cell(row: int, col: int, display: str) -> Any:
    """A Parquet cell's location: line = data row (the first is 1), column = column number."""
    return span_at(display, row + 1, col + 1)


def _parquet_error(display: str, why: str, hint: str) -> DiagnosticError:
    return DiagnosticError([error("CCAI446", f"{display}: {why}", None, help=hint)])


def _strings(table: Any, name: str, display: str) -> Encoded:
    """A Parquet id or vote column as encoded strings: string, integer (or dictionary of
    them) columns; nulls and other types are CCAI447 at the first offending row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(name)
    kind = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind)):
        raise DiagnosticError([error(
            "CCAI447", f"{display}: column {name!r} holds {kind}, not strings or integers",
            _cell(0, table.column_names.index(name), display),
            help="write ids and votes as strings or integers")])
    if col.null_count:
        row = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise DiagnosticError([error(
            "CCAI447", f"{display}: column {name!r} is null in row {row + 1}",
            _cell(row, table.column_names.index(name), display),
            help="every vote needs a participant, a statement and a value")])
    return _encode(pc.cast(col, pa.string()))


def parquet_votes(path: Any, display: str, statements: list[Statement] | None, opts: Any,
                  prov: Provenance) -> tuple[VoteTable, list[Any]]:
    """Long-format votes in a Parquet file (columns recognised as in a long-format CSV).

    The fast path as for CSV; when it declines, the per-row checks of the long-format CSV
    reader run on the decoded cells, so a bad value gets the same code, at row:column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ccaic.assembly.sources import long_csv

    data = read_bytes(path, display)
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise _parquet_error(display, f"not a readable Parquet file ({exc})",
                             "write the votes with a Parquet writer (pyarrow, pandas, polars, "
                             "DuckDB), or give a CSV file") from None
    names = list(table.column_names)
    head = CsvFile(display, names, [], [], [])
    roles = {"pid": pick(head, opts.participant_column, long_csv.PARTICIPANT)
             or "participant_id",
             "sid": pick(head, opts.statement_column, long_csv.STATEMENT) or "statement_id",
             "vote": pick(head, opts.vote_column, long_csv.VOTE) or "vote_value"}
    found = require_columns(head, dict(roles), "long-format votes")
    tname = pick(head, opts.timestamp_column, long_csv.TIMESTAMP)
    if tname is not None:
        require_columns(head, {"ts": tname}, "timestamps")
    enc = {role: _strings(table, roles[role], display) for role in roles}
    times = None
    if tname is not None:
        times = _times(table, tname, display)
    cols = Columns(enc["pid"], enc["sid"], enc["vote"], times, table.num_rows)
    fast = fast_events(cols, statements, True, opts.vote_sign, "participant id",
                       "statement id", display, prov)
    if fast is not None:
        return fast, []
    return _parquet_precise(cols, found, statements, opts, display, prov)


def _times(table: Any, name: str, display: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(name)
    at = table.column_names.index(name)
    if pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.int64())
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)) or col.null_count:
        bad = (np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[:1].tolist()
               or [0])[0]
        raise DiagnosticError([error(
            "CCAI408", f"{display}: timestamp column {name!r} holds {col.type}"
            + (f" with a null in row {bad + 1}" if col.null_count else ""),
            _cell(bad, at, display), help=TIMESTAMP_HELP)])
    out = pc.cast(col, pa.float64()).to_numpy()
    if not np.isfinite(out).all():
        row = int(np.flatnonzero(~np.isfinite(out))[0])
        raise DiagnosticError([error(
            "CCAI408", f"{display}: timestamp {out[row]!r} in row {row + 1} is not a finite "
            "number", _cell(row, at, display), help=TIMESTAMP_HELP)])
    return np.asarray(out, dtype=np.float64)


def _parquet_precise(cols: Columns, found: dict[str, int], statements: list[Statement] | None,
                     opts: Any, display: str, prov: Provenance) -> tuple[VoteTable, list[Any]]:
    """The per-row path (Python strings per vote): the same checks and codes as the
    long-format CSV reader, for the Parquet file the fast path declined."""
    vote = parse_votes(cols.vote.values, words=True)
    bad = np.flatnonzero(vote[cols.vote.codes] == 99)
    if len(bad):
        raise DiagnosticError([error(
            "CCAI405", f"{display}: unknown vote value {cols.vote.values[cols.vote.codes[i]]!r}",
            _cell(int(i), found["vote"], display),
            help="use AGREE, DISAGREE or PASS, or 1 / -1 / 0 (1 = agree)")
            for i in bad[:MAX_REPORTS]])
    pids = normalize_ids([cols.pid.values[c] for c in cols.pid.codes.tolist()],
                         "participant id", lambda i: _cell(i, found["pid"], display), display)
    sids = normalize_ids([cols.sid.values[c] for c in cols.sid.codes.tolist()],
                         "statement id", lambda i: _cell(i, found["sid"], display), display)
    signed = vote[cols.vote.codes]
    if opts.vote_sign == "api":
        signed = -signed
    prov.rows_read += cols.rows
    prov.files.append(display)
    return assemble(pids, sids, signed, cols.ts, statements, opts,
                    lambda i: _cell(i, found["sid"], display), display, prov)
