"""A fake Polis server for tests: stdlib http.server on 127.0.0.1 replaying a real shared
conversation, with ETags, a time cut-off (the conversation as it was at a moment) and
switchable faults (an HTTP status, a stall, a truncated body, garbage, a required token)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ccaic.assembly.sources import LoadedSource

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "polis"
CSV_CONVERSATION = SHARED / "opendata" / "15-per-hour-seattle"
JSON_CONVERSATION = SHARED / "polis-math" / "below-100-ptpts"


def export_copy(tmp_path: Path) -> Path:
    """The CSV conversation's comments.csv and votes.csv alone, in `tmp_path/export`: what the
    report export serves (the shared folder also has participants-votes.csv)."""
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    for name in ("comments.csv", "votes.csv"):
        shutil.copy(conversation(CSV_CONVERSATION) / name, folder / name)
    return folder


def assert_same_table(a: LoadedSource, b: LoadedSource) -> None:
    """Two loads gave the same vote table: participants, statements and every vote."""
    assert a.table.participants == b.table.participants
    assert a.table.statements == b.table.statements
    assert (a.table.codes != b.table.codes).nnz == 0


# The assembly that reads the fake server: its base URL is `var.server`, report "r1".
LIVE_ASSEMBLY = """variable "server" { type = string }

assembly "live" {
  source polis_api {
    path      = "snap"
    base_url  = var.server
    report_id = "r1"
    retries   = 1
    timeout   = 2
  }
  consensus gac { top_k = 5 }
}
"""


def conversation(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the fake Polis server replays this real shared "
                    "conversation")
    return folder


@dataclass
class Faults:
    status: int | None = None  # answer every request with this status
    stall: float = 0.0  # seconds to wait before answering
    truncate: bool = False  # announce the full length, send half
    garbage: bool = False  # send bytes that are no CSV/JSON Polis writes
    token: str | None = None  # require "Authorization: Bearer <token>"


@dataclass
class FakePolis:
    """Serves `folder` (a Polis CSV export and/or API JSON folder) as report `r1` and
    conversation `c1`; `cutoff` (ms) hides votes and comments after that moment."""

    folder: Path
    cutoff: float | None = None
    faults: Faults = field(default_factory=Faults)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def body(self, path: str, query: dict[str, str]) -> bytes | None:
        if path == "/api/v3/reportExport/r1/comments.csv":
            return self._csv("comments.csv")
        if path == "/api/v3/reportExport/r1/votes.csv":
            return self._csv("votes.csv")
        if query.get("conversation_id") != "c1":
            return None
        if path == "/api/v3/comments":
            return self._json("comments.json", "created")
        if path == "/api/v3/math/pca2":
            return (self.folder / "math-pca2.json").read_bytes()
        if path == "/api/v3/votes":
            pid = int(query.get("pid", "-1"))
            votes = json.loads(self._json("votes.json", "modified"))
            return json.dumps([v for v in votes if v["pid"] == pid]).encode()
        return None

    def _csv(self, name: str) -> bytes:
        text = (self.folder / name).read_text(encoding="utf-8")
        if self.cutoff is None:
            return text.encode()
        rows = list(csv.reader(io.StringIO(text)))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows(r for r in rows[1:] if float(r[0]) <= self.cutoff)
        return out.getvalue().encode()

    def _json(self, name: str, stamp: str) -> bytes:
        items: list[Any] = json.loads((self.folder / name).read_text(encoding="utf-8"))
        if self.cutoff is not None:
            items = [i for i in items if float(i[stamp]) <= self.cutoff]
        return json.dumps(items).encode()


def _handler(fake: FakePolis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            fake.requests.append((self.path, dict(self.headers)))
            f = fake.faults
            if f.stall:
                time.sleep(f.stall)
            if f.token is not None and self.headers.get("Authorization") != f"Bearer {f.token}":
                return self._send(401, b"")
            if f.status is not None:
                return self._send(f.status, b"busy")
            body = fake.body(parts.path, query)
            if body is None:
                return self._send(404, b"not found")
            if f.garbage:
                body = b"\x00\x01<html>not polis</html>\n"
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", etag)
            self._send(200, body, etag, truncate=f.truncate)

        def _send(self, status: int, body: bytes, etag: str | None = None,
                  truncate: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            if status != 304:
                try:
                    self.wfile.write(body[: len(body) // 2] if truncate else body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    return
            if truncate:
                self.close_connection = True

    return Handler


@contextmanager
def serving(fake: FakePolis) -> Iterator[FakePolis]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
