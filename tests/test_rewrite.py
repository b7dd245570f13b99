"""The rewrite filters: golden outputs on real CCAI statements, coverage, properties, sandbox."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.constitution import rewrite as rw
from ccaic.constitution.rewrite import (
    FILTERS,
    PRINCIPLE_PREFIX,
    RewriteResult,
    as_behaviour,
    as_comparison,
    as_critique,
    as_revision,
    needs_hand_edit,
    rewrite,
)

GOLDEN = Path(__file__).parent / "golden" / "rewrite" / "ccai-statements.tsv"

# Measured on the 275 moderated CCAI 2023 statements: 40 fall back (14.5%). The bound leaves room
# for a rule to be made stricter (falling back is the safe direction) without letting the rules
# quietly stop covering the common shapes; the target is under 35%.
FALLBACK_BOUND = 0.20


def _golden() -> list[dict[str, str]]:
    with GOLDEN.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _ccai_statements(shared: Path) -> list[tuple[str, str]]:
    path = shared / "data" / "ccai-2023" / "comments.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return [(r["comment-id"], r["comment-body"]) for r in csv.DictReader(f)
                if r["moderated"].strip() == "1"]


# --------------------------------------------------------------------------------------------
# Golden


def test_golden_file_is_large_and_diverse() -> None:
    rows = _golden()
    assert len(rows) >= 40
    rules = {r["rule"] for r in rows}
    assert {"be_adjective", "verb", "compound", "have", "fallback"} <= rules
    assert len({r["comment-id"] for r in rows}) == len(rows)


@pytest.mark.parametrize("row", _golden(), ids=lambda r: f"ccai-{r['comment-id']}")
def test_golden_ccai_statement(row: dict[str, str]) -> None:
    result = rewrite(row["statement"])
    assert as_comparison(row["statement"]) == row["expected"]
    assert result.rule == row["rule"]
    assert result.needs_hand_edit == (row["rule"] == "fallback")
    assert needs_hand_edit(row["statement"]) == result.needs_hand_edit


def test_golden_statements_are_the_real_ones(shared: Path) -> None:
    """The fixture quotes the assembly's statements verbatim, so it tests what users will run."""
    real = dict(_ccai_statements(shared))
    for row in _golden():
        assert real[row["comment-id"]] == row["statement"]


# --------------------------------------------------------------------------------------------
# The examples and the common shapes


@pytest.mark.parametrize(("statement", "tail"), [
    ("The AI should not be racist", "is least racist"),
    ("The AI should be reliable", "is most reliable"),
    ("The AI should be honest and transparent.", "is most honest and transparent"),
    ("The AI should not give medical advice", "least gives medical advice"),
    ("The AI should never lie", "least lies"),
    ("The AI should always tell the truth", "best tells the truth"),
    ("The AI must respect human autonomy", "best respects human autonomy"),
    ("AI should promote diversity", "best promotes diversity"),
    ("It should not promote extreme beliefs.", "least promotes extreme beliefs"),
    ("The AI shouldn't be judgmental", "is least judgmental"),
    ("The AI shouldn’t make assumptions", "least makes assumptions"),
    ("The AI will respect privacy", "best respects privacy"),
    ("The AI should be able to explain its reasoning", "best explains its reasoning"),
    ("The AI should try to be helpful", "is most helpful"),
    ("The AI should not try to act like a human", "least tries to act like a human"),
    ("The AI should be more transparent", "is most transparent"),
    ("The AI should be less preachy", "is least preachy"),
    ("“The AI  should be   kind!!”", "is kindest"),
    ("the ai should be patient...", "is most patient"),
])
def test_common_shapes(statement: str, tail: str) -> None:
    assert as_behaviour(statement) == tail
    assert not needs_hand_edit(statement)


@pytest.mark.parametrize("statement", [
    "AI should be used for good",  # about deployment, not a response
    "The AI should be a friend",  # a noun phrase
    "Everyone should be treated equally",  # not about the AI
    "The AI should not make me repeat myself",  # first person needs rewording
    "The AI should be kind. It should also be brief.",  # two sentences
])
def test_unsure_statements_fall_back_readably(statement: str) -> None:
    result = rewrite(statement)
    assert result == RewriteResult(result.principle_tail, "fallback", True)
    assert result.principle_tail == f"{rw.FALLBACK_LEAD} {statement.rstrip('.')}"
    assert as_comparison(statement) == f"{PRINCIPLE_PREFIX} {result.principle_tail}."


def test_result_is_frozen() -> None:
    result = rewrite("The AI should be fair")
    with pytest.raises(AttributeError):
        result.rule = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Critique and revision


