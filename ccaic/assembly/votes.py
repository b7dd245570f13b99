"""The vote table: participants x statements, latest vote per cell, with provenance.

Storage convention (one sparse matrix, no ambiguity about pass): `codes` is a CSR int8 matrix
whose stored value is the EXPORT-sign vote + 2, so 3 = agree, 2 = pass, 1 = disagree, and an
absent cell (0) = never voted. Export sign is the CSV convention (+1 agree, -1 disagree, 0 pass);
Polis's API/database and math-pca2.json use the opposite sign (agree = -1), see
shared/docs/polis-math.md §1.1. Loaders convert to export sign before building a table.

Rows are participants in first-vote order (the order Polis's matrix inserts them, which its
k-means initialisation depends on); columns are statements in natural id order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

DISAGREE, PASS, AGREE = 1, 2, 3


def natural_key(value: str) -> tuple[int, int, str]:
    """Sort key: all-ASCII-digit ids numerically, then other ids as text (deterministic, human).

    Numeric order without int(): (digit count without leading zeros, digits), so "²" (a
    Unicode digit int() rejects) sorts as text and a 5,000-digit id costs no conversion."""
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0")
        return (0, len(digits), digits)
    return (1, 0, value)


@dataclass(frozen=True)
class Statement:
    """One statement (Polis comment). `moderated`: 1 accepted, 0 unmoderated, -1 rejected."""

    id: str
    text: str = ""
    author: str | None = None
    moderated: int = 0
    is_meta: bool = False


@dataclass
class Provenance:
    """What was read, what was used, and every reason a row was not used."""

    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def drop(self, reason: str, count: int) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def to_dict(self) -> dict[str, Any]:
        return {"files": list(self.files), "rows_read": self.rows_read,
                "rows_used": self.rows_used, "dropped": dict(sorted(self.dropped.items())),
                "notes": list(self.notes)}


@dataclass(frozen=True)
class VoteTable:
    """Latest votes. See the module docstring for the `codes` convention."""

    participants: tuple[str, ...]
    statements: tuple[Statement, ...]
    codes: sp.csr_matrix
    provenance: Provenance = field(default_factory=Provenance)
    #: per row: time of the participant's min(7, n)-th latest vote, when timestamps exist;
    #: approximates when Polis admitted them to in-conv (their base-cluster id order, §4).
    entry_times: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.participants), len(self.statements))

    @property
    def statement_ids(self) -> list[str]:
        return [s.id for s in self.statements]

    def _mask(self, code: int | None) -> sp.csr_matrix:
        c = self.codes
        data = np.ones(c.nnz, dtype=np.float64) if code is None else (
            (c.data == code).astype(np.float64))
        # copies: eliminate_zeros works in place and must not touch the table's arrays
        m = sp.csr_matrix((data, c.indices.copy(), c.indptr.copy()), shape=c.shape)
        if code is not None:
            m.eliminate_zeros()
        return m

    def agree(self) -> sp.csr_matrix:
        """1.0 where the latest vote is agree (float CSR, ready for matrix products)."""
        return self._mask(AGREE)

    def disagree(self) -> sp.csr_matrix:
        return self._mask(DISAGREE)

    def passed(self) -> sp.csr_matrix:
        return self._mask(PASS)

    def seen(self) -> sp.csr_matrix:
        """1.0 where there is any vote (agree, disagree or pass): Polis's S / ns."""
        return self._mask(None)

    def values(self) -> sp.csr_matrix:
        """Export-sign values (+1/-1/0) as float CSR; pass cells are stored explicit zeros."""
        c = self.codes
        return sp.csr_matrix((c.data.astype(np.float64) - 2.0, c.indices.copy(),
                              c.indptr.copy()),
                             shape=c.shape)

    def vote_counts(self) -> np.ndarray:
        """Votes per participant (passes included)."""
        counts: np.ndarray = np.diff(self.codes.indptr).astype(np.int64)
        return counts

    def statement_vote_counts(self) -> np.ndarray:
        return np.bincount(self.codes.indices, minlength=self.shape[1]).astype(np.int64)

    def subset(self, rows: np.ndarray | None = None,
               cols: np.ndarray | None = None) -> VoteTable:
        """A new table keeping the given row / column indices (in the given order)."""
        codes = self.codes
        parts, stmts, entry = self.participants, self.statements, self.entry_times
        if rows is not None:
            rows = np.asarray(rows, dtype=np.int64)
            codes = codes[rows]
            parts = tuple(parts[i] for i in rows)
            entry = None if entry is None else entry[rows]
        if cols is not None:
            cols = np.asarray(cols, dtype=np.int64)
            codes = codes[:, cols]
            stmts = tuple(stmts[i] for i in cols)
        codes = sp.csr_matrix(codes)
        codes.sort_indices()
        return replace(self, participants=parts, statements=stmts, codes=codes,
                       entry_times=entry)

    def dense_codes(self) -> np.ndarray:
        return np.asarray(self.codes.toarray())


