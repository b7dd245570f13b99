"""`source polis_api`: a running Polis server, read through a snapshot so builds stay exact.

`sync` downloads the conversation into the build folder (DIR/sources/<assembly>/polis_api/
under `ccaic build -o DIR`; the source's `path` without a build folder) before the assembly
stage looks at its cache: with `report_id`, the report export CSVs
(`/api/v3/reportExport/<report_id>/comments.csv`, `votes.csv`); with only `conversation_id`,
the conversation API as red-dwarf's data loader reads it (`/api/v3/comments`,
`/api/v3/math/pca2`, then `/api/v3/votes` per participant), written as a Polis API JSON
folder. `snapshot.json` records every file's URL, sha256, size, ETag and Last-Modified.
The loader then reads only the snapshot (through the polis CSV or JSON loader), so the
assembly cache keys on the snapshot's bytes, a build with `--offline` (no request at all) is
the build from the same snapshot, and an unchanged conversation (HTTP 304 to a conditional
request) rewrites nothing. The block's `path`, when the snapshot lives in the build folder,
is a snapshot to start from: a build folder without one copies it from there first (a snapshot
committed beside the .ccai file builds offline in a fresh folder); a build never writes there.

A failed download (HTTP error, timeout, a truncated or oversized body, data the loaders refuse)
raises a coded diagnostic and leaves the last good snapshot as it was: new files are checked
in `.incoming/` by the real loader first and only then moved into place, `snapshot.json`
last, so a run killed half-way is detected (a file whose sha256 is not the manifest's) and
repaired by the next sync.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path
from typing import Any

from ccaic.artifacts import checked
from ccaic.assembly.sources.base import LoadedSource, SourceOptions
from ccaic.atomic import write_bytes_atomic, write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.diagnostics import Diagnostic, DiagnosticError, error
from ccaic.registry.sources import SOURCES

MANIFEST = "snapshot.json"
INCOMING = ".incoming"
#: Seconds before the first retry; each further retry waits twice as long.
BACKOFF = 0.5
#: Statuses worth retrying: the server is busy or briefly down.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

_offline: ContextVar[bool] = ContextVar("ccaic_sources_offline", default=False)


@contextmanager
def offline(on: bool = True) -> Iterator[None]:
    """`--offline`: no request is made; every polis_api source reads its snapshot as it is."""
    token = _offline.set(on)
    try:
        yield
    finally:
        _offline.reset(token)


@dataclass(frozen=True)
class Remote:
    """A polis_api block's server settings, checked (CCAI460)."""

    base_url: str
    conversation_id: str | None
    report_id: str | None
    token: str | None
    timeout: float
    retries: int
    max_bytes: int

    def headers(self, validators: dict[str, str]) -> dict[str, str]:
        """Request headers: the token, and If-None-Match / If-Modified-Since from the last
        snapshot of the file (a 304 then costs no body)."""
        out = {"Accept": "*/*", "User-Agent": "ccaic"}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        if validators.get("etag"):
            out["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            out["If-Modified-Since"] = validators["last_modified"]
        return out


def remote(opts: SourceOptions, display: str) -> Remote:
    """The block's attributes (lowered to strings) with the registry's defaults."""
    values = {**{k: v for k, v in SOURCES.entry("polis_api").defaults().items()
                 if v is not None}, **opts.attrs}
    base = str(values.get("base_url", "")).rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base):
        raise _config(display, f"base_url {base!r} is not an http:// or https:// URL",
                      'write base_url = "https://pol.is" (the server, without /api/v3)')
    ids = {k: str(values[k]) for k in ("conversation_id", "report_id") if values.get(k)}
    if not ids:
        raise _config(display, "needs a conversation_id or a report_id",
                      "copy it from the conversation's URL (https://pol.is/<conversation_id>) "
                      "or its report's (https://pol.is/report/<report_id>)")
    for name, value in ids.items():
        if not _ID.fullmatch(value):
            raise _config(display, f"{name} {value!r} is not a Polis id",
                          "Polis ids are letters, digits, _ and -")
    return Remote(base, ids.get("conversation_id"), ids.get("report_id"),
                  _token(values.get("token_env"), display), float(str(values["timeout"])),
                  int(str(values["retries"])), int(str(values["max_bytes"])))


