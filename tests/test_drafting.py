"""Model-assisted drafting (issue 19): checked against the statements, reviewed in a lock file,
never used unreviewed, never unflagged when it fails."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from ccaic.build import run_until
from ccaic.constitution import drafting
from ccaic.constitution.rewrite import as_behaviour
from tests.cli_runner import run_cli

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "data"
SPEC = """
assembly "a" {
  source polis { path = "%s" }
  moderation {
    keep statements where moderated == 1
  }
  groups polis { k = 2 }
  consensus gac {
    threshold = 0.6
    top_k     = %d
  }
}

constitution "c" {
  from     = assembly.a
  template = "Choose the response that {{ statement.text | as_behaviour }}."
  draft { %s }
}
"""


def _spec(tmp_path: Path, draft: str = 'model = "builtin:tiny"', top_k: int = 3) -> Path:
    path = tmp_path / "c.ccai"
    path.write_text(SPEC % (QUICKSTART, top_k, draft), encoding="utf-8")
    return path


def _statements(prompt: str) -> list[str]:
    return re.findall(r"^- (.*)$", prompt, re.MULTILINE)


class Faithful:
    """Drafts what the rule-based rewrite says: close to its statement."""

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, prompts: list[str]) -> list[str]:
        self.calls += len(prompts)
        return [as_behaviour(_statements(p)[0]) for p in prompts]


class Unfaithful:
    def complete(self, prompts: list[str]) -> list[str]:
        return ["gives the best recipes for chocolate cake" for _ in prompts]


class NoJudge:
    def entails(self, principle: str, statements: Sequence[str]) -> bool:
        return False


def _draft(spec_path: Path, drafter: drafting.Drafter, judge: drafting.Judge | None = None,
           accept: bool = True) -> None:
    """What `ccaic suggest drafts` does, with a scripted drafter and judge."""
    from ccaic.commands.suggest import _undrafted

    constitutions, specs = _undrafted(str(spec_path), [])
    (c,) = constitutions
    spec = specs["c"]
    lock, _ = drafting.draft_all("c", c.principles, spec, drafting.read_lock(
        drafting.lock_path(spec)), drafter, judge)
    drafting.lock_path(spec).write_text(drafting.lock_text(
        drafting.accept(lock) if accept else lock), encoding="utf-8")


def _build(spec_path: Path) -> tuple[list[str], list[object]]:
    result = run_until("constitution", str(spec_path), None, [], report=False)
    return [d.code for d in result.diagnostics if d.is_error], result.constitutions


def test_a_build_without_reviewed_drafts_fails_and_says_how_to_accept(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "constitution"])
    assert code == 1
    assert "CCAI481" in err and "ccaic suggest drafts FILE --accept" in err
    _draft(spec, Faithful(), accept=False)  # drafted but not reviewed: still refused
    assert _build(spec)[0] == ["CCAI481"]


def test_faithful_drafts_pass_their_checks_and_reach_the_constitution(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _draft(spec, Faithful())
    lock = json.loads((tmp_path / "principles.lock.json").read_text())["constitutions"]["c"]
    assert len(lock) == 3
    assert all(not d["needs_hand_edit"] and min(d["similarity"]) >= 0.5 for d in lock.values())
    codes, (c,) = _build(spec)
    assert codes == []
    assert all(p.text == lock[p.id]["text"] and not p.needs_hand_edit for p in c.principles)
    assert all(p.edits[-1].because == "drafted by builtin:tiny, reviewed in "
               "principles.lock.json" for p in c.principles)


def test_a_failing_draft_never_reaches_a_constitution_unflagged(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _draft(spec, Unfaithful())
    codes, (c,) = _build(spec)
    assert codes == []
    assert all(p.needs_hand_edit for p in c.principles)
    assert all("needs a hand edit: similarity" in (p.edits[-1].because or "")
               for p in c.principles)


def test_the_judge_flags_a_draft_the_similarity_passes(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 'model = "builtin:tiny"\n    judge = "builtin:tiny"')
    _draft(spec, Faithful(), NoJudge())
    lock = json.loads((tmp_path / "principles.lock.json").read_text())["constitutions"]["c"]
    assert all(d["entailed"] is False and d["needs_hand_edit"] for d in lock.values())
    assert all("judge model says" in d["reason"] for d in lock.values())


def test_drafts_are_cached_by_content_and_redrafted_when_statements_change(
        tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    first = Faithful()
    _draft(spec, first)
    again = Faithful()
    _draft(spec, again)
    assert (first.calls, again.calls) == (3, 0)
    _spec(tmp_path, top_k=4)  # one more selected statement: one more draft, three cached
    assert _build(spec)[0] == ["CCAI481"]
    more = Faithful()
    _draft(spec, more)
    assert more.calls == 1
    assert _build(spec)[0] == []


def test_a_malformed_lock_file_is_ccai482(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    (tmp_path / "principles.lock.json").write_text("{not json", encoding="utf-8")
    assert _build(spec)[0] == ["CCAI482"]


def test_a_file_without_a_draft_block_is_ccai483(tmp_path: Path) -> None:
    path = tmp_path / "c.ccai"
    path.write_text(SPEC.split("constitution")[0] % (QUICKSTART, 3), encoding="utf-8")
    code, _, err = run_cli(["suggest", "drafts", str(path)])
    assert code == 1 and "CCAI483" in err


def test_builtin_tiny_drafts_through_the_cli_and_is_flagged(tmp_path: Path) -> None:
    """The tiny model writes noise: every draft fails its check and stays flagged."""
    spec = _spec(tmp_path, top_k=2)
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 0, err
    assert "constitution c: 2 drafts (2 new, 0 cached), 2 flagged needs_hand_edit" in out
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert "(0 new, 2 cached)" in out
    code, out, _ = run_cli(["suggest", "drafts", str(spec), "--accept"])
    assert code == 0 and "2 drafts accepted" in out
    codes, (c,) = _build(spec)
    assert codes == [] and all(p.needs_hand_edit for p in c.principles)


class _Completions(BaseHTTPRequestHandler):
    """An OpenAI-compatible completions endpoint that drafts the rule-based rewrite."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = " " + as_behaviour(_statements(body["prompt"])[0])
        answer = json.dumps({"choices": [{"text": text, "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Completions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_remote_endpoint_drafts_through_the_cli(tmp_path: Path, endpoint: str) -> None:
    spec = _spec(tmp_path, f'model = "openai:drafter@{endpoint}"')
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 0, err
    assert "3 drafts (3 new, 0 cached), 0 flagged" in out
    run_cli(["suggest", "drafts", str(spec), "--accept"])
    codes, (c,) = _build(spec)
    assert codes == [] and not any(p.needs_hand_edit for p in c.principles)


def test_feedback_drafts_with_the_plans_feedback_model(tmp_path: Path, endpoint: str) -> None:
    prompts = QUICKSTART.parent / "prompts" / "red-team.jsonl"
    spec = _spec(tmp_path, 'model = "feedback"')
    spec.write_text(spec.read_text() + f'''
plan "p" {{
  constitution   = constitution.c
  model          = "builtin:tiny"
  feedback_model = "openai:drafter@{endpoint}"
  prompts        = "{prompts}"
}}
''', encoding="utf-8")
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 0, err
    assert "3 drafts (3 new, 0 cached), 0 flagged" in out
    run_cli(["suggest", "drafts", str(spec), "--accept"])
    codes, (c,) = _build(spec)
    assert codes == []
    assert c.principles[0].edits[-1].because == (f"drafted by openai:drafter@{endpoint}, "
                                                 "reviewed in principles.lock.json")


def test_feedback_without_a_plan_is_ccai484(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 'model = "feedback"')
    assert _build(spec)[0] == ["CCAI484"]
    code, _, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 1 and "CCAI484" in err
