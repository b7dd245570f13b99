"""Check principle templates without rendering them: Jinja2 syntax, names, filters, escapes.

Errors point into the .ccai file: a template's line N is the file line where the literal
starts plus N - 1, and names are located by searching that line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from jinja2 import TemplateSyntaxError, nodes

from ccaic.check.schema import TEMPLATE_CONTEXTS
from ccaic.diagnostics import Diagnostic, Span, error
from ccaic.syntax import ast
from ccaic.templates import FORBIDDEN_TAGS, environment

_TAG_WORDS = {"Macro": "macro", "CallBlock": "call", "Include": "include", "Import": "import",
              "FromImport": "from", "Extends": "extends", "Block": "block"}


def _template_text(value: ast.StringLit | ast.TemplateLit) -> tuple[str, int]:
    """The template source and how many characters precede it on its first line."""
    if isinstance(value, ast.TemplateLit):
        return value.text, 3
    return value.raw[1:-1], 1  # raw, so columns line up with the file (escapes included)


def _locate(value: ast.StringLit | ast.TemplateLit, lineno: int, needle: str | None) -> Span:
    text, lead = _template_text(value)
    lines = text.split("\n")
    lineno = min(max(lineno, 1), len(lines))
    line_text = lines[lineno - 1]
    index = _find_word(line_text, needle) if needle else -1
    line = value.span.line + lineno - 1
    base = value.span.column + lead if lineno == 1 else 1
    if index < 0:
        if lineno == 1:
            return Span(file=value.span.file, line=value.span.line, column=value.span.column,
                        end_line=value.span.line,
                        end_column=value.span.column + lead + len(line_text) + lead,
                        offset=value.span.offset, end_offset=value.span.end_offset)
        return Span(file=value.span.file, line=line, column=1, end_line=line,
                    end_column=len(line_text) + 1)
    width = len(needle or "x")
    return Span(file=value.span.file, line=line, column=base + index, end_line=line,
                end_column=base + index + width)


def _find_word(line: str, needle: str) -> int:
    """Where `needle` stands as a whole name (not inside a longer word or after a dot)."""
    if needle.startswith("."):
        match = re.search(re.escape(needle) + r"(?!\w)", line)
    else:
        match = re.search(r"(?<![\w.])" + re.escape(needle) + r"(?!\w)", line)
    if match is None:
        return line.find(needle)
    return match.start()


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def check_template(value: ast.StringLit | ast.TemplateLit, context: str) -> list[Diagnostic]:
    text, _ = _template_text(value)
    if isinstance(value, ast.StringLit):
        text = "".join(p if isinstance(p, str) else "x" for p in value.parts)
    env = environment()
    try:
        tree = env.parse(text)
    except TemplateSyntaxError as exc:
        return [error("CCAI301", f"template syntax error: {exc.message}",
                      _locate(value, exc.lineno or 1, None),
                      help="principle templates are Jinja2: {{ statement.text }}, "
                      "{% if ... %}...{% endif %}")]
    names = TEMPLATE_CONTEXTS[context]
    out: list[Diagnostic] = []
    declared: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, (nodes.For,)):
            declared.update(n.name for n in _walk(node.target) if isinstance(n, nodes.Name))
        if isinstance(node, nodes.Assign):
            declared.update(n.name for n in _walk(node.target) if isinstance(n, nodes.Name))
        if isinstance(node, nodes.Macro):  # reported as CCAI305; don't also flag its names
            declared.add(node.name)
            declared.update(arg.name for arg in node.args)
    for node in _walk(tree):
        if type(node).__name__ in FORBIDDEN_TAGS:
            tag = _TAG_WORDS.get(type(node).__name__, type(node).__name__.lower())
            out.append(error(
                "CCAI305", f"`{{% {tag} %}}` is not allowed in a principle template",
                _locate(value, node.lineno, tag),
                help="templates run sandboxed: no macros, includes, imports or inheritance; "
                "use filters and {% if %} / {% for %} over the statement's fields"))
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name not in names and node.name not in declared and \
                    node.name not in env.globals and node.name != "loop":
                guess = difflib.get_close_matches(node.name, names, n=1)
                out.append(error(
                    "CCAI302", f"`{node.name}` is not defined in a {context} template",
                    _locate(value, node.lineno, node.name),
                    help=f"did you mean `{guess[0]}`?" if guess else
                    "available: " + ", ".join(f"`{n}`" for n in names)))
        elif isinstance(node, nodes.Getattr):
            if node.attr.startswith("_"):
                out.append(error(
                    "CCAI304", f"templates cannot reach `{node.attr}`",
                    _locate(value, node.lineno, node.attr),
                    help="templates run sandboxed: only the documented fields are available"))
            elif isinstance(node.node, nodes.Name) and node.node.name in names:
                fields = names[node.node.name]
                if node.attr not in fields:
                    guess = difflib.get_close_matches(node.attr, fields, n=1)
                    out.append(error(
                        "CCAI302", f"`{node.node.name}` has no field `{node.attr}`",
                        _locate(value, node.lineno, f".{node.attr}"),
                        help=f"did you mean `{guess[0]}`?" if guess else
                        f"fields of {node.node.name}: " + ", ".join(fields)))
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and \
                isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            out.append(error("CCAI304", f"templates cannot reach `{node.arg.value}`",
                             _locate(value, node.lineno, node.arg.value),
                             help="templates run sandboxed: only the documented fields are "
                             "available"))
        elif isinstance(node, (nodes.Filter, nodes.Test)) and node.name is not None:
            table = env.filters if isinstance(node, nodes.Filter) else env.tests
            if node.name not in table:
                guess = difflib.get_close_matches(node.name, list(table), n=1)
                kind = "filter" if isinstance(node, nodes.Filter) else "test"
                out.append(error(
                    "CCAI303", f"unknown template {kind} `{node.name}`",
                    _locate(value, node.lineno, node.name),
                    help=f"did you mean `{guess[0]}`?" if guess else
                    f"see docs/language.md for the {kind}s ccaic provides"))
    return _unique(out)


def _unique(items: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, int, int]] = set()
    out = []
    for d in items:
        key = (d.code, d.message, d.span.line if d.span else 0, d.span.column if d.span else 0)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out