def _token(env: object, display: str) -> str | None:
    if not env:
        return None
    token = os.environ.get(str(env), "").strip()
    if not token:
        raise _config(display, f"token_env names {env}, which is not set",
                      f"export {env}=<token>, or remove token_env for a public conversation")
    return token


def _config(display: str, problem: str, hint: str) -> DiagnosticError:
    return DiagnosticError([error("CCAI460", f"polis_api source {display}: {problem}", None,
                                  help=hint)])


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Fetched:
    """One answer: the body (None: 304, the snapshot's copy is current) and its validators."""

    url: str
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


def fetch(r: Remote, url: str, validators: dict[str, str] | None = None) -> Fetched:
    """GET with retries and exponential backoff on timeouts, resets, truncated bodies and
    busy statuses; everything else fails at once (CCAI461-464)."""
    problem: Diagnostic | None = None
    for attempt in range(r.retries + 1):
        if attempt:
            time.sleep(BACKOFF * 2 ** (attempt - 1))
        try:
            return _get(r, url, validators or {})
        except _Retry as retry:
            problem = retry.diagnostic
    assert problem is not None
    raise DiagnosticError([problem.model_copy(update={
        "message": f"{problem.message}; tried {r.retries + 1} times"})])


class _Retry(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _get(r: Remote, url: str, validators: dict[str, str]) -> Fetched:
    request = urllib.request.Request(url, headers=r.headers(validators))
    try:
        with urllib.request.urlopen(request, timeout=r.timeout) as response:
            body = _read_limited(response, r.max_bytes, url)
            return Fetched(url, body, response.headers.get("ETag"),
                           response.headers.get("Last-Modified"))
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(url, None, validators.get("etag"), validators.get("last_modified"))
        status = error("CCAI461", f"{url}: the server answered HTTP {exc.code} {exc.reason}",
                       None, help=_status_hint(exc.code))
        if exc.code in RETRY_STATUS:
            raise _Retry(status) from None
        raise DiagnosticError([status]) from None
    except http.client.IncompleteRead as exc:
        got = len(exc.partial)
        raise _truncated(url, got, got + (exc.expected or 0)) from None
    except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException,
            OSError) as exc:
        raise _Retry(error(
            "CCAI462", f"{url}: no answer from the server ({_reason(exc)})", None,
            help="check base_url and the network, or raise `timeout`; build with --offline "
            "to use the last snapshot")) from None


def _read_limited(response: Any, limit: int, url: str) -> bytes:
    """The body, refusing more than `limit` bytes (CCAI464) before holding them all, and one
    shorter than its Content-Length (CCAI463: http.client does not check a sized read)."""
    raw = response.headers.get("Content-Length")
    declared = int(raw) if raw is not None and raw.isdigit() else None
    if declared is not None and declared > limit:
        raise _too_large(url, declared, limit)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = response.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise _too_large(url, None, limit)
    if declared is not None and size < declared:
        raise _truncated(url, size, declared)
    return b"".join(chunks)


def _truncated(url: str, got: int, expected: int) -> _Retry:
    return _Retry(error(
        "CCAI463", f"{url}: the download was cut short ({got:,} of {expected:,} bytes)", None,
        help="the connection closed before the whole file arrived; run the build again"))


def _too_large(url: str, size: int | None, limit: int) -> DiagnosticError:
    said = f"{size:,} bytes" if size is not None else "more"
    return DiagnosticError([error(
        "CCAI464", f"{url}: the download is {said}, over the limit of {limit:,} bytes", None,
        help="raise `max_bytes` in the source block if the conversation is really this large")])


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    return "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__


def _status_hint(code: int) -> str:
    if code in (401, 403):
        return "the server refused access: set token_env to a variable holding a token"
    if code == 404:
        return "no such conversation or report on this server: check the ids and base_url"
    return "the server failed; run the build again later, or build with --offline"


# ---------------------------------------------------------------- snapshot


def _url(r: Remote, path: str, **query: str) -> str:
    return f"{r.base_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")


