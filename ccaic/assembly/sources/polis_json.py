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
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ccaic.assembly._io import (
    MAX_FIELD_CHARS,
    MAX_REPORTS,
    id_error,
    id_problem,
    normalize_id,
    read_text,
    span_at,
)
from ccaic.assembly.sources.as_of import created_by
from ccaic.assembly.sources.base import (
    LoadedSource,
    SourceOptions,
    assemble,
    counted_without_votes,
    missing_field_warnings,
)
from ccaic.assembly.votes import Provenance, Statement, natural_key
from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, error

Locate = Callable[[int], Span]
_WS = re.compile(r"[ \t\n\r]*")


def read_json(path: Path, display: str) -> Any:
    """The parsed file; invalid JSON, nesting past Python's recursion limit and integers past
    its 4,300-digit conversion limit are CCAI409."""
    text = read_text(path, display)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DiagnosticError([error("CCAI409", f"{display}: invalid JSON: {exc.msg}",
                                     span_at(display, exc.lineno, exc.colno),
                                     help="check the file is the complete API response")]
                              ) from None
    except (RecursionError, ValueError) as exc:
        what = ("nested too deeply" if isinstance(exc, RecursionError)
                else f"a number cannot be read ({exc})")
        raise DiagnosticError([error("CCAI409", f"{display}: invalid JSON: {what}",
                                     span_at(display, 1, 1),
                                     help="check the file is the complete API response")]
                              ) from None


def item_locator(path: Path, display: str) -> Locate:
    """Span of element k of the file's top-level list (by re-reading it: only on errors)."""
    def locate(k: int) -> Span:
        text = read_text(path, display)
        pos = _element_start(text, k)
        line = text.count("\n", 0, pos) + 1
        return span_at(display, line, pos - (text.rfind("\n", 0, pos) + 1) + 1)
    return locate


def _element_start(text: str, k: int) -> int:
    """Offset of element k of a JSON list (0 when the text is not one)."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        return 0
    pos += 1
    try:
        for i in range(k + 1):
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if i == k:
                return pos
            _, pos = decoder.raw_decode(text, pos)
            pos = _WS.match(text, pos).end() + 1  # type: ignore[union-attr]  # the comma
    except (ValueError, RecursionError):
        return 0
    return 0


def _shape_error(display: str, what: str, span: Span | None = None) -> DiagnosticError:
    return DiagnosticError([error("CCAI409", f"{display}: {what}",
                                  span or span_at(display, 1, 1),
                                  help="expected the Polis API response format "
                                  "(see docs/polis-math.md §10)")])


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)[:40] if _plain(value) else type(value).__name__
    return text


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def json_id(value: Any) -> str | None:
    """A JSON id as the normalised text every source uses (1, 1.0 and "1" are "1"); None
    for a value that is not an id (true, 0.5, an object, a list)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return normalize_id(str(value)) if abs(value) < 10 ** 300 else None
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        return normalize_id(value)
    return None


