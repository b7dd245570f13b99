"""The fast parse path (issue 11): lark-cython's parser and lexer and AST nodes built without
validation give exactly the AST and diagnostics of pure lark with validated nodes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_properties import NAMES, SOURCES, ccai_file

from ccaic.diagnostics import DiagnosticError
from ccaic.syntax import ast
from ccaic.syntax import parser as parser_module
from ccaic.syntax.lower import RULES, lark_plugins


def parse_with(text: str, accelerated: bool) -> ast.File:
    """`parse` on one of the two parsers."""
    return parser_module._parse_and_lower(text, "t.ccai", accelerated=accelerated)


def diagnostics_with(text: str, accelerated: bool) -> list[Any]:
    with pytest.raises(DiagnosticError) as info:
        parse_with(text, accelerated)
    return [d.model_dump() for d in info.value.diagnostics]


def assert_same_as_validated(text: str) -> None:
    fast, pure = parse_with(text, True), parse_with(text, False)
    assert fast == pure
    assert fast.model_dump_json() == pure.model_dump_json()
    # every node holds exactly what validation would have made of it
    assert ast.File.model_validate(fast.model_dump()) == fast


def test_lark_cython_is_used() -> None:
    """A regular dependency: the lowering parser runs on its LALR parser and lexer."""
    lark, _ = parser_module._lowering_parser()
    assert lark_plugins(), "lark-cython did not import"
    assert type(lark.parser.parser).__module__.startswith("lark_cython")
    assert not lark_plugins(accelerated=False)


@pytest.mark.parametrize("name", NAMES)
def test_repo_files_parse_the_same(name: str) -> None:
    assert_same_as_validated(SOURCES[name])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ccai_file())
def test_generated_files_parse_the_same(text: str) -> None:
    assert_same_as_validated(text)


def test_comment_spans_end_where_the_comment_does() -> None:
    """lark-cython leaves end_pos unset on tokens handed to lexer callbacks."""
    text = 'a = 1  # one\n// two\n'
    comments = parse_with(text, True).comments
    assert [(c.text, c.span.offset, c.span.end_offset) for c in comments] == [
        ("# one", 7, 12), ("// two", 13, 19)]


@pytest.mark.parametrize("text", [
    'assembly "a" {\n  x "y"\n}\n',          # expected `=`
    'assembly "a" {\n  x = \n',              # end of file
    'a = "open\n',                           # unterminated string
    'a = 1 +\n',                             # unexpected character
    'assembly "a" { moderation { remove statements where x < 1 } }\n',
    'a = "${not a ref}"\n',                  # lowering error
])
def test_syntax_errors_say_the_same(text: str) -> None:
    assert diagnostics_with(text, True) == diagnostics_with(text, False)


def test_every_grammar_rule_is_lowered() -> None:
    """A rule without a Lowering callback would silently become a lark Tree in the AST."""
    import re

    grammar = parser_module.grammar_path().read_text(encoding="utf-8")
    rules = set(re.findall(r"^\??([a-z][a-z_]*):", grammar, re.M))
    aliases = set(re.findall(r"-> ([a-z_]+)", grammar))
    inlined = {r for r in rules if re.search(rf"^\?{r}:", grammar, re.M)}
    assert (rules - inlined) | aliases | {"and_cond", "or_cond", "not_cond"} == set(RULES)


def test_a_large_parse_leaves_its_ast_to_refcounting() -> None:
    """The first full collection after a 10 MB parse scanned every AST node: a fifth of
    `check`. After a large parse the collector is back on and the objects are frozen."""
    import gc

    text = 'a = "x"\n' * (parser_module.FREEZE_CHARS // 8 + 1)
    gc.unfreeze()
    try:
        parser_module.parse("a = 1\n")
        assert gc.get_freeze_count() == 0 and gc.isenabled()
        parser_module.parse(text)
        assert gc.get_freeze_count() > 0 and gc.isenabled()
    finally:
        gc.unfreeze()


TEMPLATED = """\
assembly "a" {
  source polis { path = "x" }
  groups kmeans { k = 2 }
  consensus gac { threshold = 0.5 }
}
"""


def test_repeated_templates_are_checked_once_and_located_each_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated specs repeat one template thousands of times: a clean one is checked once;
    one with a problem is reported at every place it is written."""
    from ccaic.check import checker

    calls: list[str] = []
    original = checker.check_template

    def counting(value: Any, context: str) -> Any:
        calls.append(context)
        return original(value, context)

    monkeypatch.setattr(checker, "check_template", counting)
    constitutions = "".join(
        f'constitution "c{i}" {{\n  from = assembly.a\n  template = "{template}"\n}}\n'
        for i, template in enumerate(["Choose {{ statement.text }}."] * 3
                                     + ["Choose {{ statement.txt }}."] * 2))
    text = TEMPLATED + constitutions
    checker_ = checker.Checker(checker.Program(root="t.ccai"))
    checker_.program.files["t.ccai"] = parser_module.parse(text, "t.ccai")
    checker_.run()
    assert len(calls) == 3  # one clean text, then the faulty one at each of its two places
    lines = [d.span.line for d in checker_.diagnostics if d.code.startswith("CCAI3")]
    assert len(lines) == 2 and lines[0] != lines[1], checker_.diagnostics
