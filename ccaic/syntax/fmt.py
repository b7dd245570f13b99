"""`ccaic fmt`: one canonical layout, no options, comments kept, idempotent.

Style: two-space indent; one item per line; `=` aligned within a run of consecutive
attributes; at most one blank line kept where the author left one, and always one between
top-level blocks; a block holding a single short attribute (and no comments) on one line;
lists on one line when they fit in 100 columns, else one item per line with trailing commas.
Strings, numbers, regexes and templates are printed exactly as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ccaic.syntax import ast

INDENT = "  "
WIDTH = 100


@dataclass
class Slot:
    """An item with the comments that travel with it."""

    item: ast.Item
    leading: list[ast.Comment] = field(default_factory=list)
    trailing: ast.Comment | None = None
    inner: list[ast.Comment] = field(default_factory=list)  # inside the item's span


def format_file(tree: ast.File) -> str:
    lines = _format_body(tree.items, list(tree.comments), depth=0, top=True)
    text = "\n".join(lines).rstrip("\n")
    return text + "\n" if text else ""


# ---------------------------------------------------------------- comment placement


def _inside(comment: ast.Comment, node: ast.Node) -> bool:
    return node.span.offset <= comment.span.offset < node.span.end_offset


def _assign(items: Sequence[ast.Item], comments: list[ast.Comment]
            ) -> tuple[list[Slot], list[ast.Comment]]:
    """Give every comment to an item (leading, trailing or inner) or to the body's end."""
    slots = [Slot(item) for item in items]
    tail: list[ast.Comment] = []
    for comment in sorted(comments, key=lambda c: c.span.offset):
        owner = next((s for s in slots if _inside(comment, s.item)), None)
        if owner is not None:
            owner.inner.append(comment)
            continue
        before = [s for s in slots if s.item.span.end_offset <= comment.span.offset]
        prev = before[-1] if before else None
        if prev is not None and prev.item.span.end_line == comment.span.line and \
                prev.trailing is None:
            prev.trailing = comment
            continue
        nxt = next((s for s in slots if s.item.span.offset > comment.span.offset), None)
        if nxt is not None:
            nxt.leading.append(comment)
        else:
            tail.append(comment)
    return slots, tail


# ---------------------------------------------------------------- bodies


def _format_body(items: Sequence[ast.Item], comments: list[ast.Comment], depth: int,
                 top: bool = False) -> list[str]:
    slots, tail = _assign(items, comments)
    pad = INDENT * depth
    out: list[str] = []
    last_line: int | None = None  # source end line of the previous element
    prev_kind: str | None = None
    widths = _alignment(slots)
    for index, slot in enumerate(slots):
        first_line = slot.leading[0].span.line if slot.leading else slot.item.span.line
        blank = last_line is not None and first_line > last_line + 1
        if (top and prev_kind == "block") or (top and isinstance(slot.item, ast.Block)
                                            and prev_kind is not None):
            blank = True
        if blank and out:
            out.append("")
        previous_comment_line: int | None = None
        for comment in slot.leading:
            if previous_comment_line is not None and comment.span.line > previous_comment_line + 1:
                out.append("")
            out.append(pad + comment.text)
            previous_comment_line = comment.span.line
        if slot.leading and slot.item.span.line > slot.leading[-1].span.line + 1:
            out.append("")
        item_lines = _format_item(slot, depth, widths[index])
        if slot.trailing is not None:
            item_lines[-1] += " " + slot.trailing.text
        out.extend(item_lines)
        last_line = slot.trailing.span.line if slot.trailing else slot.item.span.end_line
        prev_kind = "block" if isinstance(slot.item, ast.Block) else "other"
    if tail:
        first = tail[0].span.line
        if out and last_line is not None and first > last_line + 1:
            out.append("")
        previous: int | None = None
        for comment in tail:
            if previous is not None and comment.span.line > previous + 1:
                out.append("")
            out.append(pad + comment.text)
            previous = comment.span.line
    return out


def _alignment(slots: list[Slot]) -> list[int]:
    """Name width per slot: attributes in an unbroken run share the longest name's width."""
    widths = [0] * len(slots)
    run: list[int] = []

    def close() -> None:
        width = max((len(_attr(slots[i]).name.name) for i in run), default=0)
        for i in run:
            widths[i] = width
        run.clear()

    prev_end: int | None = None
    for i, slot in enumerate(slots):
        item = slot.item
        starts_run_break = slot.leading or _hoisted(slot) or (
            prev_end is not None and item.span.line > prev_end + 1)
        if not isinstance(item, ast.Attribute) or starts_run_break:
            close()
        if isinstance(item, ast.Attribute):
            run.append(i)
        prev_end = slot.trailing.span.line if slot.trailing else item.span.end_line
    close()
    return widths