def json_small_int(value: Any, allowed: tuple[int, ...]) -> int | None:
    """A vote or flag: an integer (or integral float) in `allowed`; true, 0.5, "1" are not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value in allowed else None


def _id_or_error(value: Any, what: str, where: str, span: Callable[[], Span]
                 ) -> tuple[str, Diagnostic | None]:
    """The normalised id, or the diagnostic saying why `value` is not one (located lazily:
    `span()` re-reads the file)."""
    sid = json_id(value)
    if sid is None:
        return "", error("CCAI409", f"{where}: {what} {_shown(value)} is not an id", span(),
                         help="ids are integers or strings")
    problem = id_problem(sid, what)
    if problem is not None:
        return sid, id_error(f"{where}: {problem}", span(), sid == "")
    return sid, None


def _statements(data: Any, display: str, locate: Locate) -> list[Statement]:
    if not isinstance(data, list):
        raise _shape_error(display, "expected a list of comments")
    out: dict[str, Statement] = {}
    diags: list[Diagnostic] = []
    for k, c in enumerate(data):
        if len(diags) >= MAX_REPORTS:
            break
        problem = _comment_problem(c, k, display, locate)
        if isinstance(problem, Diagnostic):
            diags.append(problem)
            continue
        if problem.id in out:
            diags.append(error("CCAI406", f"{display}: duplicate statement id "
                               f"{problem.id!r} (comment #{k})", locate(k),
                               help="statement ids must be unique"))
            continue
        out[problem.id] = problem
    if diags:
        raise DiagnosticError(diags)
    return sorted(out.values(), key=lambda s: natural_key(s.id))


def _comment_problem(c: Any, k: int, display: str, locate: Locate) -> Statement | Diagnostic:
    """Comment k as a Statement, or the diagnostic for its first bad field."""
    where = f"{display}: comment #{k}"
    tid = _get(c, "tid", "statement_id")
    if tid is None:
        return _shape_error(display, f"comment #{k} has no 'tid'", locate(k)).diagnostics[0]
    sid, bad = _id_or_error(tid, "statement id", where, partial(locate, k))
    if bad is not None:
        return bad
    raw_mod = _get(c, "mod", "moderated")
    mod = 0 if raw_mod is None else json_small_int(raw_mod, (-1, 0, 1))
    if mod is None:
        return error("CCAI408", f"{where}: mod {_shown(raw_mod)} is not one of 1, 0, -1",
                     locate(k), help="mod is 1 (accepted), 0 (unmoderated) or -1 (rejected)")
    text = c.get("txt")
    if text is not None and not isinstance(text, str):
        return error("CCAI409", f"{where}: txt is a {type(text).__name__}, not text",
                     locate(k), help="txt is the statement text, a string")
    if text is not None and len(text) > MAX_FIELD_CHARS:
        return error("CCAI431", f"{where}: txt is longer than {MAX_FIELD_CHARS:,} characters",
                     locate(k), help="check that the file is the API response")
    meta = c.get("is_meta", False)
    if meta is not None and not isinstance(meta, bool) and json_small_int(meta, (0, 1)) is None:
        return error("CCAI409", f"{where}: is_meta {_shown(meta)} is not true or false",
                     locate(k), help="is_meta is true or false")
    raw_author = _get(c, "pid", "participant_id")
    author = None if raw_author is None else json_id(raw_author)
    return Statement(id=sid, text=text or "",
                     author=author if author and id_problem(author, "author") is None else None,
                     moderated=mod, is_meta=bool(meta))


def _get(item: Any, *keys: str) -> Any:
    """The first present key: the API says tid/pid/mod, red-dwarf's newer fixtures
    statement_id/participant_id/moderated."""
    if not isinstance(item, dict):
        return None
    for k in keys:
        if k in item and item[k] is not None:
            return item[k]
    return None


def _time(v: dict[str, Any]) -> float | None:
    """A vote's modified/created time, 0 when absent; None when not a finite number."""
    t = v.get("modified") or v.get("created") or 0
    if isinstance(t, bool) or not isinstance(t, int | float | str):
        return None
    try:
        value = float(t)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def read_votes(raw: Any, vname: str, locate: Locate
               ) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """votes.json -> (pids, tids, votes as given, times); every bad field a located
    diagnostic (CCAI409 shape, CCAI405 vote, CCAI408/430 id)."""
    if not isinstance(raw, list):
        raise _shape_error(vname, "expected a list of votes")
    pids: list[str] = []
    sids: list[str] = []
    vote = np.zeros(len(raw), dtype=np.int64)
    ts = np.zeros(len(raw), dtype=np.float64)
    diags: list[Diagnostic] = []
    for k, v in enumerate(raw):
        where = f"{vname}: vote #{k}"
        pid_raw, tid_raw = _get(v, "pid", "participant_id"), _get(v, "tid", "statement_id")
        if pid_raw is None or tid_raw is None or not isinstance(v, dict) or "vote" not in v:
            diags.append(_shape_error(vname, f"vote #{k} lacks pid, tid or vote",
                                      locate(k)).diagnostics[0])
        else:
            pid, bad_p = _id_or_error(pid_raw, "participant id", where, partial(locate, k))
            sid, bad_s = _id_or_error(tid_raw, "statement id", where, partial(locate, k))
            value = json_small_int(v["vote"], (-1, 0, 1))
            t = _time(v)
            if value is None:
                diags.append(error("CCAI405", f"{vname}: vote #{k} has unknown value "
                                   f"{_shown(v['vote'])}", locate(k),
                                   help="votes are -1, 0 or 1"))
            elif t is None:
                when = v.get("modified") or v.get("created")
                diags.append(error("CCAI408", f"{where}: time {_shown(when)} "
                                   "is not a finite number", locate(k),
                                   help="modified/created are milliseconds since the epoch"))
            diags += [d for d in (bad_p, bad_s) if d is not None]
            pids.append(pid)
            sids.append(sid)
            vote[k] = value or 0
            ts[k] = t or 0.0
        if len(diags) >= MAX_REPORTS:
            break
    if diags:
        raise DiagnosticError(diags[:MAX_REPORTS])
    return pids, sids, vote, ts


def expand_groups(math_data: dict[str, Any], mname: str = "math-pca2.json") -> dict[str, str]:
    """Participant id -> group id from math-pca2.json (group-clusters via base-clusters).

    Any other shape than the API's (lists of objects with id and members) is CCAI409."""
    base = math_data.get("base-clusters") or {}
    if not isinstance(base, dict):
        raise _shape_error(mname, "'base-clusters' is not an object")
    ids, lists = base.get("id", []), base.get("members", [])
    if not isinstance(ids, list) or not isinstance(lists, list) or any(
            not isinstance(m, list) for m in lists):
        raise _shape_error(mname, "'base-clusters' needs lists 'id' and 'members'")
    members = {json_id(b): m for b, m in zip(ids, lists, strict=False)}
    groups = math_data.get("group-clusters") or []
    if not isinstance(groups, list):
        raise _shape_error(mname, "'group-clusters' is not a list")
    out: dict[str, str] = {}
    for n, g in enumerate(groups):
        if not isinstance(g, dict) or not isinstance(g.get("members"), list) or json_id(
                g.get("id")) is None:
            raise _shape_error(mname, f"group-clusters #{n} needs an 'id' and a 'members' list")
        label = _checked_id(g["id"], "group label", mname)
        for b in g["members"]:
            for pid in members.get(json_id(b), []):
                key = _checked_id(pid, "participant id", mname)
                if out.setdefault(key, label) != label:
                    raise DiagnosticError([error(
                        "CCAI432", f"{mname}: participant {key!r} is in group {label!r} and "
                        f"in group {out[key]!r}", span_at(mname, 1, 1),
                        help="a base cluster belongs to one group; the file is damaged or "
                        "edited: download math-pca2.json again")])
    return out