def build_table(p_idx: np.ndarray, s_idx: np.ndarray, vote: np.ndarray,
                participants: Sequence[str], statements: Sequence[Statement],
                timestamps: np.ndarray | None = None,
                provenance: Provenance | None = None,
                participant_order: str = "first-vote") -> VoteTable:
    """Latest-vote-wins table from vote events (vectorised; no loop over votes).

    `p_idx`/`s_idx` index `participants`/`statements`; `vote` is export sign (+1/-1/0). The last
    event per cell by (timestamp, file position) wins and the superseded ones are counted in
    provenance. Rows: participants ordered by their first vote (timestamp, then file position)
    when `participant_order == "first-vote"`, else as given; participants without votes are
    dropped (Polis's matrix has no row for them).

    Cost: one sort of a single int64 composite key (cell * n_events + file position) and
    linear passes; a second composite sort (row, timestamp) for the entry times when the
    timestamps are integers (Polis's milliseconds); other inputs use an exact lexsort fallback.
    """
    prov = provenance or Provenance()
    p_idx = np.asarray(p_idx, dtype=np.int64)
    s_idx = np.asarray(s_idx, dtype=np.int64)
    code = np.asarray(vote, dtype=np.int8) + np.int8(2)
    n_p, n_s, n = len(participants), len(statements), len(p_idx)
    ts = None if timestamps is None else np.asarray(timestamps, dtype=np.float64)
    # 1. group events by cell (participant-major), file order within a cell
    cell_sorted, idx_sorted = _sort_cells(p_idx, s_idx, max(n_s, 1), n)
    first = np.ones(n, dtype=bool)
    if n:
        np.not_equal(cell_sorted[1:], cell_sorted[:-1], out=first[1:])
    last = np.ones(n, dtype=bool)
    if n:
        last[:-1] = first[1:]
    # 2. latest per cell: last in file order unless a duplicate cell has a later timestamp
    if ts is not None and n and not bool(last.all()):
        _latest_by_time(first, last, idx_sorted, ts)
    prov.drop("superseded by a later vote (revote)", n - int(last.sum()))
    kcell = cell_sorted[last]
    kidx = idx_sorted[last]
    del cell_sorted, idx_sorted, first
    prov.rows_used += len(kidx)
    kp = kcell // max(n_s, 1)
    ks = (kcell - kp * max(n_s, 1))
    del kcell
    # 3. row order
    has_vote = np.zeros(n_p, dtype=bool)
    has_vote[kp] = True
    if participant_order == "first-vote" and n:
        if ts is None:
            first_pos = np.full(n_p, n, dtype=np.int64)
            np.minimum.at(first_pos, p_idx, np.arange(n, dtype=np.int64))
            row_order = np.argsort(first_pos, kind="stable")
        else:
            first_ts = np.full(n_p, np.inf)
            np.minimum.at(first_ts, p_idx, ts)
            at_min = np.flatnonzero(ts == first_ts[p_idx])
            first_pos = np.full(n_p, n, dtype=np.int64)
            np.minimum.at(first_pos, p_idx[at_min], at_min)
            row_order = np.lexsort((first_pos, first_ts))
        row_order = row_order[has_vote[row_order]]
    else:
        row_order = np.flatnonzero(has_vote)
    # 4. CSR in participant-index order (cells are sorted), then rows permuted
    counts = np.bincount(kp, minlength=n_p)
    indptr = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    itype = np.int32 if max(n_s, len(kidx)) < 2 ** 31 - 1 else np.int64
    by_index = sp.csr_matrix((code[kidx], ks.astype(itype), indptr.astype(itype)),
                             shape=(n_p, n_s))
    del ks
    by_index.has_sorted_indices = True
    codes = by_index[row_order] if len(row_order) != n_p or bool(
        np.any(row_order != np.arange(n_p))) else by_index
    codes = sp.csr_matrix(codes)
    codes.sort_indices()
    entry = None
    if ts is not None and len(kidx):
        entry = _entry_times(kp, ts[kidx], counts, n_p)[row_order]
    return VoteTable(tuple(participants[i] for i in row_order), tuple(statements), codes, prov,
                     entry)


