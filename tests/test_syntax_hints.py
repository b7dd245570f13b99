"""Hints that used to mislead (issue 10): each reported where the mistake is, with a fix."""

from __future__ import annotations

import pytest

from ccaic.diagnostics import DiagnosticError
from ccaic.syntax.parser import parse

RULE = 'assembly "a" {{\n  moderation {{\n    {rule}\n  }}\n}}\n'


def only(text: str) -> tuple[str, int, int, str]:
    with pytest.raises(DiagnosticError) as caught:
        parse(text, "t.ccai")
    (d,) = caught.value.diagnostics
    assert d.span is not None
    return d.message, d.span.line, d.span.column, d.help or ""


@pytest.mark.parametrize("rule", [
    "keep statements where moderated = 1",
    "drop participants where (votes = 3 or agrees > 1)",
])
def test_single_equals_in_a_condition_suggests_double(rule: str) -> None:
    message, line, column, hint = only(RULE.format(rule=rule))
    assert message == "`=` is not a comparison"
    assert (line, column) == (3, 5 + rule.index(" = ") + 1)
    assert "==" in hint and "must start with a letter" not in hint


@pytest.mark.parametrize("rule, guess", [
    ("remove statements where votes < 3", "drop"),
    ('delete participants listed in file("x.csv")', "drop"),
    ("include statements where moderated == 1", "keep"),
    ("toss statements\n      where votes < 3", None),
])
def test_unknown_rule_verb_is_reported_at_the_verb(rule: str, guess: str | None) -> None:
    message, line, column, hint = only(RULE.format(rule=rule))
    verb = rule.split()[0]
    assert message == f"unknown rule `{verb}`: a moderation rule starts with `keep` or `drop`"
    assert (line, column) == (3, 5)
    assert ("did you mean" in hint) is (guess is not None)
    if guess:
        assert f"did you mean `{guess}`?" in hint


def test_a_block_labelled_statements_is_not_a_rule() -> None:
    message, *_ = only('statements_list statements {\n  x = < 1\n}\n')
    assert "unknown rule" not in message