@pytest.mark.parametrize(("principle", "critique", "revision"), [
    ("Choose the response that is least racist.",
     "Identify specific ways in which the response is racist.",
     "Rewrite the response so that it is not racist."),
    ("Choose the response that is most reliable.",
     "Identify specific ways in which the response is not reliable.",
     "Rewrite the response so that it is reliable."),
    ("Choose the response that is kindest.",
     "Identify specific ways in which the response is not kind.",
     "Rewrite the response so that it is kind."),
    ("Choose the response that least gives medical advice.",
     "Identify specific ways in which the response gives medical advice.",
     "Rewrite the response so that it does not give medical advice."),
    ("Choose the response that best respects and protects all living things.",
     "Identify specific ways in which the response fails to respect and protect all living "
     "things.",
     "Rewrite the response so that it respects and protects all living things."),
    ("Choose the response that is most unbiased, and that best states only proven facts.",
     "Identify specific ways in which the response is not unbiased or fails to state only "
     "proven facts.",
     "Rewrite the response so that it is unbiased and states only proven facts."),
    ("Be nice", "Identify specific ways in which the response does not follow this principle: "
     "Be nice.", "Rewrite the response so that it follows this principle: Be nice."),
])
def test_critique_and_revision(principle: str, critique: str, revision: str) -> None:
    assert as_critique(principle) == critique
    assert as_revision(principle) == revision


def test_critique_and_revision_of_every_golden_principle_are_sentences() -> None:
    for row in _golden():
        for text in (as_critique(row["expected"]), as_revision(row["expected"])):
            assert text.endswith(".") and not text.endswith("..")
            assert text.startswith(("Identify specific ways", "Rewrite the response"))


# --------------------------------------------------------------------------------------------
# Coverage over the whole assembly


def test_coverage_on_all_ccai_statements(shared: Path) -> None:
    statements = _ccai_statements(shared)
    assert len(statements) == 275
    fallbacks = []
    for comment_id, text in statements:
        principle = as_comparison(text)
        assert principle.startswith(PRINCIPLE_PREFIX + " ")
        assert principle.endswith(".") and not principle.endswith("..")
        assert as_comparison(principle) == principle
        assert as_critique(principle).endswith(".") and as_revision(principle).endswith(".")
        if needs_hand_edit(text):
            fallbacks.append(comment_id)
    rate = len(fallbacks) / len(statements)
    print(f"\nrewrite fallback rate: {len(fallbacks)}/{len(statements)} = {rate:.1%}")
    assert rate < FALLBACK_BOUND


# --------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_rewrites_without_error_and_deterministically(text: str) -> None:
    first = rewrite(text)
    assert rewrite(text) == first
    assert as_behaviour(text) == first.principle_tail
    assert needs_hand_edit(text) == first.needs_hand_edit
    if text.strip():
        assert first.principle_tail
    principle = as_comparison(text)
    assert principle.startswith(PRINCIPLE_PREFIX + " ") and principle.endswith(".")
    assert as_critique(text).endswith(".") and as_revision(text).endswith(".")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_as_comparison_is_idempotent(text: str) -> None:
    once = as_comparison(text)
    assert as_comparison(once) == once


_WORD = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=8))
def test_principles_pass_through_unchanged(words: list[str]) -> None:
    principle = f"{PRINCIPLE_PREFIX} {' '.join(words)}."
    assert as_comparison(principle) == principle
    assert rewrite(principle).rule == "principle"
    assert not needs_hand_edit(principle)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["The AI should", "AI should not", "The AI must", "It should never"]),
       st.lists(_WORD, min_size=1, max_size=6))
def test_statement_shapes_never_crash(lead: str, words: list[str]) -> None:
    tail = as_behaviour(f"{lead} {' '.join(words)}")
    assert tail and not tail.endswith(".")


# --------------------------------------------------------------------------------------------
# Inside the sandboxed template environment


def test_filters_are_exported() -> None:
    assert {"as_behaviour", "as_comparison", "as_critique", "as_revision"} <= set(FILTERS)
    assert all(callable(f) for f in FILTERS.values())


def test_filters_work_in_the_sandbox() -> None:
    from ccaic.constitution.templates import environment

    env = environment()
    rendered = env.from_string("Choose the response that {{ s | as_behaviour }}.").render(
        s="The AI should be reliable")
    assert rendered == "Choose the response that is most reliable."
    assert env.from_string("{{ s | as_comparison }}").render(
        s="The AI should not be racist") == "Choose the response that is least racist."
    assert env.from_string("{{ s | as_comparison | as_revision }}").render(
        s="The AI should not give medical advice") == \
        "Rewrite the response so that it does not give medical advice."


def test_mixed_directions_are_two_requests() -> None:
    """'least X and most Y': the critique looks for X or a lack of Y, the revision removes X and
    keeps Y (written by hand from the principle in constitutions/standard.ccai)."""
    text = ("Choose the response that is least manipulative and most respectful of the "
            "person's own judgement.")
    assert as_critique(text) == ("Identify specific ways in which the response is manipulative "
                                 "or is not respectful of the person's own judgement.")
    assert as_revision(text) == ("Rewrite the response so that it is not manipulative and is "
                                 "respectful of the person's own judgement.")
