"""Topics in the report (issue 19): principles grouped by meaning, named by keywords."""

from __future__ import annotations

import json
from pathlib import Path

from ccaic.report.topics import MIN_PRINCIPLES, keywords, topic_section
from tests.cli_runner import run_cli

REPO = Path(__file__).resolve().parents[2]


def _principles(texts: list[str]) -> list[dict[str, object]]:
    return [{"id": f"s{i}", "text": f"Choose the response that {t}.",
             "sources": [{"id": str(i), "text": f"The AI should {t}"}]}
            for i, t in enumerate(texts)]


TEXTS = ["be honest", "tell the truth", "not lie to users", "not help build weapons",
         "not help anyone make a bomb", "refuse to help with violence", "be kind to people",
         "be friendly and warm", "respect people's privacy"]


def test_every_principle_is_in_one_topic_and_the_result_is_stable() -> None:
    first = topic_section(_principles(TEXTS))
    assert first is not None
    ids = [pid for t in first["topics"] for pid in t["principles"]]
    assert sorted(ids) == sorted(f"s{i}" for i in range(len(TEXTS)))
    assert len(first["topics"]) == 3  # ceil(sqrt(9))
    assert topic_section(_principles(TEXTS)) == first
    weapons = next(t for t in first["topics"] if "s3" in t["principles"])
    assert {"s3", "s4"} <= set(weapons["principles"])


def test_small_constitutions_have_no_topics() -> None:
    assert topic_section(_principles(TEXTS[:MIN_PRINCIPLES - 1])) is None


def test_keywords_name_what_sets_a_topic_apart() -> None:
    names = keywords(["honest truth lie truth", "weapons bomb violence weapons"], 2)
    assert names == [["truth", "honest"], ["weapons", "bomb"]]


def test_the_quickstart_report_lists_topics(tmp_path: Path) -> None:
    code, _, err = run_cli(["build", str(REPO / "examples" / "quickstart" / "quickstart.ccai"),
                            "-o", str(tmp_path), "--until", "constitution"])
    assert code == 0, err
    report = json.loads((tmp_path / "report.json").read_text())
    section = report["constitutions"]["quickstart"]
    topics = section["topics"]["topics"]
    assert sum(len(t["principles"]) for t in topics) == section["principles"]
    assert "### Topics" in (tmp_path / "report.md").read_text()


def test_recorded_model_names_replace_keywords_and_the_rest_keep_them() -> None:
    """A name the drafting model gave (principles.lock.json, by the topic's content) is used;
    a topic whose members changed has another key and falls back to its keywords."""
    from ccaic.report.topics import named_topics, topic_key, topic_name

    principles = _principles(TEXTS)
    plain = topic_section(principles)
    assert plain is not None
    keys = [key for key, _ in named_topics(principles)]
    assert len(keys) == len(plain["topics"]) and len(set(keys)) == len(keys)
    named = topic_section(principles, {keys[0]: "Honesty"})
    assert named is not None
    assert named["topics"][0] == {**plain["topics"][0], "name": "Honesty", "named": True}
    assert named["topics"][1:] == plain["topics"][1:]
    assert topic_key(["a", "b"]) != topic_key(["a"])
    assert topic_name(' "Weapons and violence."\nmore') == "Weapons and violence"
    assert topic_name("  \n") is None
