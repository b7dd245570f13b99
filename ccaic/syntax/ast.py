"""The .ccai abstract syntax tree: typed, immutable, every node keeps its source span.

The AST is generic (blocks, attributes, rules, expressions); what each block means is the
checker's business (ccaic.check). Keeping the tree generic lets `fmt` print any parsable file
and lets the checker report unknown blocks and attributes with a location and a suggestion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from ccaic.diagnostics import Span

AST_FORMAT_VERSION = "1.0"


class Node(BaseModel):
    model_config = ConfigDict(frozen=True)

    span: Span


class Ident(Node):
    kind: Literal["ident"] = "ident"
    name: str


# ---------------------------------------------------------------- expressions


class Interpolation(Node):
    """`${var.data}` inside a string: a reference resolved at build time."""

    kind: Literal["interpolation"] = "interpolation"
    reference: Reference


class StringLit(Node):
    """A double-quoted string; `parts` splits literal text from `${...}` interpolations."""

    kind: Literal["string"] = "string"
    raw: str
    parts: tuple[Union[str, Interpolation], ...]  # noqa: UP007 (pydantic needs the union here)

    @property
    def is_constant(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def constant(self) -> str:
        return "".join(p for p in self.parts if isinstance(p, str))


class TemplateLit(Node):
    """A triple-quoted template literal: Jinja2 text, kept verbatim (no escapes, no ${})."""

    kind: Literal["template"] = "template"
    text: str


class NumberLit(Node):
    kind: Literal["number"] = "number"
    raw: str
    value: float | int


class BoolLit(Node):
    kind: Literal["bool"] = "bool"
    value: bool


class NullLit(Node):
    kind: Literal["null"] = "null"


class RegexLit(Node):
    kind: Literal["regex"] = "regex"
    pattern: str
    flags: str


class RangeLit(Node):
    kind: Literal["range"] = "range"
    start: NumberLit
    end: NumberLit


class ListLit(Node):
    kind: Literal["list"] = "list"
    items: tuple[Expr, ...]


class Reference(Node):
    """`var.data`, `assembly.ccai_us_2023`, or a bare word such as `string` in `type = string`."""

    kind: Literal["reference"] = "reference"
    parts: tuple[Ident, ...]

    @property
    def dotted(self) -> str:
        return ".".join(p.name for p in self.parts)


class Call(Node):
    kind: Literal["call"] = "call"
    function: Ident
    args: tuple[Expr, ...]


Expr = Annotated[
    Union[  # noqa: UP007
        StringLit, TemplateLit, NumberLit, BoolLit, NullLit, RegexLit, RangeLit, ListLit,
        Reference, Call,
    ],
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- conditions (moderation rules)


class FieldRef(Node):
    kind: Literal["field"] = "field"
    name: str


class Compare(Node):
    kind: Literal["compare"] = "compare"
    left: Operand
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    right: Compared


class Matches(Node):
    kind: Literal["matches"] = "matches"
    left: Operand
    regex: RegexLit


class Member(Node):
    kind: Literal["member"] = "member"
    left: Operand
    collection: Expr


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Condition


class And(Node):
    kind: Literal["and"] = "and"
    operands: tuple[Condition, ...]


class Or(Node):
    kind: Literal["or"] = "or"
    operands: tuple[Condition, ...]


class Paren(Node):
    """Parentheses are kept so `fmt` prints what the author wrote."""

    kind: Literal["paren"] = "paren"
    inner: Condition


Operand = Annotated[
    Union[FieldRef, NumberLit, StringLit, BoolLit],  # noqa: UP007
    Field(discriminator="kind"),
]

# `duplicate_of != null`: null only on the right of a comparison, where it means "no value".
Compared = Annotated[
    Union[FieldRef, NumberLit, StringLit, BoolLit, NullLit],  # noqa: UP007
    Field(discriminator="kind"),
]

Condition = Annotated[
    Union[FieldRef, NumberLit, StringLit, BoolLit, Compare, Matches, Member, Not, And, Or,  # noqa: UP007
          Paren],
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- items


class Attribute(Node):
    kind: Literal["attribute"] = "attribute"
    name: Ident
    value: Expr


class WhereClause(Node):
    kind: Literal["where"] = "where"
    condition: Condition


class ListedClause(Node):
    kind: Literal["listed"] = "listed"
    source: Expr


class Rule(Node):
    """`keep|drop statements|participants where <condition> | listed in <expr> [because "..."]`."""

    kind: Literal["rule"] = "rule"
    action: Literal["keep", "drop"]
    subject: Literal["statements", "participants"]
    clause: Annotated[Union[WhereClause, ListedClause], Field(discriminator="kind")]  # noqa: UP007
    because: StringLit | None = None


class Label(Node):
    kind: Literal["label"] = "label"
    value: str
    quoted: bool


class Block(Node):
    kind: Literal["block"] = "block"
    type: Ident
    labels: tuple[Label, ...]
    body: tuple[Item, ...]

    def attributes(self) -> dict[str, Attribute]:
        return {i.name.name: i for i in self.body if isinstance(i, Attribute)}

    def blocks(self, type_name: str | None = None) -> list[Block]:
        return [i for i in self.body if isinstance(i, Block)
                and (type_name is None or i.type.name == type_name)]


class Import(Node):
    kind: Literal["import"] = "import"
    path: StringLit


Item = Annotated[
    Union[Block, Attribute, Rule, Import],  # noqa: UP007
    Field(discriminator="kind"),
]


class Comment(Node):
    kind: Literal["comment"] = "comment"
    text: str


class File(Node):
    """One parsed .ccai file. Comments are kept aside for `fmt`."""

    kind: Literal["file"] = "file"
    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = ()

    def blocks(self, type_name: str | None = None) -> list[Block]:
        return [i for i in self.items if isinstance(i, Block)
                and (type_name is None or i.type.name == type_name)]


for _model in (Interpolation, StringLit, ListLit, Call, Compare, Matches, Member, Not, And, Or,
               Paren, Attribute, WhereClause, ListedClause, Rule, Block, File):
    _model.model_rebuild()


def boolean_positions(cond: Condition) -> Iterator[Condition]:
    """The sub-conditions that must themselves be true or false (not compared operands)."""
    if isinstance(cond, (And, Or)):
        for op in cond.operands:
            yield from boolean_positions(op)
    elif isinstance(cond, Not):
        yield from boolean_positions(cond.operand)
    elif isinstance(cond, Paren):
        yield from boolean_positions(cond.inner)
    else:
        yield cond


def without_spans(node: Any) -> Any:
    """The tree as plain data without spans or comments: what parse(fmt(x)) == parse(x) compares."""
    if isinstance(node, BaseModel):
        return {
            name: without_spans(getattr(node, name))
            for name in type(node).model_fields
            if name not in ("span", "comments", "path")
        } | {"__type__": type(node).__name__}
    if isinstance(node, (tuple, list)):
        return [without_spans(x) for x in node]
    return node


def json_schema() -> dict[str, Any]:
    schema = File.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ccaic .ccai AST"
    schema["description"] = (
        f"The abstract syntax tree of a .ccai file (format_version {AST_FORMAT_VERSION}); "
        "every node carries its source span."
    )
    return schema
