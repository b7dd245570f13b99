"""A Polis API JSON folder: votes.json, comments.json, optional math-pca2.json.

Sign: the Polis API and database use agree = -1; red-dwarf's fixture votes.json files are
already sign-corrected to export sign (+1 agree). With vote_sign "auto" the sign is decided
from comments.json: the convention under which the number of agree votes per comment matches
`agree_count` on more comments wins (ties: export sign). The table is always export sign.
math-pca2.json gives Polis's in-conv set and its groups (group-clusters expanded through
base-clusters); its own numbers stay in Polis's internal sign (agree = -1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ccaic.assembly._io import read_text, span_at
from ccaic.assembly.sources.base import LoadedSource, SourceOptions, assemble
from ccaic.assembly.votes import Provenance, Statement, natural_key
from ccaic.diagnostics import DiagnosticError, error


def read_json(path: Path, display: str) -> Any:
    text = read_text(path, display)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DiagnosticError([error("CCAI409", f"{display}: invalid JSON: {exc.msg}",
                                     span_at(display, exc.lineno, exc.colno),
                                     help="check the file is the complete API response")]
                              ) from None


def _shape_error(display: str, what: str) -> DiagnosticError:
    return DiagnosticError([error("CCAI409", f"{display}: {what}", span_at(display, 1, 1),
                                  help="expected the Polis API response format "
                                  "(see docs/polis-math.md §10)")])


def _statements(data: Any, display: str) -> list[Statement]:
    if not isinstance(data, list):
        raise _shape_error(display, "expected a list of comments")
    out: dict[str, Statement] = {}
    for k, c in enumerate(data):
        tid = _get(c, "tid", "statement_id")
        if tid is None:
            raise _shape_error(display, f"comment #{k} has no 'tid'")
        sid = str(tid)
        if sid in out:
            raise DiagnosticError([error("CCAI406", f"{display}: duplicate statement id "
                                         f"{sid!r} (comment #{k})", span_at(display, 1, 1),
                                         help="statement ids must be unique")])
        mod = _get(c, "mod", "moderated")
        author = _get(c, "pid", "participant_id")
        out[sid] = Statement(id=sid, text=str(c.get("txt", "")),
                             author=None if author is None else str(author),
                             moderated=int(mod) if mod is not None else 0,
                             is_meta=bool(c.get("is_meta", False)))
    return sorted(out.values(), key=lambda s: natural_key(s.id))


def _get(item: Any, *keys: str) -> Any:
    """The first present key: the API says tid/pid/mod, red-dwarf's newer fixtures
    statement_id/participant_id/moderated."""
    if not isinstance(item, dict):
        return None
    for k in keys:
        if k in item and item[k] is not None:
            return item[k]
    return None


def _need(item: Any, *keys: str) -> Any:
    value = _get(item, *keys)
    if value is None:
        raise KeyError(keys[0])
    return value


def expand_groups(math: dict[str, Any]) -> dict[str, str]:
    """Participant id -> group id from math-pca2.json (group-clusters via base-clusters)."""
    base = math.get("base-clusters") or {}
    members = dict(zip(base.get("id", []), base.get("members", []), strict=False))
    out: dict[str, str] = {}
    for g in math.get("group-clusters") or []:
        for b in g["members"]:
            for pid in members.get(b, []):
                out[str(pid)] = str(g["id"])
    return out


def load_polis_json(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    prov = Provenance()
    statements = None
    comments: list[dict[str, Any]] = []
    if (path / "comments.json").exists():
        name = f"{display}/comments.json"
        comments = read_json(path / "comments.json", name)
        statements = _statements(comments, name)
        prov.files.append(name)
    vname = f"{display}/votes.json"
    raw = read_json(path / "votes.json", vname)
    if not isinstance(raw, list):
        raise _shape_error(vname, "expected a list of votes")
    prov.files.append(vname)
    prov.rows_read += len(raw)
    try:
        pids = [str(_need(v, "pid", "participant_id")) for v in raw]
        sids = [str(_need(v, "tid", "statement_id")) for v in raw]
        vote = np.array([int(v["vote"]) for v in raw], dtype=np.int64)
        ts = np.array([float(v.get("modified") or v.get("created") or 0) for v in raw])
    except (KeyError, TypeError, ValueError) as exc:
        raise _shape_error(vname, f"a vote lacks pid/tid/vote or has a bad value ({exc})"
                           ) from None
    bad = np.flatnonzero(~np.isin(vote, (-1, 0, 1)))
    if len(bad):
        raise DiagnosticError([error("CCAI405", f"{vname}: vote #{int(i)} has unknown value "
                                     f"{int(vote[i])}", span_at(vname, 1, 1),
                                     help="votes are -1, 0 or 1") for i in bad[:10]])
    sign = opts.vote_sign
    if sign == "auto":
        sign = _detect_sign(comments, sids, vote)
        prov.notes.append(f"vote sign detected from comments.json: {sign}")
    if sign == "api":
        vote = -vote
    table, warns = assemble(pids, sids, vote.astype(np.int8), ts, statements, opts,
                            lambda i: span_at(vname, 1, 1), vname, prov)
    math = None
    groups = in_conv = None
    if (path / "math-pca2.json").exists():
        mname = f"{display}/math-pca2.json"
        math = read_json(path / "math-pca2.json", mname)
        if not isinstance(math, dict):
            raise _shape_error(mname, "expected an object")
        prov.files.append(mname)
        groups = expand_groups(math)
        in_conv = frozenset(str(p) for p in math.get("in-conv", []))
    return LoadedSource("polis-json", display, table, export_groups=groups, in_conv=in_conv,
                        math=math, warnings=warns)


def _detect_sign(comments: list[dict[str, Any]], sids: list[str], vote: np.ndarray) -> str:
    """'export' or 'api': which reading makes per-comment agree counts match agree_count."""
    counts = {str(_get(c, "tid", "statement_id")): c.get("agree_count") for c in comments
              if isinstance(c, dict) and c.get("agree_count") is not None}
    if not counts:
        return "export"
    s = np.asarray(sids, dtype=object)
    plus: dict[str, int] = {}
    minus: dict[str, int] = {}
    for key, arr in ((1, plus), (-1, minus)):
        ids, n = np.unique(s[vote == key].astype(str), return_counts=True)
        arr.update(zip(ids.tolist(), n.tolist(), strict=True))
    export_hits = sum(plus.get(t, 0) == n for t, n in counts.items())
    api_hits = sum(minus.get(t, 0) == n for t, n in counts.items())
    return "api" if api_hits > export_hits else "export"
