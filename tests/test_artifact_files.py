"""The JSON files ccaic writes outside a build's own artifacts (issue 12 over issues 18/19):
the watch history, the polis_api snapshot, the drafting lock file and `ccaic diff --format
json` validate against their published models when real commands write them, and a drifted
key is refused. Their schemas are golden in tests/test_artifacts.py."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import ccaic.assembly.sources.polis_api as polis_api
from ccaic.artifacts import checked, kind_of, validate_text, validate_tree
from tests.assembly.fake_polis import CSV_CONVERSATION, FakePolis, conversation, serving
from tests.cli_runner import run_cli
from tests.test_drafting import _spec
from tests.watch.replay import cutoffs, write_spec

ENTRIES = ["history/1/diff.json", "history/1/summary.json", "history/2/diff.json",
           "history/2/summary.json", "history/watch.json",
           "sources/live/polis_api/snapshot.json"]


def _read(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return body


def _refused(name: str, body: dict[str, Any], match: str = "extra_forbidden") -> None:
    with pytest.raises(ValidationError, match=match):
        checked(name, json.dumps(body))


@pytest.mark.parametrize(("path", "kind"), [
    ("history/watch.json", "watch-state"), ("history/3/summary.json", "history-summary"),
    ("history/3/diff.json", "history-diff"), ("history/3/constitutions/main.json", None),
    ("history/3/warm/live.json", None), ("sources/live/polis_api/snapshot.json",
                                         "polis-snapshot"),
    ("sources/live/polis/snapshot.json", None), ("plans/p/final/source.json", "final-source"),
    ("plans/p/final/plan.json", "plan"), ("plans/p/final/config.json", None),
])
def test_each_file_path_maps_to_its_artifact(path: str, kind: str | None) -> None:
    assert kind_of(path) == kind


def test_a_watched_history_validates_and_a_drifted_one_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two polls of a real conversation (fake Polis server): every history file and the
    snapshot it built from match their models, which name every key they hold."""
    monkeypatch.setattr(polis_api, "BACKOFF", 0.0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    spec, out = write_spec(tmp_path), tmp_path / "out"
    with serving(FakePolis(conversation(CSV_CONVERSATION))) as fake:
        for moment in (cutoffs()[2], cutoffs()[6]):
            fake.cutoff = moment
            code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once",
                                    "--var", f"server={fake.url}"])
            assert code == 0, err
    assert [p for p in validate_tree(out) if not p.startswith(("assemblies/", "constitutions/",
                                                               "report.json"))] == ENTRIES
    snapshot = (out / ENTRIES[-1]).read_text(encoding="utf-8")
    state = _read(out / "history" / "watch.json")
    assert len(state["timeline"]) == 2
    _refused("watch-state", {**state, "surprise": 1})
    point = {**state["timeline"][0], "cut_off": 0.1}
    _refused("watch-state", {**state, "timeline": [point]})
    summary = _read(out / "history" / "2" / "summary.json")
    _refused("history-summary", {k: v for k, v in summary.items() if k != "changes"}, "changes")
    diff = _read(out / "history" / "2" / "diff.json")
    assert list(diff["constitutions"]) == ["main"]  # entry 1 has nothing to compare against
    body = diff["constitutions"]["main"]
    _refused("history-diff", {**diff, "constitutions": {"main": {**body, "score": 1}}})
    _refused("polis-snapshot", {**json.loads(snapshot), "format": "polis-xml"}, "format")


def test_the_drafting_lock_file_validates_and_a_drifted_one_does_not(tmp_path: Path) -> None:
    """`ccaic suggest drafts` with builtin:tiny, then --accept: both lock files (the second
    with the topic names) match the model; a draft with a key it does not name is refused."""
    spec = _spec(tmp_path, top_k=9)
    lock = tmp_path / "principles.lock.json"
    for extra in ([], ["--accept"]):
        code, _, err = run_cli(["suggest", "drafts", str(spec), *extra])
        assert code == 0, err
        checked("principles-lock", lock.read_text(encoding="utf-8"))
    body = _read(lock)
    assert sorted(body) == ["constitutions", "format_version", "topics"]
    drafts = body["constitutions"]["c"]
    first = next(iter(drafts))
    assert drafts[first]["accepted"] is True
    _refused("principles-lock", {**body, "constitutions": {"c": {
        **drafts, first: {**drafts[first], "approved_by": "me"}}}})
    _refused("principles-lock", {**body, "format_version": "2.0"}, "format_version")


def test_diff_json_validates_and_a_drifted_one_does_not(repo: Path, tmp_path: Path) -> None:
    """`ccaic diff --format json` of the CI example's pull request against its base (a
    reworded principle, two new ones, a changed selection) matches its model."""
    shutil.copytree(repo / "examples" / "ci" / "sample", tmp_path / "ci")
    head = tmp_path / "ci" / "head.ccai"
    shutil.copy(repo / "examples" / "ci" / "pull-request" / "constitution.ccai", head)
    code, out, err = run_cli(["diff", str(tmp_path / "ci" / "constitution.ccai"), str(head),
                              "--matcher", "tfidf", "--format", "json"])
    assert code == 0, err
    assert checked("diff", out) == out
    body = json.loads(out)
    assert [p["action"] for p in body["principles"]].count("create") == 2
    assert body["selection"]["added"]
    _refused("diff", {**body, "a": {**body["a"], "path": "x"}})
    with pytest.raises(ValidationError, match="action"):
        validate_text("history/1/diff.json", json.dumps({"entry": 1, "constitutions": {
            "main": {**body, "principles": [{**body["principles"][0], "action": "moved"}]}}}))