def _checked_id(value: Any, what: str, mname: str) -> str:
    """An id from math-pca2.json, or CCAI409/CCAI430 when it is not one."""
    sid, bad = _id_or_error(value, what, mname, lambda: span_at(mname, 1, 1))
    if bad is not None:
        raise DiagnosticError([bad])
    return sid


def _in_conv(math_data: dict[str, Any], mname: str) -> frozenset[str]:
    raw = math_data.get("in-conv", [])
    if not isinstance(raw, list):
        raise _shape_error(mname, "'in-conv' is not a list of participant ids")
    return frozenset(_checked_id(p, "participant id", mname) for p in raw)


def _unvoted(math_data: dict[str, Any], in_conv: frozenset[str], participants: Sequence[str],
             mname: str, vname: str) -> list[Diagnostic]:
    """CCAI455 when the server's math counts participants (user-vote-counts, in-conv) that
    have no vote in the export: the snapshot and the votes differ, and they are left out."""
    counts = math_data.get("user-vote-counts")
    counted = set(in_conv) | ({_checked_id(k, "participant id", mname) for k in counts}
                              if isinstance(counts, dict) else set())
    return counted_without_votes(counted, set(participants), f"{mname} counts", vname,
                                 "the votes and math-pca2.json", span_at(mname, 1, 1))


def load_polis_json(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    prov = Provenance()
    statements = None
    comments: list[Any] = []
    if (path / "comments.json").exists():
        name = f"{display}/comments.json"
        comments = read_json(path / "comments.json", name)
        found = _statements(comments, name, item_locator(path / "comments.json", name))
        statements = created_by(found, comments, opts.as_of)
        prov.files.append(name)
    vname = f"{display}/votes.json"
    raw = read_json(path / "votes.json", vname)
    locate = item_locator(path / "votes.json", vname)
    pids, sids, vote, ts = read_votes(raw, vname, locate)
    prov.files.append(vname)
    prov.rows_read += len(raw)
    sign = opts.vote_sign
    if sign == "auto":
        sign = _detect_sign(comments, sids, vote)
        prov.notes.append(f"vote sign detected from comments.json: {sign}")
    if sign == "api":
        vote = -vote
    table, warns = assemble(pids, sids, vote.astype(np.int8), ts, statements, opts,
                            locate, vname, prov)
    math_data = None
    groups = in_conv = None
    if (path / "math-pca2.json").exists():
        mname = f"{display}/math-pca2.json"
        math_data = read_json(path / "math-pca2.json", mname)
        if not isinstance(math_data, dict):
            raise _shape_error(mname, "expected an object")
        prov.files.append(mname)
        groups = expand_groups(math_data, mname)
        in_conv = _in_conv(math_data, mname)
        warns.extend(_unvoted(math_data, in_conv, table.participants, mname, vname))
    fields = comment_fields(comments)
    field_warns = missing_field_warnings(
        fields, f"{display}/comments.json", span_at(f"{display}/comments.json", 1, 1),
        {f: "'" + "' or '".join(keys) + "' key" for f, keys in COMMENT_KEYS.items()}
    ) if statements is not None else missing_field_warnings(fields, display, None)
    return LoadedSource("polis-json", display, table, export_groups=groups, in_conv=in_conv,
                        math=math_data, warnings=field_warns + warns, statement_fields=fields)


#: Optional statement fields and the comments.json keys that give them.
COMMENT_KEYS = {"text": ("txt",), "moderated": ("mod", "moderated"),
                "author": ("pid", "participant_id"), "meta": ("is_meta",)}


def comment_fields(comments: list[Any]) -> frozenset[str]:
    """The optional fields some comment in comments.json has a value for."""
    return frozenset(f for f, keys in COMMENT_KEYS.items()
                     if any(_get(c, *keys) is not None for c in comments))


def _detect_sign(comments: list[Any], sids: list[str], vote: np.ndarray) -> str:
    """'export' or 'api': which reading makes per-comment agree counts match agree_count."""
    counts = {str(json_id(_get(c, "tid", "statement_id"))): c.get("agree_count")
              for c in comments if isinstance(c, dict) and c.get("agree_count") is not None}
    if not counts:
        return "export"
    plus = Counter(s for s, v in zip(sids, vote.tolist(), strict=True) if v == 1)
    minus = Counter(s for s, v in zip(sids, vote.tolist(), strict=True) if v == -1)
    export_hits = sum(plus.get(t, 0) == n for t, n in counts.items())
    api_hits = sum(minus.get(t, 0) == n for t, n in counts.items())
    return "api" if api_hits > export_hits else "export"
