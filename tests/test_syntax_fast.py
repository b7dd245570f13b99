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
from ccaic.syntax.lower import lark_plugins


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