def _hoisted(slot: Slot) -> list[ast.Comment]:
    """Comments inside an item that `fmt` prints above it (they act as leading comments)."""
    item = slot.item
    if isinstance(item, ast.Attribute):
        return [c for c in slot.inner if not _is_list_comment(item, c)]
    if isinstance(item, ast.Rule):
        return [c for c in slot.inner if not _in_rule_list(item, c)]
    if isinstance(item, ast.Import):
        return list(slot.inner)
    return []


def _attr(slot: Slot) -> ast.Attribute:
    assert isinstance(slot.item, ast.Attribute)
    return slot.item


def _format_item(slot: Slot, depth: int, width: int) -> list[str]:
    item = slot.item
    pad = INDENT * depth
    if isinstance(item, ast.Attribute):
        lead = [pad + c.text for c in slot.inner if not _is_list_comment(item, c)]
        prefix = f"{pad}{item.name.name.ljust(width)} = "
        list_comments = [c for c in slot.inner if _is_list_comment(item, c)]
        return lead + _format_value(item.value, prefix, depth, list_comments)
    if isinstance(item, ast.Block):
        return _format_block(item, slot.inner, depth)
    if isinstance(item, ast.Rule):
        kept = [c for c in slot.inner if _in_rule_list(item, c)]
        return [pad + c.text for c in _hoisted(slot)] + \
            (pad + format_rule(item, depth, kept)).split("\n")
    if isinstance(item, ast.Import):
        return [pad + c.text for c in slot.inner] + [f"{pad}import {item.path.raw}"]
    raise TypeError(f"unknown item {type(item).__name__}")


def _is_list_comment(item: ast.Attribute, comment: ast.Comment) -> bool:
    return isinstance(item.value, ast.ListLit) and _inside(comment, item.value)


def _in_rule_list(rule: ast.Rule, comment: ast.Comment) -> bool:
    """A comment inside one of the rule's lists stays there (the list is printed expanded)."""
    clause = rule.clause
    roots = [clause.source] if isinstance(clause, ast.ListedClause) else \
        [n.collection for n in ast.boolean_positions(clause.condition)
         if isinstance(n, ast.Member)]
    return any(isinstance(r, ast.ListLit) and _inside(comment, r) for r in roots)


def _format_block(block: ast.Block, comments: list[ast.Comment], depth: int) -> list[str]:
    pad = INDENT * depth
    header = pad + " ".join([block.type.name, *(_label(lb) for lb in block.labels)])
    header_line = block.span.line
    header_comment = next((c for c in comments if c.span.line == header_line
                           and not any(_inside(c, i) for i in block.body)
                           and (not block.body or c.span.offset < block.body[0].span.offset)),
                          None)
    body_comments = [c for c in comments if c is not header_comment]
    if not block.body and not body_comments and header_comment is None:
        return [header + " {}"]
    if (len(block.body) == 1 and not body_comments and header_comment is None
            and isinstance(block.body[0], ast.Attribute)):
        attr = block.body[0]
        one = _format_value(attr.value, f"{header} {{ {attr.name.name} = ", 0, [])
        if len(one) == 1 and len(one[0]) + 2 <= WIDTH and "\n" not in one[0]:
            return [one[0] + " }"]
    lines = [header + " {" + (" " + header_comment.text if header_comment else "")]
    lines.extend(_format_body(block.body, body_comments, depth + 1))
    lines.append(pad + "}")
    return lines


def _label(label: ast.Label) -> str:
    if not label.quoted:
        return label.value
    escaped = (label.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("\r", "\\r").replace("${", "\\${"))
    return f'"{escaped}"'


# ---------------------------------------------------------------- values


def _format_value(value: ast.Expr, prefix: str, depth: int,
                  comments: list[ast.Comment]) -> list[str]:
    if isinstance(value, ast.ListLit):
        flat = prefix + format_expr(value)
        if not comments and len(flat) <= WIDTH and "\n" not in flat:
            return [flat]
        return (prefix + _list_lines(value, depth, comments)).split("\n")
    text = format_expr(value)
    first, *rest = text.split("\n")
    return [prefix + first, *rest]


