"""Docs and editor files stay in step with the language.

- editors/ccai.tmLanguage.json: well-formed, every regex valid in Python's `re` (and written to
  be valid in Oniguruma too), every block type of the schema and every keyword of the grammar
  covered; the VS Code extension carries an identical copy.
- docs/language.md: every schema attribute (nested blocks included) has a table row.
- docs/errors/: every diagnostic code used in ccaic/ has a page that `ccaic explain` can read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccaic.check.schema import SCHEMA, BlockSpec

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = ROOT / "editors" / "ccai.tmLanguage.json"
VSCODE = ROOT / "editors" / "vscode"
LANGUAGE_DOC = ROOT / "docs" / "language.md"
ERRORS_DIR = ROOT / "docs" / "errors"
LARK = ROOT / "grammar" / "ccai.lark"

# Oniguruma-only syntax that Python's `re` rejects, rewritten to an equivalent before compiling.
# The grammar is written to need none of these; the table is here so that one could be used.
ONIGURUMA_ONLY = [
    (re.compile(r"\\h"), r"[0-9A-Fa-f]"),  # hex digit
    (re.compile(r"\\H"), r"[^0-9A-Fa-f]"),
    (re.compile(r"\(\?<([A-Za-z_]\w*)>"), r"(?P<\1>"),  # named group
    (re.compile(r"\\k<([A-Za-z_]\w*)>"), r"(?P=\1)"),  # named back-reference
    (re.compile(r"([*+?}])\+"), r"\1"),  # possessive quantifier -> greedy
]


def _python_regex(pattern: str) -> str:
    for onig, py in ONIGURUMA_ONLY:
        pattern = onig.sub(py, pattern)
    return pattern


def _load_grammar() -> dict[str, Any]:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


def _rules(node: Any) -> Iterator[dict[str, Any]]:
    """Every rule object in the grammar (patterns, repository entries, captures)."""
    if isinstance(node, dict):
        if any(k in node for k in ("match", "begin", "end", "patterns", "include")):
            yield node
        for value in node.values():
            yield from _rules(value)
    elif isinstance(node, list):
        for item in node:
            yield from _rules(item)


def _regexes(grammar: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for rule in _rules(grammar):
        for key in ("match", "begin", "end", "while"):
            if key in rule:
                found.append((key, rule[key]))
    return found


def _all_blocks(specs: dict[str, BlockSpec]) -> Iterator[tuple[str, BlockSpec]]:
    for name, spec in specs.items():
        yield name, spec
        yield from _all_blocks(spec.blocks)


def _lark_keywords() -> set[str]:
    """The words of the grammar's keyword terminals, e.g. `ACTION.2: /(keep|drop)\\b/`."""
    words: set[str] = set()
    for line in LARK.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^[A-Z_]+(?:\.\d+)?:\s*/(.*)/\s*$", line)
        if not match or not match.group(1).endswith(r"\b"):
            continue
        body = match.group(1)[: -len(r"\b")].strip("()")
        words.update(w for w in body.split("|") if re.fullmatch(r"[a-z_]+", w))
    return words


# ---------------------------------------------------------------- the TextMate grammar


def test_grammar_has_required_keys() -> None:
    grammar = _load_grammar()
    assert grammar["scopeName"] == "source.ccai"
    assert grammar["fileTypes"] == ["ccai"]
    assert grammar["name"]
    assert isinstance(grammar["patterns"], list) and grammar["patterns"]
    assert isinstance(grammar["repository"], dict) and grammar["repository"]


def test_grammar_includes_resolve() -> None:
    grammar = _load_grammar()
    for rule in _rules(grammar):
        include = rule.get("include")
        if include and include.startswith("#"):
            assert include[1:] in grammar["repository"], f"unknown include {include}"


@pytest.mark.parametrize("key,pattern", _regexes(_load_grammar()))
def test_grammar_regex_compiles(key: str, pattern: str) -> None:
    try:
        re.compile(_python_regex(pattern))
    except re.error as exc:
        pytest.fail(f"{key} regex {pattern!r} does not compile: {exc}")


def test_grammar_has_no_oniguruma_only_syntax() -> None:
    """Prefer regexes valid in both engines: nothing should need rewriting."""
    for key, pattern in _regexes(_load_grammar()):
        assert _python_regex(pattern) == pattern, f"{key} regex {pattern!r} is Oniguruma-only"


def _grammar_words() -> set[str]:
    text = " ".join(p for _, p in _regexes(_load_grammar()))
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