def test_analyze_json_validates_and_a_drifted_one_does_not(repo: Path) -> None:
    """`ccaic analyze --format json` of the quickstart's votes, with two scores: each row's
    score columns are numbers beside the named fields; a renamed block is refused."""
    code, out, err = run_cli(["analyze", str(repo / "examples" / "quickstart" / "data"),
                              "--scores", "gac,gac_disagree", "--format", "json"])
    assert code == 0, err
    assert checked("analyze", out) == out
    body = json.loads(out)
    assert body["summary"]["scores"] == ["gac", "gac_disagree"]
    pca = body.pop("pca")
    _refused("analyze", {**body, "polis": pca})
    body = json.loads(out)
    body["statements"][0]["gac"] = "high"
    with pytest.raises(ValidationError, match="gac"):
        checked("analyze", json.dumps(body))


def test_final_source_names_its_stage_under_the_key_from() -> None:
    """final/source.json's `from` is a JSON key the model spells through an alias (a Python
    keyword); the field name itself, or a missing step, is refused."""
    body = {"from": "toy-0123456789abcdef", "step": "step.toy"}
    assert checked("final-source", json.dumps(body)) == json.dumps(body)
    _refused("final-source", {"from_": body["from"], "step": "step.toy"}, "from")
    _refused("final-source", {"from": body["from"]}, "step")


class _Shortest:
    """A torch-free scorer: prefers the shortest continuation."""

    def score(self, prompts: Sequence[str], conts: Sequence[str]) -> list[float]:
        return [-float(len(c)) for c in conts]


def test_evaluate_bbq_json_validates_and_a_drifted_one_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ccaic evaluate bbq --format json` (a torch-free scorer over BBQ-shaped rows) prints
    a body its model accepts; a category score it does not name is refused."""
    import ccaic.evaluate.run as run_module
    from tests.evaluate.bbq_rows import balanced_rows, write

    monkeypatch.setattr(run_module, "load_scorer", lambda spec, seed, batch=16: _Shortest())
    write(tmp_path, "Age", balanced_rows(10))
    code, out, err = run_cli(["evaluate", "bbq", "--model", "fake", "--data", str(tmp_path),
                              "--format", "json", "--resamples", "20"])
    assert code == 0, err
    assert checked("bbq-result", out) == out
    body = json.loads(out)
    age = body["categories"]["Age"]
    _refused("bbq-result", {**body, "categories": {"Age": {**age, "f1": 0.5}}})


def test_json_diagnostics_validate_and_a_drifted_one_does_not(repo: Path) -> None:
    """`ccaic check --format json` of every file of the diagnostics corpus (errors, warnings,
    notes with and without a place) prints what the model accepts; a renamed field is
    refused."""
    bodies = []
    for path in sorted((repo / "tests" / "golden" / "diagnostics").glob("*.ccai")):
        _, out, _ = run_cli(["check", str(path), "--format", "json"])
        assert checked("diagnostics", out) == out, path.name
        bodies.append(json.loads(out))
    found = [d for body in bodies for d in body["diagnostics"]]
    assert {d["severity"] for d in found} == {"error", "warning"}
    assert any("snippet" in d for d in found) and any(d["related"] for d in found)
    first = found[0]
    _refused("diagnostics", {**bodies[0], "diagnostics": [
        {**{k: v for k, v in first.items() if k != "summary"}, "message": first["summary"]}]})


def test_build_json_validates_and_a_drifted_one_does_not(repo: Path, tmp_path: Path) -> None:
    """`ccaic build --format json` of the quickstart to its plan, and of a file with an
    error, prints what the model accepts; an artifact record with a key it lacks is refused."""
    spec = repo / "examples" / "quickstart" / "quickstart.ccai"
    code, out, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"), "--until", "plan",
                              "--format", "json"])
    assert code == 0, err
    assert checked("build-result", out) == out
    body = json.loads(out)
    assert "plans/quickstart/plan.json" in [a["path"] for a in body["artifacts"]]
    broken = tmp_path / "broken.ccai"
    broken.write_text('constitution "c" {\n  from = assembly.nope\n}\n', encoding="utf-8")
    code, failed, _ = run_cli(["build", str(broken), "-o", str(tmp_path / "x"), "--format",
                               "json"])
    assert code == 1 and checked("build-result", failed) == failed
    assert json.loads(failed)["diagnostics"]["error_count"] >= 1
    record = {**body["artifacts"][0], "bytes": 1}
    _refused("build-result", {**body, "artifacts": [record]})


def test_show_json_is_the_plan_artifact(repo: Path, tmp_path: Path) -> None:
    """`ccaic show --format json` prints the plan its build wrote, validated as a plan."""
    out = tmp_path / "out"
    code, _, err = run_cli(["build", str(repo / "examples" / "quickstart" / "quickstart.ccai"),
                            "-o", str(out), "--until", "plan"])
    assert code == 0, err
    code, shown, err = run_cli(["show", str(out), "--format", "json"])
    assert code == 0, err
    assert checked("plan", shown) == shown
    assert json.loads(shown) == _read(out / "plans" / "quickstart" / "plan.json")
    _refused("plan", {**json.loads(shown), "surprise": 1})
