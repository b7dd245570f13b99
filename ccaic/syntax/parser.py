"""Parse .ccai text: lark LALR with positions, syntax errors turned into CCAI1xx diagnostics.

Syntax errors name what was expected in words (never lark token names) and point at the
real place, including an unexpected end of file (placed on the file's last character, with
a note at the block that was left open).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error, refused
from ccaic.files import FileRefused, read_source_bytes, size_text, source_limit
from ccaic.syntax import ast
from ccaic.syntax.lower import Lowering, LoweringError, lark_plugins, lower

TOKEN_WORDS: dict[str, str] = {
    "NAME": "a name",
    "STRING": "a string",
    "TEMPLATE": 'a """template"""',
    "NUMBER": "a number",
    "REGEX": "a /regex/",
    "EQUALS": "`=`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "DOTDOT": "`..`",
    "COMPARE": "a comparison (`==`, `<=`, ...)",
    "IMPORT": "`import`",
    "ACTION": "a rule (`keep`/`drop`)",
    "SUBJECT": "`statements` or `participants`",
    "WHERE": "`where`",
    "LISTED": "`listed`",
    "IN": "`in`",
    "BECAUSE": "`because`",
    "OR": "`or`",
    "AND": "`and`",
    "NOT": "`not`",
    "MATCHES": "`matches`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "NULL": "`null`",
    "$END": "end of file",
}

# Terminals that say the same thing to a person; listing all of them is noise.
VALUE_TOKENS = {"STRING", "TEMPLATE", "NUMBER", "TRUE", "FALSE", "NULL", "REGEX", "LSQB"}


def grammar_path() -> Path:
    """The grammar ships inside the wheel; in a source checkout it is the top-level grammar/."""
    packaged = resources.files("ccaic").joinpath("_data/grammar/ccai.lark")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "grammar" / "ccai.lark"


# Comments are %ignore'd by the grammar; the lexer hands them here so `fmt` can keep them.
_COMMENTS: list[Token] = []


@lru_cache(maxsize=2)
def build_parser(strict: bool = False) -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        strict=strict,
        cache=not strict,
        lexer_callbacks={"COMMENT": _COMMENTS.append},
    )


@lru_cache(maxsize=2)
def _lowering_parser(accelerated: bool = True) -> tuple[Lark, Lowering]:
    """The parser that lowers as it parses (lark's inline transformer): a parse tree for a
    10 MB file would hold every token and node twice over. `accelerated` uses lark-cython's
    parser and lexer when it imports; both give the same AST and diagnostics."""
    lowering = Lowering("<input>")
    parser = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=True,
        transformer=lowering.callbacks(),
        cache=True,  # the tables only: lark attaches this transformer and callbacks anew
        lexer_callbacks={"COMMENT": _COMMENTS.append},
        _plugins=lark_plugins(accelerated),
    )
    return parser, lowering


def read_stdin_source() -> str:
    """The text piped to `check -` / `fmt -`, read no further than the source cap (CCAI109):
    `ccaic check - < /dev/zero` would otherwise read until memory runs out."""
    limit = source_limit()
    text = sys.stdin.read(limit + 1)
    if len(text) > limit:
        raise DiagnosticError([error(
            "CCAI109", f"cannot read <stdin>: it is over the {size_text(limit)} limit",
            help="check what is piped in; to raise the limit, set CCAIC_MAX_SOURCE_BYTES "
            "(see docs/limits.md)")])
    return text


def read_source(path: str) -> str:
    """File text, or a CCAI100 diagnostic when it cannot be read as UTF-8."""
    try:
        raw = read_source_bytes(path)
    except FileRefused as exc:
        raise DiagnosticError([refused(exc, path)]) from None
    except FileNotFoundError as exc:
        raise DiagnosticError([error("CCAI100", f"file not found: {path}",
                                     help="check the path; it is relative to the "
                                     "current directory")]) from exc
    except IsADirectoryError as exc:
        raise DiagnosticError([error("CCAI100", f"{path} is a directory, not a .ccai file",
                                     help="pass a .ccai file, or a directory to `ccaic check` to "
                                     "check every .ccai file in it")]) from exc
    except OSError as exc:
        raise DiagnosticError([error("CCAI100", f"cannot read {path}: {exc.strerror}")]) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DiagnosticError([error(
            "CCAI100", f"{path} is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            Span.point(path, line, column, exc.start),
            help="save the file as UTF-8",
        )]) from exc


def parse(text: str, path: str = "<input>") -> ast.File:
    """Parse and lower one file; raises DiagnosticError with CCAI1xx diagnostics."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:  # never meant, and unusable in any path or name
        offset = text.index("\x00")
        line, col = _line_col(text, offset)
        raise DiagnosticError([error(
            "CCAI103", "unexpected NUL character", Span.point(path, line, col, offset),
            help="the file contains a NUL byte; save it as plain UTF-8 text")])
    with _no_cyclic_gc(freeze=len(text) >= FREEZE_CHARS):
        return _parse_and_lower(text, path)


#: From this size on, the objects alive after a parse (the AST above all) are moved out of
#: the cyclic collector's reach (gc.freeze): the first full collection after a 10 MB parse
#: scanned its millions of nodes and took a fifth of `check`'s time. Refcounting still frees
#: them; below this size a collection costs nothing worth it.
FREEZE_CHARS = 1_000_000


@contextmanager
def _no_cyclic_gc(freeze: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector while the AST is built, then (`freeze`) leave what
    is alive then to refcounting alone.

    The AST holds no cycles, but each of its hundreds of thousands of objects would count
    towards a collection that scans all of them again: with it running, `check` of a 1 MB
    file took three times as long (docs/limits.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


def _parse_and_lower(text: str, path: str, accelerated: bool = True) -> ast.File:
    parser, lowering = _lowering_parser(accelerated)
    lowering.path = path
    _COMMENTS.clear()
    try:
        items = parser.parse(text)
    except UnexpectedInput as exc:
        if accelerated and lark_plugins():
            # lark-cython's errors lack the interactive parser that names what was expected:
            # the pure parser stops at the same place and says it in the same words.
            lowering.depths.clear()
            return _parse_and_lower(text, path, accelerated=False)
        raise DiagnosticError([syntax_diagnostic(exc, text, path)]) from None
    except LoweringError as exc:  # the inline callbacks raise it as it is (no VisitError)
        raise DiagnosticError([exc.diagnostic]) from None
    finally:
        lowering.depths.clear()
    comments = list(_COMMENTS)
    _COMMENTS.clear()
    return lower(items, path, comments)  # type: ignore[arg-type]


# ---------------------------------------------------------------- syntax errors in words


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _end_of_file_span(text: str, path: str) -> Span:
    """The last character of the file (lark gives EOF no position: lark#791, #1474)."""
    stripped = text.rstrip()
    offset = max(len(stripped) - 1, 0)
    line, col = _line_col(text, offset)
    return Span(file=path, line=line, column=col, end_line=line, end_column=col + 1,
                offset=offset, end_offset=offset + 1)


def _expected_words(expected: set[str]) -> str:
    names = set(expected)
    words: list[str] = []
    if names & VALUE_TOKENS and ("NAME" in names or len(names & VALUE_TOKENS) > 2):
        names -= VALUE_TOKENS
        names.discard("NAME")
        words.append("a value")
    order = list(TOKEN_WORDS)
    for name in sorted(names, key=lambda n: order.index(n) if n in order else 99):
        words.append(TOKEN_WORDS.get(name, name.lower()))
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _token_words(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    kind = TOKEN_WORDS.get(token.type, token.type.lower())
    value = str(token)
    if token.type in ("NAME", "NUMBER"):
        return f"{kind[2:] if kind.startswith('a ') else kind} `{value}`"
    if token.type in ("STRING", "TEMPLATE", "REGEX"):
        short = value if len(value) <= 24 else value[:21] + "..."
        return f"{kind[2:] if kind.startswith('a ') else kind} {short}"
    return f"`{value}`"


def _open_block_note(text: str, path: str, upto: int) -> Note | None:
    """The innermost `{`, `[` or `(` still open before `upto`, for EOF errors."""
    stack: list[tuple[str, int]] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    for token in build_parser().lex(text[:upto], dont_ignore=False):
        if token.type in ("LBRACE", "LSQB", "LPAR"):
            stack.append((str(token), token.start_pos or 0))
        elif token.type in ("RBRACE", "RSQB", "RPAR") and stack and \
                stack[-1][0] == pairs[str(token)]:
            stack.pop()
    if not stack:
        return None
    char, offset = stack[-1]
    line, col = _line_col(text, offset)
    return Note(message=f"the `{char}` opened here is never closed",
                span=Span(file=path, line=line, column=col, end_line=line, end_column=col + 1,
                          offset=offset, end_offset=offset + 1))


def syntax_diagnostic(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = set(exc.accepts or exc.expected)
        if token.type == "$END":
            note = None
            try:
                note = _open_block_note(text, path, len(text))
            except UnexpectedInput:
                note = None
            return error(
                "CCAI102",
                f"unexpected end of file: expected {_expected_words(expected)}",
                _end_of_file_span(text, path),
                help="the file ends in the middle of something; close every block with `}`",
                notes=[note] if note else [],
            )
        verb = _unknown_rule_verb(text, token.start_pos or 0)
        if verb is not None:
            return error(
                "CCAI101", f"unknown rule `{verb}`: a moderation rule starts with `keep` or "
                "`drop`", _tok_span(verb, path),
                help=f"{_verb_hint(str(verb))}write `keep statements where ...` to keep only "
                "what matches, or `drop statements where ...` to remove it")
        previous = _previous_token(text, token.start_pos or 0)
        if token.type == "EQUALS" and "COMPARE" in expected:
            return error(
                "CCAI101", "`=` is not a comparison", _tok_span(token, path),
                help=f"test equality with `==`, e.g. `{_field_before(previous)} == 1`; a single "
                "`=` sets an attribute")
        if (token.type == "REGEX" and previous is not None and previous.type == "COMPARE"):
            return error(
                "CCAI101", f"a regex cannot be compared with `{previous}`",
                _tok_span(previous, path),
                help=f"test text against a regex with `matches`: text matches {token}")
        if ("LBRACE" in expected and previous is not None and token.type != "$END"
                and (previous.end_line or 0) < (token.line or 0)
                and previous.type in ("STRING", "NAME")):
            pair = _previous_tokens(text, token.start_pos or 0, 2)
            if (len(pair) == 2 and pair[0].type == "NAME" and pair[1].type == "STRING"
                    and pair[0].line == pair[1].line):
                return error(
                    "CCAI101", f"expected `=` after `{pair[0]}`", _tok_span(pair[1], path),
                    help=f"an attribute is written `{pair[0]} = {pair[1]}`; a block would be "
                    f"`{pair[0]} {pair[1]} {{ ... }}`")
            after = Span(file=path, line=previous.end_line or 1,
                         column=previous.end_column or 1, end_line=previous.end_line or 1,
                         end_column=(previous.end_column or 1) + 1,
                         offset=previous.end_pos or 0, end_offset=(previous.end_pos or 0) + 1)
            return error(
                "CCAI101", f"expected `=` or `{{` after {_token_words(previous)}", after,
                help="an attribute is written `name = value`; a block is written "
                "`name \"label\" { ... }`")
        if token.type == "EQUALS" and previous is not None and previous.type in KEYWORDS:
            return error(
                "CCAI101", f"`{previous}` is a reserved word and cannot name an attribute",
                _tok_span(previous, path),
                help="rename the attribute; the reserved words are listed in docs/language.md")
        span = Span(file=path, line=token.line or 1, column=token.column or 1,
                    end_line=token.end_line or token.line or 1,
                    end_column=token.end_column or (token.column or 1) + 1,
                    offset=token.start_pos or 0, end_offset=token.end_pos or 0)
        return error(
            "CCAI101",
            f"unexpected {_token_words(token)}: expected {_expected_words(expected)}",
            span,
            help=_token_hint(token, expected),
        )
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        line, col = exc.line or 1, exc.column or 1
        char = text[offset] if offset < len(text) else ""
        rest = text[offset:].split("\n", 1)[0]
        if text.startswith('"""', offset):
            return error("CCAI107", "unterminated template literal",
                         Span(file=path, line=line, column=col, end_line=line,
                              end_column=col + 3, offset=offset, end_offset=offset + 3),
                         help='close the template with `"""`')
        if char == '"':
            return error("CCAI104", "unterminated string",
                         Span(file=path, line=line, column=col, end_line=line,
                              end_column=col + len(rest), offset=offset,
                              end_offset=offset + len(rest)),
                         help='close the string with `"` on the same line; use a """template""" '
                         "for text over several lines")
        if char == "/":
            return error("CCAI103", "unterminated or empty regex literal",
                         Span(file=path, line=line, column=col, end_line=line,
                              end_column=col + len(rest), offset=offset,
                              end_offset=offset + len(rest)),
                         help="write a regex as /pattern/flags on one line, e.g. /spam|http/i")
        shown = repr(char)[1:-1] if char else "end of input"
        return error("CCAI103", f"unexpected character `{shown}`",
                     Span.point(path, line, col, offset),
                     help=_char_hint(char, exc.allowed or set()))
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    return error("CCAI101", "syntax error", Span.point(path, line, col))


KEYWORDS = {"IMPORT", "ACTION", "SUBJECT", "WHERE", "LISTED", "IN", "BECAUSE", "OR", "AND", "NOT",
            "MATCHES", "TRUE", "FALSE", "NULL"}


def _previous_tokens(text: str, offset: int, count: int = 2) -> list[Token]:
    """The last tokens before `offset` (the LALR error only carries the offending one)."""
    tokens: list[Token] = []
    try:
        for tok in build_parser().lex(text[:offset], dont_ignore=False):
            tokens = [*tokens[-(count - 1):], tok] if count > 1 else [tok]
    except UnexpectedInput:
        return []
    return tokens


#: Words people write for `drop` and `keep`.
_DROP_WORDS = {"remove", "delete", "exclude", "filter", "reject", "discard", "skip", "ignore"}
_KEEP_WORDS = {"include", "retain", "select", "only", "accept", "allow"}


def _unknown_rule_verb(text: str, offset: int) -> Token | None:
    """The word before `statements`/`participants` when the error is in what reads as a rule
    with an unknown verb (`remove statements where ...`): the parser took it for a block and
    only failed later, at `<` or `(`."""
    tokens = _previous_tokens(text, offset, 40)
    for i in range(len(tokens) - 1, 0, -1):
        tok = tokens[i]
        if tok.type in ("LBRACE", "RBRACE", "EQUALS"):
            return None
        if tok.type == "SUBJECT" and tokens[i - 1].type == "NAME" and (
                i < 2 or tokens[i - 2].type in ("LBRACE", "RBRACE")
                or (tokens[i - 2].end_line or 0) < (tokens[i - 1].line or 0)):
            return tokens[i - 1]
    return None


def _verb_hint(verb: str) -> str:
    word = verb.lower()
    if word in _DROP_WORDS:
        return "did you mean `drop`? "
    if word in _KEEP_WORDS:
        return "did you mean `keep`? "
    return ""


def _field_before(tok: Token | None) -> str:
    return str(tok) if tok is not None and tok.type == "NAME" else "moderated"


def _previous_token(text: str, offset: int) -> Token | None:
    tokens = _previous_tokens(text, offset, 1)
    return tokens[-1] if tokens else None


def _tok_span(tok: Token, path: str) -> Span:
    return Span(file=path, line=tok.line or 1, column=tok.column or 1,
                end_line=tok.end_line or tok.line or 1,
                end_column=tok.end_column or (tok.column or 1) + len(str(tok)),
                offset=tok.start_pos or 0, end_offset=tok.end_pos or 0)


def _token_hint(token: Token, expected: set[str]) -> str:
    if token.type in KEYWORDS and "NAME" in expected:
        return f"`{token}` is a reserved word and cannot name an attribute or block; " \
               "see docs/language.md for the list"
    if expected == {"EQUALS"} or ("EQUALS" in expected and "LBRACE" in expected
                                  and token.type not in ("NAME", "STRING")):
        return "an attribute is written `name = value`; a block is written `name \"label\" { ... }`"
    if "RBRACE" in expected and token.type in ("EQUALS",):
        return "an attribute name must start with a letter"
    if token.type == "EQUALS":
        return "an attribute is written `name = value`, one per line"
    if expected == {"REGEX"}:
        return "write a regex as /pattern/flags; an empty // starts a comment"
    if token.type == "NUMBER" and "NAME" in expected and "RBRACE" in expected:
        return "names start with a letter or _; a value needs a name before it: `name = value`"
    if token.type in VALUE_TOKENS and "NAME" in expected and "RBRACE" in expected:
        return "an attribute takes one value; for several, write a list: [\"a\", \"b\"]"
    if token.type == "COMPARE":
        return "comparisons are only allowed in `where` conditions of moderation rules"
    if "COMMA" in expected and "RSQB" in expected:
        return "separate list items with commas: [1, 2, 3]"
    if token.type == "LBRACE" and "EQUALS" not in expected:
        return "a block needs a type before its labels, e.g. `source polis { ... }`"
    if expected & VALUE_TOKENS:
        return 'values are strings ("text"), numbers, true/false, lists [..], ranges 2..5, ' \
               "/regexes/, references (var.x) or calls (file(\"...\"))"
    return "see docs/language.md for the syntax"


def _char_hint(char: str, allowed: set[str]) -> str:
    if char == "'":
        return 'strings use double quotes: "text"'
    if char == ";":
        return "no semicolons: put one attribute per line"
    if char == ":":
        return "attributes use `=`, not `:`"
    if char in "+*%":
        return "the language has no arithmetic"
    return "see docs/language.md for the syntax"
