"""Lower the lark parse tree to the typed AST, keeping a span on every node.

Lowering only rejects what the grammar cannot express compactly: bad escapes and bad
`${...}` interpolations inside strings (CCAI105, CCAI106).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from lark import Token
from pydantic import BaseModel

from ccaic.diagnostics import Diagnostic, Span, error
from ccaic.syntax import ast

try:  # lark-cython's LALR parser and lexer, a regular dependency (docs/limits.md)
    import lark_cython
    from lark_cython.lark_cython import Token as _CythonToken
except ImportError:  # pragma: no cover - pure lark gives the same AST, only slower
    lark_cython = None
    _CythonToken = Token

Children = list[Any]
M = TypeVar("M", bound=BaseModel)


class LoweringError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


#: The token classes a parse hands the lowering: lark-cython's Token is not a str (no len()),
#: so the lowering reads tokens through str() and their position attributes only.
TOKEN_TYPES: tuple[type[Token], ...] = (Token, _CythonToken)


def lark_plugins(accelerated: bool = True) -> dict[str, Any]:
    """lark's `_plugins` for the lowering parser: lark-cython's when it imports."""
    if not accelerated or lark_cython is None:
        return {}
    return dict(lark_cython.plugins)


ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "$": "$"}
_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
_INTERP_RE = re.compile(r"\$\{([^}]*)\}")
_REF_RE = re.compile(rf"\s*({_NAME}(?:\.{_NAME})*)\s*")


_SHARED: dict[type[BaseModel], tuple[tuple[tuple[str, Any], ...], set[str]]] = {}


def _node(cls: type[M], **values: Any) -> M:
    """A frozen `cls` built without validation: lowering passes only values of the field's
    type. A 10 MB file lowers to millions of nodes; validation doubled the time and its own
    dict and fields-set per node were most of the memory. Setting fields one by one in a
    fixed order lets CPython share one key table between all nodes of a class, and the
    fields-set is shared too (nothing reads it; model_copy copies it).
    tests/syntax/test_lower_fast.py checks the result equals the validated one."""
    shared = _SHARED.get(cls)
    if shared is None:
        shared = _SHARED[cls] = (
            tuple((name, info.default) for name, info in cls.model_fields.items()),
            set(cls.model_fields))
    fields, fields_set = shared
    obj = cls.__new__(cls)
    for name, default in fields:
        object.__setattr__(obj, name, values.get(name, default))
    object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _token_span(path: str, tok: Token) -> Span:
    return _node(Span, file=path, line=tok.line or 1, column=tok.column or 1,
                end_line=tok.end_line or tok.line or 1,
                end_column=tok.end_column or (tok.column or 1) + len(str(tok)),
                offset=tok.start_pos or 0,
                end_offset=tok.end_pos or (tok.start_pos or 0) + len(str(tok)))


@dataclass(slots=True)
class Positions:
    """Where a rule's text starts and ends, taken from its first and last child, as lark's
    propagate_positions does; lowering runs inside the parse, where lark gives no Meta."""

    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1
    start_pos: int = 0
    end_pos: int = 0


def _start(node: Any) -> tuple[int, int, int]:
    """(line, column, offset) where a token or lowered node starts."""
    if isinstance(node, TOKEN_TYPES):
        return node.line or 1, node.column or 1, node.start_pos or 0
    return node.span.line, node.span.column, node.span.offset


def _end(node: Any) -> tuple[int, int, int]:
    """(line, column, offset) just after a token or lowered node."""
    if isinstance(node, TOKEN_TYPES):
        return node.end_line or 1, node.end_column or 1, node.end_pos or 0
    return node.span.end_line, node.span.end_column, node.span.end_offset


def _positions(children: Sequence[Any]) -> Positions:
    present = [c for c in children if c is not None]
    if not present:
        return Positions()
    (line, column, start), (end_line, end_column, end) = _start(present[0]), _end(present[-1])
    return Positions(line, column, end_line, end_column, start, end)


def _meta_span(path: str, meta: Positions) -> Span:
    return _node(Span, file=path, line=meta.line, column=meta.column, end_line=meta.end_line,
                      end_column=meta.end_column, offset=meta.start_pos, end_offset=meta.end_pos)


#: Deepest nesting of blocks, lists, calls, parentheses and `not` (docs/limits.md). Real specs
#: nest four or five levels; checking, fmt and diff walk the AST recursively.
MAX_NESTING = 32
#: Rules that open a level of nesting, and what a person calls them.
NESTING_RULES = {"block": "block", "list": "list", "call": "call", "group": "parenthesis",
                 "not_cond": "`not`"}


def _lower_rule(lowering: Lowering, rule: str, f: Callable[[Positions, Children], Any],
                children: Children) -> Any:
    """What lark calls when the parse reduces `rule`: the rule's positions from its children,
    the nesting depth of what `f` builds (CCAI110 past MAX_NESTING), without recursion."""
    depths = lowering.depths
    depth = max((depths.get(id(c), 0) for c in children if not isinstance(c, TOKEN_TYPES)),
                default=0)
    pos = _positions(children)
    if rule in NESTING_RULES:
        depth += 1
        if depth > MAX_NESTING:
            span = Span(file=lowering.path, line=pos.line, column=pos.column, end_line=pos.line,
                        end_column=pos.column + 1, offset=pos.start_pos,
                        end_offset=pos.start_pos + 1)
            raise LoweringError(error(
                "CCAI110", f"nested too deeply: this {NESTING_RULES[rule]} holds more than "
                f"{MAX_NESTING} levels of blocks, lists, calls, parentheses or `not`", span,
                help=f"nesting is limited to {MAX_NESTING} levels; flatten it, e.g. `not not x` "
                "is `x` and a long condition splits into several rules"))
    result = f(pos, children)
    if depth:
        depths[id(result)] = depth
    return result


def _ident(path: str, tok: Token) -> ast.Ident:
    return _node(ast.Ident, span=_token_span(path, tok), name=str(tok))


def _sub_span(span: Span, start: int, end: int) -> Span:
    """A span for characters [start, end) of a single-line token."""
    return _node(Span, file=span.file, line=span.line, column=span.column + start,
                      end_line=span.line, end_column=span.column + end,
                      offset=span.offset + start, end_offset=span.offset + end)


def parse_string(tok: Token, path: str) -> ast.StringLit:
    """Split a quoted string into text and `${ref}` parts, decoding escapes."""
    span = _token_span(path, tok)
    raw = str(tok)
    body = raw[1:-1]
    parts: list[str | ast.Interpolation] = []
    buf: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt not in ESCAPES:
                raise LoweringError(error(
                    "CCAI106", f"unknown escape sequence `\\{nxt}` in string",
                    _sub_span(span, i + 1, i + 3),
                    help='the escapes are \\" \\\\ \\n \\t \\r and \\$ (a literal $)'))
            buf.append(ESCAPES[nxt])
            i += 2
            continue
        if body.startswith("${", i):
            close = body.find("}", i)
            if close < 0:
                raise LoweringError(error(
                    "CCAI105", "unclosed `${` in string", _sub_span(span, i + 1, len(body) + 1),
                    help="close the interpolation with `}`; write \\${ for a literal ${"))
            inner = body[i + 2:close]
            match = _REF_RE.fullmatch(inner)
            if not match:
                raise LoweringError(error(
                    "CCAI105", f"`${{{inner}}}` is not a reference",
                    _sub_span(span, i + 1, close + 2),
                    help="interpolate a reference such as ${var.data}; "
                    "write \\${ for a literal ${"))
            if buf:
                parts.append("".join(buf))
                buf = []
            ref_span = _sub_span(span, i + 1, close + 2)
            names = match.group(1).split(".")
            idents = tuple(_node(ast.Ident, span=ref_span, name=n) for n in names)
            parts.append(_node(
                ast.Interpolation, span=ref_span,
                reference=_node(ast.Reference, span=ref_span, parts=idents)))
            i = close + 1
            continue
        buf.append(ch)
        i += 1
    if buf:
        parts.append("".join(buf))
    return _node(ast.StringLit, span=span, raw=raw, parts=tuple(parts))


#: Longest numeric literal in characters (docs/limits.md): a 5,000-digit integer is beyond
#: Python's int() limit, and no setting needs more than a few digits.
MAX_NUMBER_CHARS = 32


def parse_number(tok: Token, path: str) -> ast.NumberLit:
    text = str(tok)
    if len(text) > MAX_NUMBER_CHARS:
        raise LoweringError(error(
            "CCAI111", f"number literal is {len(text):,} characters long (the limit is "
            f"{MAX_NUMBER_CHARS})", _token_span(path, tok),
            help="write the number with fewer digits; use an exponent for large values, "
            "e.g. 1e12"))
    value: float | int = float(text) if any(c in text for c in ".eE") else int(text)
    if not math.isfinite(value):
        raise LoweringError(error(
            "CCAI111", f"number {text} is too large to represent", _token_span(path, tok),
            help="numbers must be finite: the largest is about 1.8e308"))
    return _node(ast.NumberLit, span=_token_span(path, tok), raw=text, value=value)


def parse_regex(tok: Token, path: str) -> ast.RegexLit:
    text = str(tok)
    close = text.rfind("/")
    pattern = text[1:close]  # verbatim: Python's re reads an escaped \/ as /
    return _node(ast.RegexLit, span=_token_span(path, tok), pattern=pattern,
                 flags=text[close + 1:])


def _values(children: Sequence[Any]) -> list[Any]:
    """Children without punctuation tokens (kept by the grammar for positions)."""
    return [c for c in children if not (isinstance(c, TOKEN_TYPES) and c.type in _PUNCT)]


_PUNCT = {"LBRACE", "RBRACE", "LSQB", "RSQB", "LPAR", "RPAR", "COMMA", "DOT", "DOTDOT", "EQUALS",
          "WHERE", "LISTED", "IN", "BECAUSE", "OR", "AND", "NOT", "MATCHES", "IMPORT"}


class Callbacks:
    """lark's inline transformer for Lowering: one plain function per rule, called with the
    rule's children. A lark Transformer with a visit wrapper built a wrapper object on every
    call, a fifth of the parse of a large file."""

    def __init__(self, lowering: Lowering):
        for rule in RULES:
            setattr(self, rule, partial(_lower_rule, lowering, rule, getattr(lowering, rule)))


class Lowering:
    """Builds the AST inside lark's LALR parse (its `callbacks()` are the parser's inline
    transformer): no parse tree is kept, and nothing recurses however deep the input nests.
    Each method is named after a grammar rule (or alias) and lowers its children."""

    def __init__(self, path: str):
        self.path = path
        self.depths: dict[int, int] = {}  # id(node) -> nesting depth, for nodes that nest

    def callbacks(self) -> Callbacks:
        return Callbacks(self)

    def span(self, meta: Positions) -> Span:
        return _meta_span(self.path, meta)

    # --- expressions
    def string(self, meta: Positions, children: Children) -> ast.StringLit:
        return parse_string(children[0], self.path)

    def template(self, meta: Positions, children: Children) -> ast.TemplateLit:
        return _node(ast.TemplateLit, span=self.span(meta), text=str(children[0])[3:-3])

    def number(self, meta: Positions, children: Children) -> ast.NumberLit:
        return parse_number(children[0], self.path)

    def true(self, meta: Positions, children: Children) -> ast.BoolLit:
        return _node(ast.BoolLit, span=self.span(meta), value=True)

    def false(self, meta: Positions, children: Children) -> ast.BoolLit:
        return _node(ast.BoolLit, span=self.span(meta), value=False)

    def null(self, meta: Positions, children: Children) -> ast.NullLit:
        return _node(ast.NullLit, span=self.span(meta))

    def regex(self, meta: Positions, children: Children) -> ast.RegexLit:
        return parse_regex(children[0], self.path)

    def range(self, meta: Positions, children: Children) -> ast.RangeLit:
        start, end = _values(children)
        return _node(ast.RangeLit, span=self.span(meta), start=parse_number(start, self.path),
                            end=parse_number(end, self.path))

    def list(self, meta: Positions, children: Children) -> ast.ListLit:
        items = tuple(c for c in _values(children) if c is not None)
        return _node(ast.ListLit, span=self.span(meta), items=items)

    def reference(self, meta: Positions, children: Children) -> ast.Reference:
        parts = tuple(_ident(self.path, t)
                      for t in _values(children))
        return _node(ast.Reference, span=self.span(meta), parts=parts)

    def call(self, meta: Positions, children: Children) -> ast.Call:
        name, *args = _values(children)
        return _node(ast.Call, span=self.span(meta),
                        function=_ident(self.path, name),
                        args=tuple(a for a in args if a is not None))

    # --- conditions
    def field(self, meta: Positions, children: Children) -> ast.FieldRef:
        return _node(ast.FieldRef, span=self.span(meta), name=str(children[0]))

    def compare(self, meta: Positions, children: Children) -> ast.Compare:
        left, op, right = children
        return _node(ast.Compare, span=self.span(meta), left=left, op=str(op),
                           right=right)

    def matches(self, meta: Positions, children: Children) -> ast.Matches:
        left, _, regex = children
        return _node(ast.Matches, span=self.span(meta), left=left,
                     regex=parse_regex(regex, self.path))

    def member(self, meta: Positions, children: Children) -> ast.Member:
        left, _, collection = children
        return _node(ast.Member, span=self.span(meta), left=left, collection=collection)

    def not_cond(self, meta: Positions, children: Children) -> ast.Not:
        return _node(ast.Not, span=self.span(meta), operand=_values(children)[0])

    def and_cond(self, meta: Positions, children: Children) -> ast.And:
        return _node(ast.And, span=self.span(meta), operands=tuple(_values(children)))

    def or_cond(self, meta: Positions, children: Children) -> ast.Or:
        return _node(ast.Or, span=self.span(meta), operands=tuple(_values(children)))

    def group(self, meta: Positions, children: Children) -> ast.Paren:
        return _node(ast.Paren, span=self.span(meta), inner=_values(children)[0])

    # --- items
    def attribute(self, meta: Positions, children: Children) -> ast.Attribute:
        name, value = _values(children)
        return _node(ast.Attribute, span=self.span(meta),
                             name=_ident(self.path, name),
                             value=value)

    def where_clause(self, meta: Positions, children: Children) -> ast.WhereClause:
        return _node(ast.WhereClause, span=self.span(meta), condition=_values(children)[0])

    def listed_clause(self, meta: Positions, children: Children) -> ast.ListedClause:
        return _node(ast.ListedClause, span=self.span(meta), source=_values(children)[0])

    def because(self, meta: Positions, children: Children) -> ast.StringLit:
        return parse_string(_values(children)[0], self.path)

    def rule(self, meta: Positions, children: Children) -> ast.Rule:
        action, subject, clause, because = [*children, None][:4]
        return _node(ast.Rule, span=self.span(meta), action=str(action),
                     subject=str(subject), clause=clause, because=because)

    def label(self, meta: Positions, children: Children) -> ast.Label:
        tok = children[0]
        if tok.type == "STRING":
            lit = parse_string(tok, self.path)
            if not lit.is_constant:
                raise LoweringError(error(
                    "CCAI105", "a label cannot use ${...} interpolation", lit.span,
                    help="labels are names known before variables have values; write a plain "
                    "name such as \"public\""))
            return _node(ast.Label, span=lit.span, value=lit.constant, quoted=True)
        return _node(ast.Label, span=_token_span(self.path, tok), value=str(tok), quoted=False)

    def block(self, meta: Positions, children: Children) -> ast.Block:
        type_tok = children[0]
        labels = tuple(c for c in children if isinstance(c, ast.Label))
        body = tuple(c for c in children[1:]
                     if isinstance(c, (ast.Block, ast.Attribute, ast.Rule, ast.Import)))
        return _node(ast.Block, span=self.span(meta),
                         type=_ident(self.path, type_tok),
                         labels=labels, body=body)

    def start(self, meta: Positions, children: Children) -> tuple[ast.Item, ...]:
        return tuple(children)

    def import_stmt(self, meta: Positions, children: Children) -> ast.Import:
        return _node(ast.Import, span=self.span(meta), path=parse_string(children[1], self.path))


#: The grammar's rules and aliases, each lowered by the Lowering method of its name
#: (tests/test_syntax_fast.py checks every rule of grammar/ccai.lark is here).
RULES = ("string", "template", "number", "true", "false", "null", "regex", "range", "list",
         "reference", "call", "field", "compare", "matches", "member", "not_cond", "and_cond",
         "or_cond", "group", "attribute", "where_clause", "listed_clause", "because", "rule",
         "label", "block", "start", "import_stmt")


def lower(items: Sequence[ast.Item], path: str, comments: Sequence[Token] = ()) -> ast.File:
    """The File for a parse's lowered top-level items (the `start` rule's children)."""
    if items:
        first, last = items[0].span, items[-1].span
        span = Span(file=path, line=first.line, column=first.column, end_line=last.end_line,
                    end_column=last.end_column, offset=first.offset, end_offset=last.end_offset)
    else:
        span = Span.point(path, 1, 1)
    kept = tuple(_node(ast.Comment, span=_token_span(path, c), text=str(c).rstrip())
                 for c in comments)
    return _node(ast.File, span=span, path=path, items=tuple(items), comments=kept)