@pytest.mark.parametrize("name", sorted({n for n, _ in _all_blocks(SCHEMA)}))
def test_grammar_covers_block_types(name: str) -> None:
    assert name in _grammar_words(), f"block type `{name}` is missing from {GRAMMAR.name}"


def test_grammar_covers_every_top_level_block() -> None:
    assert set(SCHEMA) <= _grammar_words()


def test_lark_keywords_found() -> None:
    # Guards the parsing of the .lark file below, so an empty set cannot pass silently.
    assert {"import", "keep", "drop", "where", "matches", "true", "null"} <= _lark_keywords()


@pytest.mark.parametrize("word", sorted(_lark_keywords()))
def test_grammar_covers_keywords(word: str) -> None:
    assert word in _grammar_words(), f"keyword `{word}` is missing from {GRAMMAR.name}"


def test_grammar_highlights_a_sample() -> None:
    """A few spot checks that the main patterns match what they are meant to."""
    repo = _load_grammar()["repository"]

    def matches(entry: str, text: str) -> bool:
        node = repo[entry]
        patterns = node.get("patterns", [node])
        return any("match" in p and re.search(p["match"], text) for p in patterns)

    assert matches("comments", "# a comment") and matches("comments", "// a comment")
    assert matches("reference", "from = assembly.ccai_us_2023")
    assert matches("range", "k = 2..5")
    assert matches("regex", r"text matches /https?:\/\//i")
    assert matches("attribute", "threshold = 0.723")
    assert not re.fullmatch(repo["attribute"]["match"], "moderated ==")
    assert matches("call", 'file("ids.csv")')
    assert matches("block", 'assembly "ccai_us_2023" {')
    assert matches("block", "source polis {")


def test_vscode_extension() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    languages = package["contributes"]["languages"]
    grammars = package["contributes"]["grammars"]
    assert any(".ccai" in lang["extensions"] for lang in languages)
    assert grammars[0]["scopeName"] == "source.ccai"
    grammar_path = (VSCODE / grammars[0]["path"]).resolve()
    assert json.loads(grammar_path.read_text(encoding="utf-8")) == _load_grammar(), \
        "editors/vscode/ccai.tmLanguage.json is out of date: copy editors/ccai.tmLanguage.json"
    config_path = VSCODE / languages[0]["configuration"]
    config = json.loads(config_path.read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"]
    assert ["{", "}"] in config["brackets"]


# ---------------------------------------------------------------- docs/language.md


def _schema_attributes() -> list[tuple[str, str]]:
    out = []
    for block, spec in _all_blocks(SCHEMA):
        out.extend((block, attr) for attr in spec.attrs)
    return sorted(set(out))


@pytest.mark.parametrize("block,attr", _schema_attributes())
def test_language_doc_lists_attribute(block: str, attr: str) -> None:
    text = LANGUAGE_DOC.read_text(encoding="utf-8")
    assert f"| `{attr}` |" in text, f"docs/language.md has no row for `{attr}` of `{block}`"


def test_language_doc_has_a_heading_per_block() -> None:
    text = LANGUAGE_DOC.read_text(encoding="utf-8")
    for name, _ in _all_blocks(SCHEMA):
        assert re.search(rf"^#+ `{re.escape(name)}`", text, re.M), f"no heading for `{name}`"


# ---------------------------------------------------------------- docs/errors


def _codes_in_source() -> list[str]:
    codes: set[str] = set()
    for path in (ROOT / "ccaic").rglob("*.py"):
        codes.update(re.findall(r"CCAI\d{3}", path.read_text(encoding="utf-8")))
    return sorted(codes)


def test_codes_found() -> None:
    assert "CCAI101" in _codes_in_source()


@pytest.mark.parametrize("code", _codes_in_source())
def test_error_page_exists(code: str) -> None:
    page = ERRORS_DIR / f"{code}.md"
    assert page.is_file(), f"docs/errors/{code}.md is missing"
    first = page.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"# {code}:"), f"{page.name} must start with '# {code}: title'"


@pytest.mark.parametrize("page", sorted(ERRORS_DIR.glob("CCAI[0-9][0-9][0-9].md")),
                         ids=lambda p: p.stem)
def test_error_page_shape(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert re.match(rf"# {page.stem}: \S", text)
    for section in ("## What", "## Why", "## How to fix", "## Example"):
        assert section in text, f"{page.name} has no '{section}' section"
    assert page.stem in (ERRORS_DIR / "README.md").read_text(encoding="utf-8"), \
        f"docs/errors/README.md does not list {page.stem}"