def _list_lines(value: ast.ListLit, depth: int, comments: list[ast.Comment]) -> str:
    """A list one element per line, each comment beside or above the element it was at; the
    text starts at `[` (on a line indented `depth` levels) and ends at `]`."""
    pad = INDENT * (depth + 1)
    remaining = sorted(comments, key=lambda c: c.span.offset)
    lines = ["["]
    for element in value.items:
        inner = [c for c in remaining if _inside(c, element)]
        lead = [c for c in remaining if c.span.offset < element.span.offset]
        remaining = [c for c in remaining if c not in lead and c not in inner]
        trailing = next((c for c in remaining if c.span.line == element.span.end_line), None)
        if trailing is not None:
            remaining.remove(trailing)
        lines.extend(pad + c.text for c in lead)
        lines.append(pad + _expr(element, depth + 1, inner) + "," +
                     (" " + trailing.text if trailing else ""))
    lines.extend(pad + c.text for c in remaining)
    lines.append(INDENT * depth + "]")
    return "\n".join(lines)


def _expr(value: ast.Expr | ast.Condition, depth: int, comments: list[ast.Comment]) -> str:
    """format_expr, except that a list holding comments is expanded to keep them."""
    if not comments:
        return format_expr(value)
    if isinstance(value, ast.ListLit):
        return _list_lines(value, depth, comments)
    if isinstance(value, ast.Member):
        return f"{format_expr(value.left)} in {_expr(value.collection, depth, comments)}"
    if isinstance(value, ast.Not):
        return f"not {_expr(value.operand, depth, comments)}"
    if isinstance(value, (ast.And, ast.Or)):
        word = " and " if isinstance(value, ast.And) else " or "
        return word.join(_expr(o, depth, [c for c in comments if _inside(c, o)])
                         for o in value.operands)
    if isinstance(value, ast.Paren):
        return f"({_expr(value.inner, depth, comments)})"
    return format_expr(value)


def format_expr(value: ast.Expr | ast.Condition) -> str:
    formatter = _FORMATTERS.get(type(value))
    if formatter is None:
        raise TypeError(f"cannot format {type(value).__name__}")
    return formatter(value)


def _joined(items: Iterable[Any], separator: str) -> str:
    return separator.join(format_expr(i) for i in items)


# How each node type prints: the canonical spelling `ccaic fmt` writes.
_FORMATTERS: dict[type, Callable[[Any], str]] = {
    ast.StringLit: lambda v: v.raw,
    ast.TemplateLit: lambda v: f'"""{v.text}"""',
    ast.NumberLit: lambda v: v.raw,
    ast.BoolLit: lambda v: "true" if v.value else "false",
    ast.NullLit: lambda v: "null",
    ast.RegexLit: lambda v: f"/{v.pattern}/{v.flags}",
    ast.RangeLit: lambda v: f"{v.start.raw}..{v.end.raw}",
    ast.ListLit: lambda v: "[" + _joined(v.items, ", ") + "]",
    ast.Reference: lambda v: v.dotted,
    ast.Call: lambda v: f"{v.function.name}(" + _joined(v.args, ", ") + ")",
    ast.FieldRef: lambda v: v.name,
    ast.Compare: lambda v: f"{format_expr(v.left)} {v.op} {format_expr(v.right)}",
    ast.Matches: lambda v: f"{format_expr(v.left)} matches {format_expr(v.regex)}",
    ast.Member: lambda v: f"{format_expr(v.left)} in {format_expr(v.collection)}",
    ast.Not: lambda v: f"not {format_expr(v.operand)}",
    ast.And: lambda v: _joined(v.operands, " and "),
    ast.Or: lambda v: _joined(v.operands, " or "),
    ast.Paren: lambda v: f"({format_expr(v.inner)})",
}


def format_rule(rule: ast.Rule, depth: int = 0, comments: Sequence[ast.Comment] = ()) -> str:
    """The rule on one line, unless it keeps comments inside its lists (then on several)."""
    kept = list(comments)
    if isinstance(rule.clause, ast.WhereClause):
        clause = f"where {_expr(rule.clause.condition, depth, kept)}"
    else:
        clause = f"listed in {_expr(rule.clause.source, depth, kept)}"
    because = f" because {rule.because.raw}" if rule.because is not None else ""
    return f"{rule.action} {rule.subject} {clause}{because}"
