"""Model-assisted drafting (issue 19): checked against the statements, reviewed in a lock file,
never used unreviewed, never unflagged when it fails."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from ccaic.build import run_until
from ccaic.constitution import drafting
from ccaic.constitution.model import Constitution, Principle
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
    return re.findall(r"^- (.*)$", prompt.split("Statements:\n", 1)[1], re.MULTILINE)


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
    if accept:
        lock, _ = drafting.accept("c", c.principles, spec, lock, judge)
    drafting.lock_path(spec).write_text(drafting.lock_text(lock), encoding="utf-8")


def _build(spec_path: Path) -> tuple[list[str], list[Constitution]]:
    result = run_until("constitution", str(spec_path), None, [], report=False)
    return [d.code for d in result.diagnostics if d.is_error], result.constitutions


def test_a_build_without_reviewed_drafts_fails_and_says_how_to_accept(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    spec.write_text('variable "k" {\n  type    = number\n  default = 3\n}\n'
                    + spec.read_text(encoding="utf-8").replace("top_k     = 3", "top_k = var.k"),
                    encoding="utf-8")
    code, _, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"),
                            "--until", "constitution", "--var", "k=3"])
    assert code == 1
    # the hint names this file and its --var values (it said `ccaic suggest drafts FILE`)
    assert "CCAI481" in err and f"`ccaic suggest drafts {spec} --var k=3 --accept`" in err, err
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
    # the reason names each source by its statement id (it said "statement 1", the position)
    lock = json.loads((tmp_path / "principles.lock.json").read_text())["constitutions"]["c"]
    for p in c.principles:
        (source,) = p.sources
        assert re.fullmatch(rf"similarity 0\.\d\d to statement {source.id} is below 0\.5",
                            lock[p.id]["reason"]), (source.id, lock[p.id]["reason"])
    assert {s.id for p in c.principles for s in p.sources} != {"1"}


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
    order = ", ".join(p.id for p in _undrafted_principles(spec))  # rank order, not text order
    assert f"constitution c: 2 drafts (2 new, 0 cached), 2 flagged needs_hand_edit: {order}" \
        in out
    # the next step names this file (it said `ccaic suggest drafts FILE --accept`)
    assert f"review it, then run `ccaic suggest drafts {spec} --accept`" in out
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert "(0 new, 2 cached)" in out
    assert "topics" not in json.loads((tmp_path / "principles.lock.json").read_text())
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


# ---------------------------------------------------------------- the lock is a build input


def test_the_lock_file_is_a_recorded_input_and_its_digest_is_in_the_constitution(
        tmp_path: Path) -> None:
    """Every file a build reads is recorded (ccaic.files): a changed review is a changed
    constitution artifact, even where the principles' texts stay the same."""
    import hashlib

    from ccaic.files import recording

    spec = _spec(tmp_path)
    _draft(spec, Faithful())
    lock = tmp_path / "principles.lock.json"
    with recording() as reads:
        codes, (c,) = _build(spec)
    assert codes == []
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    assert reads[str(lock.resolve())] == digest
    assert c.drafts is not None and (c.drafts.file, c.drafts.sha256) == (lock.name, digest)
    data = json.loads(lock.read_text())
    pid = sorted(data["constitutions"]["c"])[0]
    data["constitutions"]["c"][pid]["reason"] = "a reviewer's note"  # same texts, new bytes
    lock.write_text(json.dumps(data), encoding="utf-8")
    _, (again,) = _build(spec)
    assert again.drafts is not None and again.drafts.sha256 != digest
    assert [p.text for p in again.principles] == [p.text for p in c.principles]


def test_a_constitution_without_a_draft_block_has_no_drafts_key(tmp_path: Path) -> None:
    path = tmp_path / "c.ccai"
    path.write_text(SPEC.replace("  draft { %s }\n", "") % (QUICKSTART, 3), encoding="utf-8")
    codes, (c,) = _build(path)
    assert codes == [] and c.drafts is None
    assert '"drafts"' not in c.model_dump_json()


# ---------------------------------------------------------------- the review loop