def download(r: Remote, known: dict[str, dict[str, str]]) -> dict[str, Fetched]:
    """Every file of the snapshot, by file name; conditional where the last snapshot has
    validators."""
    if r.report_id is not None:
        base = f"/api/v3/reportExport/{r.report_id}"
        return {name: fetch(r, _url(r, f"{base}/{name}"), known.get(name))
                for name in ("comments.csv", "votes.csv")}
    cid = str(r.conversation_id)
    out = {"comments.json": fetch(r, _url(r, "/api/v3/comments", conversation_id=cid,
                                          moderation="true", include_voting_patterns="true"),
                                  known.get("comments.json")),
           "math-pca2.json": fetch(r, _url(r, "/api/v3/math/pca2", conversation_id=cid),
                                   known.get("math-pca2.json"))}
    out["votes.json"] = _api_votes(r, cid, _participants(out["math-pca2.json"]))
    return out


def _participants(math: Fetched) -> int:
    """How many participants to ask votes for: math-pca2.json's `n` (red-dwarf does the same)."""
    try:
        n = json.loads(math.body or b"{}").get("n")
    except (ValueError, AttributeError):
        n = None
    if not isinstance(n, int) or n < 0:
        raise DiagnosticError([error(
            "CCAI465", f"{math.url}: the math has no participant count `n`", None,
            help="the server's math is not ready or not Polis's; use a report_id to read the "
            "report export instead")])
    return n


def _api_votes(r: Remote, cid: str, n: int) -> Fetched:
    """/api/v3/votes for each participant 0..n, as one votes.json list."""
    votes: list[Any] = []
    for pid in range(n + 1):
        got = fetch(r, _url(r, "/api/v3/votes", conversation_id=cid, pid=str(pid)))
        try:
            items = json.loads(got.body or b"[]")
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise _unreadable(got.url, "not a JSON list of votes")
        votes.extend(items)
    url = _url(r, "/api/v3/votes", conversation_id=cid)
    return Fetched(url, (json.dumps(votes, ensure_ascii=False) + "\n").encode())


def _unreadable(url: str, problem: str) -> DiagnosticError:
    return DiagnosticError([error(
        "CCAI465", f"{url}: the server sent data ccaic cannot read: {problem}", None,
        help="the server is not a Polis server, or the conversation is not exported yet")])


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        body = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) and isinstance(body.get("files"), dict) else None