def _sort_cells(p_idx: np.ndarray, s_idx: np.ndarray, n_s: int, n: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(cell ids sorted, event index) with ties in file order: one int64 key sort when
    cell * n fits in 63 bits, else a stable argsort of the cell ids."""
    cell = p_idx * n_s + s_idx
    if n == 0:
        return cell, np.zeros(0, dtype=np.int64)
    n_cells = int(cell.max()) + 1
    if n_cells * n < 2 ** 62:
        key = cell
        key *= n
        key += np.arange(n, dtype=np.int64)
        key.sort()
        cell_sorted = key // n
        key -= cell_sorted * n
        return cell_sorted, key
    order = np.argsort(cell, kind="stable")
    return cell[order], order


def _latest_by_time(first: np.ndarray, last: np.ndarray, idx_sorted: np.ndarray,
                    ts: np.ndarray) -> None:
    """Within each duplicated cell keep the event with the largest (timestamp, file position);
    updates `last` in place. Only events of duplicated cells are touched."""
    starts = np.flatnonzero(first)
    sizes = np.diff(np.append(starts, len(first)))
    dup = sizes > 1
    sub = np.flatnonzero(np.repeat(dup, sizes))
    sub_sizes = sizes[dup]
    sub_starts = np.zeros(len(sub_sizes), dtype=np.int64)
    np.cumsum(sub_sizes[:-1], out=sub_starts[1:])
    t = ts[idx_sorted[sub]]
    gmax = np.maximum.reduceat(t, sub_starts)
    cand = np.where(t == np.repeat(gmax, sub_sizes), np.arange(len(sub)), -1)
    win = np.maximum.reduceat(cand, sub_starts)
    last[sub] = False
    last[sub[win]] = True


def _entry_times(kp: np.ndarray, kts: np.ndarray, counts: np.ndarray, n_p: int
                 ) -> np.ndarray:
    """Per participant index: the min(7, n)-th earliest timestamp of its latest votes.

    `kp` is sorted (participant-major). Integer timestamps with a small enough range use one
    composite int64 sort (participant, timestamp); others an exact lexsort.
    """
    starts = np.zeros(n_p, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    pick = starts + np.minimum(counts, 7) - 1
    entry = np.full(n_p, np.nan)
    has = counts > 0
    lo, hi = float(kts.min()), float(kts.max())
    span = hi - lo + 1
    if (np.isfinite(span) and span * n_p < 2 ** 62 and abs(lo) < 2 ** 52
            and abs(hi) < 2 ** 52 and bool(np.all(kts == np.floor(kts)))):
        key = kp * np.int64(span)
        key += (kts - lo).astype(np.int64)
        key.sort()
        vals = key[pick[has]] - np.flatnonzero(has).astype(np.int64) * np.int64(span)
        entry[has] = vals.astype(np.float64) + lo
        return entry
    o = np.lexsort((kts, kp))
    entry[has] = kts[o][pick[has]]
    return entry


def parse_votes(raw: Sequence[str], words: bool = True) -> np.ndarray:
    """Vote strings -> export-sign int8, with 99 marking an unknown value.

    Accepts 1/-1/0 (also 1.0, +1, -1.0) in export sign and, when `words`, AGREE / DISAGREE /
    PASS in any case; each distinct value is parsed once.
    """
    cache: dict[str, int] = {}
    out = np.empty(len(raw), dtype=np.int8)
    for i, value in enumerate(raw):
        code = cache.get(value)
        if code is None:
            # a long cell cannot be a vote: skip the regex on it (and a fixed-width copy of
            # every cell as wide as the longest, which np.unique on strings would make)
            code = cache[value] = _vote_value(value, words) if len(value) <= 32 else 99
        out[i] = code
    return out


_NUM_VOTE = re.compile(r"^\s*([+-]?)([01])(?:\.0*)?\s*$")
_WORDS = {"agree": 1, "disagree": -1, "pass": 0, "skip": 0, "neutral": 0, "unsure": 0}


def _vote_value(text: str, words: bool) -> int:
    m = _NUM_VOTE.match(text)
    if m:
        v = int(m.group(2))
        return -v if m.group(1) == "-" else v
    if words and text.strip().lower() in _WORDS:
        return _WORDS[text.strip().lower()]
    return 99
