"""The remote (OpenAI-compatible) labeller against a local completions server: both options
of a comparison in one request where the server takes a list of prompts, one per option where
it does not, the same scores either way, and the plan's concurrency."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ccaic.models.ref import ModelRef
from ccaic.models.remote import RemoteLM


def _echo(text: str) -> dict[str, Any]:
    """Character "tokens" whose log-prob depends on the character: deterministic scores."""
    return {"text": text, "logprobs": {
        "text_offset": list(range(len(text))),
        "token_logprobs": [None] + [-(ord(c) % 7) / 10 for c in text[1:]]}}


class _Server:
    def __init__(self, lists: bool) -> None:
        self.lists = lists
        self.bodies: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                prompt = body["prompt"]
                if isinstance(prompt, list) and not server.lists:
                    self.send_response(400)
                    self.end_headers()
                    return
                texts = prompt if isinstance(prompt, list) else [prompt]
                data = json.dumps({"choices": [{"index": i, **_echo(t)}
                                               for i, t in enumerate(texts)]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def servers() -> Iterator[dict[bool, _Server]]:
    found = {True: _Server(lists=True), False: _Server(lists=False)}
    yield found
    for s in found.values():
        s.httpd.shutdown()


def _lm(server: _Server, concurrency: int = 2) -> RemoteLM:
    ref = ModelRef(ref=f"openai:judge@{server.url}", kind="openai", name="judge",
                   base_url=server.url)
    return RemoteLM(ref, concurrency=concurrency, retries=0, timeout=10)


def test_both_options_in_one_request_with_the_same_scores(servers: dict[bool, _Server]
                                                          ) -> None:
    prompts = [f"Which is better, {i}? The answer is:" for i in range(5)]
    options = (" (A)", " (B)")
    together = _lm(servers[True]).option_logprobs(prompts, options)
    apart = _lm(servers[False]).option_logprobs(prompts, options)
    assert together == apart
    expected = [[sum(-(ord(c) % 7) / 10 for c in o) for o in options] for _ in prompts]
    assert [x for r in together for x in r] == pytest.approx([x for r in expected for x in r])
    assert len(servers[True].bodies) == 5  # one request per comparison, both options in it
    assert all(isinstance(b["prompt"], list) for b in servers[True].bodies)
    # a server without list prompts: a refused list per thread at most, then one request
    # per option
    bodies = servers[False].bodies
    refused = sum(isinstance(b["prompt"], list) for b in bodies)
    assert 1 <= refused <= 2 and len(bodies) == refused + 2 * 5


def test_plan_sets_the_labeller_concurrency(plan_files: Any, tmp_path: Any) -> None:
    write_plan, compiled = plan_files
    path = write_plan(tmp_path / "p")
    path.write_text(path.read_text().replace("  rlaif {", "  label {\n    concurrency = 16\n"
                                             "  }\n  rlaif {"))
    assert compiled(path).stages.label.concurrency == 16