def damaged(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Files of the snapshot missing or not the bytes the manifest hashed."""
    bad = []
    for name, meta in sorted(manifest["files"].items()):
        try:
            digest = sha256((folder / name).read_bytes()).hexdigest()
        except OSError:
            digest = None
        if digest != meta.get("sha256"):
            bad.append(name)
    return bad


def sync(path: Path, display: str, opts: SourceOptions, seed: Path | None = None) -> None:
    """Bring the snapshot in `path` up to date with the server (nothing under --offline); a
    `path` without a whole snapshot starts from the one in `seed` (the block's own `path`,
    when the snapshot lives in the build folder), if that holds one."""
    manifest = read_manifest(path)
    bad = None if manifest is None else damaged(path, manifest)  # hashed once: files are big
    if seed is not None and (bad is None or bad):
        seeded = _seeded(path, seed)
        if seeded is not None:
            manifest, bad = seeded, damaged(path, seeded)
    if _offline.get():
        _same_conversation(_usable(path, display, manifest, seed, bad), opts, display)
        return
    r = remote(opts, display)
    known = manifest["files"] if manifest is not None and not bad else {}
    got = download(r, known)
    changed = {n: f for n, f in got.items() if f.body is not None}
    files = {n: _entry(f, (path / n) if f.body is None else None) for n, f in got.items()}
    new = _manifest(r, files)
    if not changed and manifest == new:
        return
    _commit(path, display, opts, changed, new)


def _entry(f: Fetched, current: Path | None) -> dict[str, Any]:
    body = current.read_bytes() if current is not None else f.body or b""
    return {"url": f.url, "sha256": sha256(body).hexdigest(), "bytes": len(body),
            "etag": f.etag, "last_modified": f.last_modified}


def _manifest(r: Remote, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"format_version": "1.0", "base_url": r.base_url,
            "conversation_id": r.conversation_id, "report_id": r.report_id,
            "format": "polis-csv" if r.report_id is not None else "polis-json", "files": files}


def _commit(path: Path, display: str, opts: SourceOptions, changed: dict[str, Fetched],
            manifest: dict[str, Any]) -> None:
    """Check the new files with the real loader in .incoming/, then move them into place and
    write the manifest last. On bad data the old snapshot stays and .incoming/ is kept. The
    check reads every vote: a moment before the first (CCAI486) is no fault of the server's,
    and was reported as CCAI465, "the server sent data ccaic cannot read"."""
    incoming = path / INCOMING
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    for name in manifest["files"]:
        source = changed[name].body if name in changed else (path / name).read_bytes()
        (incoming / name).write_bytes(source or b"")
    try:  # the whole download, whatever moment is built from it (--as-of cuts it later)
        _loader(manifest)(incoming, f"{display}/{INCOMING}", replace(opts, as_of=None))
    except DiagnosticError as exc:
        raise DiagnosticError([_rejected(display, exc.diagnostics), *exc.diagnostics]) from None
    for name, fetched in sorted(changed.items()):
        write_bytes_atomic(path / name, fetched.body or b"")
    write_text_atomic(path / MANIFEST, checked("polis-snapshot", canonical_json(manifest)))
    shutil.rmtree(incoming, ignore_errors=True)


def _rejected(display: str, found: list[Diagnostic]) -> Diagnostic:
    first = found[0].message if found else "unreadable"
    return error("CCAI465", f"{display}: the server sent data ccaic cannot read ({first}); "
                 "the last snapshot is kept", None,
                 help=f"the download is kept in {display}/{INCOMING}/ for a look; the next "
                 "build tries again")


def _loader(manifest: dict[str, Any]) -> Callable[[Path, str, SourceOptions], LoadedSource]:
    loader: Callable[[Path, str, SourceOptions], LoadedSource]
    if manifest.get("format") == "polis-csv":
        from ccaic.assembly.sources.polis_csv import load_polis_csv as loader
    else:
        from ccaic.assembly.sources.polis_json import load_polis_json as loader
    return loader


def _same_conversation(manifest: dict[str, Any], opts: SourceOptions, display: str) -> None:
    """CCAI466 when an offline build's snapshot is of another server or conversation than the
    block names (a changed report_id would otherwise rebuild the old one)."""
    want = {"base_url": str(opts.attrs.get("base_url", "")).rstrip("/"),
            "conversation_id": opts.attrs.get("conversation_id") or None,
            "report_id": opts.attrs.get("report_id") or None}
    got = {k: manifest.get(k) for k in want}
    if got != want:
        spelled = ", ".join(f"{k} {v}" for k, v in got.items() if v)
        raise DiagnosticError([error(
            "CCAI466", f"{display}: the snapshot is of {spelled}, not the server and "
            "conversation the source block names", None,
            help="build without --offline to download the conversation the block names")])


def _seeded(path: Path, seed: Path) -> dict[str, Any] | None:
    """Copy the snapshot in `seed` into `path` (the manifest last, as a sync writes it); None
    when `seed` holds none. A damaged one is CCAI466: it would be silently re-downloaded."""
    manifest = read_manifest(seed)
    if manifest is None:
        return None
    _usable(seed, str(seed), manifest)
    for name in sorted(manifest["files"]):
        write_bytes_atomic(path / name, (seed / name).read_bytes())
    write_text_atomic(path / MANIFEST, checked("polis-snapshot", canonical_json(manifest)))
    return manifest


def _usable(path: Path, display: str, manifest: dict[str, Any] | None,
            seed: Path | None = None, bad: list[str] | None = None) -> dict[str, Any]:
    """The manifest of a whole snapshot, else CCAI466; `bad`: its damaged files, when the
    caller has hashed them already."""
    if manifest is None:
        also = f" (nor in the source's path {seed})" if seed is not None else ""
        raise DiagnosticError([error(
            "CCAI466", f"{display}: no snapshot of the Polis server here{also}", None,
            help="build once without --offline to download it")])
    bad = damaged(path, manifest) if bad is None else bad
    if bad:
        raise DiagnosticError([error(
            "CCAI466", f"{display}: the snapshot is damaged: {', '.join(bad)} "
            f"{'is' if len(bad) == 1 else 'are'} not the file{'s' if len(bad) > 1 else ''} "
            f"{MANIFEST} records", None,
            help="build without --offline to download it again")])
    return manifest


def load_polis_api(path: Path, display: str, opts: SourceOptions) -> LoadedSource:
    """The snapshot `sync` left, read by the polis CSV or JSON loader (never the network), of
    kind polis-api as asked: `ccaic analyze --kind polis-api` said "(polis-csv)"."""
    manifest = _usable(path, display, read_manifest(path))
    return replace(_loader(manifest)(path, display, opts), kind="polis-api")
