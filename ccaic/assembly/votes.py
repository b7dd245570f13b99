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
    """Sort key: all-digit ids numerically, then other ids as text (deterministic, human)."""
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


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
        return np.diff(self.codes.indptr).astype(np.int64)

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

    `p_idx`/`s_idx` index `participants`/`statements`; `vote` is export sign (+1/-1/0). Events
    are stably sorted by timestamp (file order breaks ties), the last per cell wins and the
    superseded ones are counted in provenance. Rows: participants ordered by their first vote
    (timestamp, then file order) when `participant_order == "first-vote"`, else as given;
    participants without votes are dropped (Polis's matrix has no row for them).
    """
    prov = provenance or Provenance()
    p_idx = np.asarray(p_idx, dtype=np.int64)
    s_idx = np.asarray(s_idx, dtype=np.int64)
    code = (np.asarray(vote, dtype=np.int8) + 2).astype(np.int8)
    n_p, n_s = len(participants), len(statements)
    order_in_file = np.arange(len(p_idx), dtype=np.int64)
    ts = (np.asarray(timestamps, dtype=np.float64) if timestamps is not None
          else np.zeros(len(p_idx)))
    cell = p_idx * max(n_s, 1) + s_idx
    order = np.lexsort((order_in_file, ts, cell))
    cell_sorted = cell[order]
    last = np.ones(len(order), dtype=bool)
    if len(order):
        last[:-1] = cell_sorted[1:] != cell_sorted[:-1]
    prov.drop("superseded by a later vote (revote)", int((~last).sum()))
    keep = order[last]
    prov.rows_used += len(keep)
    # participant order: first vote time, then file position
    rank = np.full(n_p, np.iinfo(np.int64).max, dtype=np.int64)
    if participant_order == "first-vote" and len(p_idx):
        first = np.lexsort((order_in_file, ts))
        pos = np.empty(len(first), dtype=np.int64)
        pos[first] = np.arange(len(first))
        np.minimum.at(rank, p_idx, pos)
    else:
        rank[np.unique(p_idx)] = np.unique(p_idx)
    has_vote = rank < np.iinfo(np.int64).max
    row_order = np.argsort(rank, kind="stable")[: int(has_vote.sum())]
    new_row = np.empty(n_p, dtype=np.int64)
    new_row[row_order] = np.arange(len(row_order))
    codes = sp.csr_matrix((code[keep], (new_row[p_idx[keep]], s_idx[keep])),
                          shape=(len(row_order), n_s), dtype=np.int8)
    codes.sort_indices()
    entry = None
    if timestamps is not None and len(keep):
        rows_k, ts_k = new_row[p_idx[keep]], ts[keep]
        o = np.lexsort((ts_k, rows_k))
        counts = np.bincount(rows_k, minlength=len(row_order))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        entry = ts_k[o][starts + np.minimum(counts, 7) - 1]
    return VoteTable(tuple(participants[i] for i in row_order), tuple(statements), codes, prov,
                     entry)


def parse_votes(raw: Sequence[str], words: bool = True) -> np.ndarray:
    """Vote strings -> export-sign int8, with 99 marking an unknown value.

    Accepts 1/-1/0 (also 1.0, +1, -1.0) in export sign and, when `words`, AGREE / DISAGREE /
    PASS in any case. Vectorised over the unique values.
    """
    arr = np.asarray(raw, dtype=object)
    uniq, inv = np.unique(arr.astype(str), return_inverse=True)
    mapped = np.array([_vote_value(u, words) for u in uniq], dtype=np.int8).reshape(-1)
    return mapped[inv] if len(arr) else np.zeros(0, dtype=np.int8)


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