def _lock(tmp_path: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((tmp_path / "principles.lock.json").read_text())
    return dict(data["constitutions"]["c"])


def _edit(tmp_path: Path, texts: dict[str, str]) -> None:
    """What a reviewer does by hand: fix draft texts in principles.lock.json."""
    path = tmp_path / "principles.lock.json"
    data = json.loads(path.read_text())
    for pid, text in texts.items():
        data["constitutions"]["c"][pid]["text"] = text
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def test_a_hand_fixed_draft_is_rechecked_and_accepted_by_id(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _draft(spec, Unfaithful(), accept=False)
    flagged = _lock(tmp_path)
    first, second = sorted(flagged)[:2]
    model_text = str(flagged[first]["text"])
    sources = {p.id: p.sources[0].text for p in _undrafted_principles(spec)}
    _edit(tmp_path, {first: f"Choose the response that {as_behaviour(sources[first])}.",
                     second: "Choose the response that sings the loudest."})
    code, out, err = run_cli(["suggest", "drafts", str(spec), "--accept", first, second])
    assert code == 0, err
    assert "2 drafts accepted (2 edited by hand, re-checked), 1 flagged needs_hand_edit: " \
        f"{second}" in out
    lock = _lock(tmp_path)
    assert lock[first]["accepted"] and not lock[first]["needs_hand_edit"]
    assert lock[first]["reason"] is None and lock[first]["drafted"] == model_text
    assert lock[second]["accepted"] and lock[second]["needs_hand_edit"]  # still unfaithful
    assert not next(d for pid, d in lock.items() if pid not in (first, second))["accepted"]
    assert _build(spec)[0] == ["CCAI481"]  # the third is not reviewed yet
    run_cli(["suggest", "drafts", str(spec), "--accept"])
    codes, (c,) = _build(spec)
    by_id = {p.id: p for p in c.principles}
    assert codes == [] and not by_id[first].needs_hand_edit and by_id[second].needs_hand_edit
    assert by_id[first].edits[-1].because == ("drafted by builtin:tiny, edited by hand and "
                                              "reviewed in principles.lock.json")


def _undrafted_principles(spec: Path) -> list[Principle]:
    from ccaic.commands.suggest import _undrafted

    (c,), _ = _undrafted(str(spec), [])
    return list(c.principles)


def test_accepting_an_unknown_id_is_ccai485_and_writes_nothing(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    _draft(spec, Faithful(), accept=False)
    before = (tmp_path / "principles.lock.json").read_bytes()
    code, _, err = run_cli(["suggest", "drafts", str(spec), "--accept", "nope"])
    assert code == 1 and "CCAI485" in err and "drafts: " in err
    assert (tmp_path / "principles.lock.json").read_bytes() == before


# ---------------------------------------------------------------- topics named by the model


class Namer:
    """Drafts principles as Faithful does, and names a topic by its first keyword."""

    def __init__(self) -> None:
        self.topics = 0

    def complete(self, prompts: list[str]) -> list[str]:
        names = [p for p in prompts if p.endswith("Topic:")]
        self.topics += len(names)
        return [f' "{p.split("Keywords: ")[1].split(",")[0].strip()} matters."'
                if p.endswith("Topic:") else as_behaviour(_statements(p)[0]) for p in prompts]


def _name_topics(spec_path: Path, namer: drafting.Drafter) -> None:
    """What `ccaic suggest drafts` does for topics, with a scripted namer."""
    from ccaic.commands.suggest import _undrafted
    from ccaic.report.topics import named_topics

    (c,), specs = _undrafted(str(spec_path), [])
    path = drafting.lock_path(specs["c"])
    topics = named_topics([p.model_dump(mode="json") for p in c.principles])
    lock, _ = drafting.name_topics("c", topics, specs["c"], drafting.read_lock(path), namer)
    path.write_text(drafting.lock_text(lock), encoding="utf-8")


def _report_topics(spec: Path, out: Path) -> list[dict[str, Any]]:
    code, _, err = run_cli(["build", str(spec), "-o", str(out), "--until", "constitution"])
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    return list(report["constitutions"]["c"]["topics"]["topics"])


def test_topics_are_named_by_the_drafting_model_and_recorded(tmp_path: Path) -> None:
    spec = _spec(tmp_path, top_k=9)
    _draft(spec, Faithful())
    keyword_topics = _report_topics(spec, tmp_path / "a")  # no names yet: keywords
    assert all("named" not in t and t["name"] == ", ".join(t["keywords"])
               for t in keyword_topics)
    namer = Namer()
    _name_topics(spec, namer)
    assert namer.topics == len(keyword_topics) == 3
    named = _report_topics(spec, tmp_path / "b")
    assert [t["principles"] for t in named] == [t["principles"] for t in keyword_topics]
    assert all(t["named"] and t["name"] == f"{t['keywords'][0]} matters" for t in named)
    assert "topic (named by the drafting model)" in (tmp_path / "b" / "report.md").read_text()
    again = Namer()
    _name_topics(spec, again)  # cached by content: the model is not asked again
    assert again.topics == 0
    assert _report_topics(spec, tmp_path / "c") == named  # offline, byte for byte
    assert (tmp_path / "b" / "report.json").read_bytes() == \
        (tmp_path / "c" / "report.json").read_bytes()


def test_builtin_tiny_and_a_remote_endpoint_name_topics_through_the_cli(
        tmp_path: Path, endpoint: str) -> None:
    spec = _spec(tmp_path, top_k=9)
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 0, err
    assert re.search(r"; \d of 3 topics named \(3 new\)", out)
    tiny = json.loads((tmp_path / "principles.lock.json").read_text())["topics"]["c"]
    assert tiny["model"] == "builtin:tiny"
    _, out, _ = run_cli(["suggest", "drafts", str(spec)])
    assert "(0 new)" in out  # named by content once: the same model is not asked again
    _spec(tmp_path, f'model = "openai:drafter@{endpoint}"', top_k=9)
    code, out, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 0, err
    assert "9 drafts (9 new, 0 cached), 0 flagged needs_hand_edit; 3 of 3 topics named " \
        "(3 new)" in out
    run_cli(["suggest", "drafts", str(spec), "--accept"])
    topics = _report_topics(spec, tmp_path / "out")
    assert all(t["named"] for t in topics)


def test_a_judge_model_checks_entailment_through_the_cli(tmp_path: Path, endpoint: str) -> None:
    """The endpoint drafts faithfully (similarity passes); builtin:tiny judges each draft (its
    Yes/No log-probs), and its verdict alone decides the flag, again when accepting."""
    spec = _spec(tmp_path, f'model = "openai:drafter@{endpoint}"\n    judge = "builtin:tiny"')
    code, _, err = run_cli(["suggest", "drafts", str(spec)])
    assert code == 0, err
    drafted = _lock(tmp_path)
    assert all(isinstance(d["entailed"], bool) for d in drafted.values())
    assert all(d["needs_hand_edit"] == (d["entailed"] is False) for d in drafted.values())
    code, _, err = run_cli(["suggest", "drafts", str(spec), "--accept"])
    assert code == 0, err
    accepted = _lock(tmp_path)
    assert {k: d["entailed"] for k, d in accepted.items()} == \
        {k: d["entailed"] for k, d in drafted.items()}  # the same verdict, re-checked


def test_a_text_edited_after_acceptance_is_not_used_until_accepted_again(
        tmp_path: Path) -> None:
    """An accepted draft edited by hand has not been checked: the build refuses it (CCAI481)
    rather than use an unchecked text unflagged; accepting it again re-checks it."""
    spec = _spec(tmp_path)
    _draft(spec, Faithful())
    pid = sorted(_lock(tmp_path))[0]
    _edit(tmp_path, {pid: "Choose the response that sings the loudest."})
    assert _build(spec)[0] == ["CCAI481"]
    code, out, err = run_cli(["suggest", "drafts", str(spec), "--accept", pid])
    assert code == 0, err
    assert f"1 flagged needs_hand_edit: {pid}" in out
    codes, (c,) = _build(spec)
    assert codes == [] and next(p for p in c.principles if p.id == pid).needs_hand_edit


class Recording(Faithful):
    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    def complete(self, prompts: list[str]) -> list[str]:
        self.prompts += prompts
        return super().complete(prompts)


def test_drafts_follow_the_style_of_the_constitutions_own_principles(tmp_path: Path) -> None:
    """"In the style of the target constitution": its hand-written principles are shown to the
    model, and are part of each draft's key (a new style drafts again)."""
    spec = _spec(tmp_path)
    plain = Recording()
    _draft(spec, plain)
    assert all("style" not in p for p in plain.prompts)
    hand = 'principle "kind" { text = "Choose the response that is most kind to everyone." }\n'
    spec.write_text(spec.read_text().replace("  draft {", hand + "  draft {"), encoding="utf-8")
    assert _build(spec)[0] == ["CCAI481"]  # the style is in the key: the old drafts are stale
    styled = Recording()
    _draft(spec, styled)
    assert styled.calls == 3
    assert all("style of the constitution's other principles:\n- Choose the response that is "
               "most kind to everyone.\nStatements:\n" in p for p in styled.prompts)
    codes, (c,) = _build(spec)
    assert codes == [] and [p.id for p in c.principles][-1] == "kind"


def test_a_changed_lock_file_is_a_new_plan(tmp_path: Path) -> None:
    """The plan pins its constitution by sha256, and the training stages are keyed on the plan:
    a new review of the lock file invalidates them, the same texts or not."""
    prompts = QUICKSTART.parent / "prompts" / "red-team.jsonl"
    spec = _spec(tmp_path)
    spec.write_text(spec.read_text() + f'''
plan "p" {{
  constitution = constitution.c
  model        = "builtin:tiny"
  prompts      = "{prompts}"
}}
''', encoding="utf-8")
    _draft(spec, Faithful())
    first = run_until("plan", str(spec), None, [], report=False)
    assert first.ok, first.diagnostics
    lock = tmp_path / "principles.lock.json"
    data = json.loads(lock.read_text())
    next(iter(data["constitutions"]["c"].values()))["reason"] = "a reviewer's note"
    lock.write_text(json.dumps(data), encoding="utf-8")
    second = run_until("plan", str(spec), None, [], report=False)
    (a,), (b,) = first.plans, second.plans
    assert a.constitution.principles == b.constitution.principles
    assert a.constitution.sha256 != b.constitution.sha256 and a.plan_sha256 != b.plan_sha256


class Mute(Faithful):
    """Names no topic (an empty completion), drafts as Faithful does."""

    def __init__(self) -> None:
        super().__init__()
        self.topics = 0

    def complete(self, prompts: list[str]) -> list[str]:
        self.topics += sum(p.endswith("Topic:") for p in prompts)
        return ["" if p.endswith("Topic:") else super().complete([p])[0] for p in prompts]


def test_a_model_that_names_nothing_leaves_the_keywords_and_is_not_asked_again(
        tmp_path: Path) -> None:
    spec = _spec(tmp_path, top_k=9)
    _draft(spec, Faithful())
    mute = Mute()
    _name_topics(spec, mute)
    again = Mute()
    _name_topics(spec, again)
    assert (mute.topics, again.topics) == (3, 0)
    assert all("named" not in t for t in _report_topics(spec, tmp_path / "out"))


def test_a_principle_worded_by_hand_in_an_edit_block_is_never_drafted(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    hand = '  edit "39" { text = "Choose the response that is least racist, by hand." }\n'
    spec.write_text(spec.read_text().replace("  draft {", hand + "  draft {"), encoding="utf-8")
    drafter = Recording()
    _draft(spec, drafter)
    assert drafter.calls == 2 and "s39" not in _lock(tmp_path)
    codes, (c,) = _build(spec)
    by_id = {p.id: p for p in c.principles}
    assert codes == [] and by_id["s39"].text == "Choose the response that is least racist, by hand."
    assert [e.kind for e in by_id["s39"].edits] == ["override"]
