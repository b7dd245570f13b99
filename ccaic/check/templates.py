"""Check principle templates without rendering them: Jinja2 syntax, names, filters, escapes.

Errors point into the .ccai file: a template's line N is the file line where the literal
starts plus N - 1, and names are located by searching that line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError

from ccaic.check.schema import SCHEMA, TEMPLATE_CONTEXTS
from ccaic.constitution.templates import (
    FORBIDDEN_TAGS,
    METHODS,
    NONDETERMINISTIC_FILTERS,
    SAMPLE_CONTEXTS,
    LimitExceeded,
    Limits,
    NotAValue,
    environment,
    failed_line,
    present,
    render,
    sample_scores,
)
from ccaic.diagnostics import Diagnostic, Note, Span, error, warning
from ccaic.syntax import ast

if TYPE_CHECKING:
    from ccaic.check.checker import Program
    from ccaic.check.variables import Value

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


def line_span(value: ast.StringLit | ast.TemplateLit, lineno: int) -> Span:
    """Where line `lineno` of a template literal is in the .ccai file."""
    return _locate(value, lineno, None)


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


Locate = Callable[[int, "str | None"], Span]


def _placeholder_text(value: ast.StringLit | ast.TemplateLit) -> str:
    """The template with each ${...} replaced by a stand-in: its value is not known here."""
    if isinstance(value, ast.StringLit):
        return "".join(p if isinstance(p, str) else "x" for p in value.parts)
    return value.text


def check_template(value: ast.StringLit | ast.TemplateLit, context: str) -> list[Diagnostic]:
    """Diagnostics for a template literal as written (interpolations stand in as `x`)."""
    return check_text(_placeholder_text(value), context,
                      lambda lineno, needle: _locate(value, lineno, needle))


def check_text(text: str, context: str, locate: Locate) -> list[Diagnostic]:
    """Diagnostics for template source `text`; `locate` turns a template line and the name
    found there into a span in the .ccai file."""
    env = environment()
    try:
        deep_line = too_deep_brackets(env.lex(text), MAX_TEMPLATE_BRACKETS)
        if deep_line is not None:
            return [_too_deep(locate(deep_line, None))]
        tree = env.parse(text)
    except RecursionError:  # Jinja's parser recurses once per nested tag, too
        return [_too_deep(locate(1, None))]
    except TemplateSyntaxError as exc:
        return [error("CCAI301", f"template syntax error: {exc.message}",
                      locate(exc.lineno or 1, None),
                      help="principle templates are Jinja2: {{ statement.text }}, "
                      "{% if ... %}...{% endif %}")]
    deep = too_deep_node(tree, MAX_TEMPLATE_DEPTH)
    if deep is not None:
        return [_too_deep(locate(deep.lineno, None))]
    names = TEMPLATE_CONTEXTS[context]
    declared = _declared(tree)
    called = {id(n.node) for n in _walk(tree) if isinstance(n, nodes.Call)}
    out: list[Diagnostic] = []
    for node in _walk(tree):
        if isinstance(node, nodes.Getattr) and id(node) not in called and \
                node.attr in _METHOD_NAMES and not _is_context_field(node, names):
            out.append(_method_as_value(node, locate))
        else:
            out.extend(_check_node(node, context, names, declared, locate))
    return _unique(out) or _trial(text, context, locate)


#: Failures on the sample that do not depend on the data: a type that never fits, a filter
#: argument that is never valid, a constant divisor of 0, a limit. A missing key or index
#: (`statement.groups['9']`) depends on the data, so it is left to the build.
_SURE_FAILURES = (TypeError, ValueError, ArithmeticError, AssertionError, LimitExceeded,
                  NotAValue, SecurityError)


def _trial(text: str, context: str, locate: Locate) -> list[Diagnostic]:
    """A warning when the template fails on a made-up statement with every field set: the
    build would most likely fail the same way, after the assembly is analysed."""
    sample = {name: present(name, fields) for name, fields in SAMPLE_CONTEXTS[context].items()}
    try:
        render(text, sample, Limits())
    except _SURE_FAILURES as exc:
        what = str(exc) if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
        return [warning(
            "CCAI311", f"template fails on a sample {context}: {what}",
            locate(failed_line(exc) or 1, None),
            help="`ccaic check` tries each template on a made-up "
            f"{context} with every field set (docs/language.md, Templates); the build would "
            "most likely stop on the first one")]
    except Exception:  # depends on the data: the build says which statement
        return []
    return []


#: Methods of the values templates see (text, lists, mappings).
_METHOD_NAMES = frozenset(n for t in (str, list, dict) for n in dir(t) if not n.startswith("_"))


def _is_context_field(node: nodes.Getattr, names: dict[str, tuple[str, ...]]) -> bool:
    return isinstance(node.node, nodes.Name) and node.node.name in names


def _method_as_value(node: nodes.Getattr, locate: Locate) -> Diagnostic:
    """`statement.text.split` prints the method's repr, a heap address that changes per run."""
    return error(
        "CCAI310", f"`{node.attr}` is a method, not a value", locate(node.lineno, f".{node.attr}"),
        help=f"call it (`.{node.attr}()`) or use a filter: a method printed as text differs "
        "from one build to the next")


def _declared(tree: nodes.Template) -> set[str]:
    """Names the template binds itself: loop targets, `{% set %}`, macros (CCAI305 anyway)."""
    declared: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, (nodes.For, nodes.Assign)):
            declared.update(n.name for n in _walk(node.target) if isinstance(n, nodes.Name))
        if isinstance(node, nodes.Macro):  # reported as CCAI305; don't also flag its names
            declared.add(node.name)
            declared.update(arg.name for arg in node.args)
    return declared


def _check_node(node: nodes.Node, context: str, names: dict[str, tuple[str, ...]],
                declared: set[str], locate: Locate) -> list[Diagnostic]:
    env = environment()
    if type(node).__name__ in FORBIDDEN_TAGS:
        tag = _TAG_WORDS.get(type(node).__name__, type(node).__name__.lower())
        return [error(
            "CCAI305", f"`{{% {tag} %}}` is not allowed in a principle template",
            locate(node.lineno, tag),
            help="templates run sandboxed: no macros, includes, imports or inheritance; "
            "use filters and {% if %} / {% for %} over the statement's fields")]
    if isinstance(node, nodes.For) and node.recursive:
        return [error(
            "CCAI305", "`{% for ... recursive %}` is not allowed in a principle template",
            locate(node.lineno, "recursive"),
            help="a statement's fields are not nested: write a plain {% for %} loop")]
    if isinstance(node, nodes.Name) and node.ctx == "load":
        if node.name not in names and node.name not in declared and \
                node.name not in env.globals and node.name != "loop":
            guess = difflib.get_close_matches(node.name, names, n=1)
            return [error(
                "CCAI302", f"`{node.name}` is not defined in a {context} template",
                locate(node.lineno, node.name),
                help=f"did you mean `{guess[0]}`?" if guess else
                "available: " + ", ".join(f"`{n}`" for n in names))]
    elif isinstance(node, nodes.Getattr):
        return _check_getattr(node, names, locate)
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and \
            isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
        return [_unreachable(node.arg.value, node.lineno, locate)]
    elif isinstance(node, (nodes.Filter, nodes.Test)) and node.name is not None:
        return _check_filter(node, locate)
    elif isinstance(node, nodes.Call):
        return _check_call(node, names, declared, locate)
    return []


def _unreachable(name: str, lineno: int, locate: Locate) -> Diagnostic:
    """CCAI304: a `_private` attribute or key, by dot or by brackets."""
    return error("CCAI304", f"templates cannot reach `{name}`", locate(lineno, name),
                 help="templates run sandboxed: only the documented fields are available")


def _check_getattr(node: nodes.Getattr, names: dict[str, tuple[str, ...]],
                   locate: Locate) -> list[Diagnostic]:
    if node.attr.startswith("_"):
        return [_unreachable(node.attr, node.lineno, locate)]
    if isinstance(node.node, nodes.Name) and node.node.name in names:
        fields = names[node.node.name]
        if node.attr not in fields:
            guess = difflib.get_close_matches(node.attr, fields, n=1)
            return [error(
                "CCAI302", f"`{node.node.name}` has no field `{node.attr}`",
                locate(node.lineno, f".{node.attr}"),
                help=f"did you mean `{guess[0]}`?" if guess else
                f"fields of {node.node.name}: " + ", ".join(fields))]
    return _check_score(node, locate)


def _check_score(node: nodes.Getattr, locate: Locate) -> list[Diagnostic]:
    """`statement.scores.<name>`: a name no registered method computes is never there (the
    sample has every one, so the check said nothing and the build failed on it)."""
    inner = node.node
    if not (isinstance(inner, nodes.Getattr) and inner.attr == "scores"
            and isinstance(inner.node, nodes.Name) and inner.node.name == "statement"):
        return []
    known = list(sample_scores())
    if node.attr in known:
        return []
    guess = difflib.get_close_matches(node.attr, known, n=1)
    return [error(
        "CCAI302", f"`statement.scores` has no score `{node.attr}`",
        locate(node.lineno, f".{node.attr}"),
        help=f"did you mean `{guess[0]}`?" if guess else "scores: " + ", ".join(known))]


def _check_filter(node: nodes.Filter | nodes.Test, locate: Locate) -> list[Diagnostic]:
    env = environment()
    assert node.name is not None
    if isinstance(node, nodes.Filter) and node.name in NONDETERMINISTIC_FILTERS:
        return [error(
            "CCAI309", f"the filter `{node.name}` gives a different result on each build",
            locate(node.lineno, node.name),
            help="builds are deterministic: the same inputs give the same principles; pick "
            "with an index or `| first` instead")]
    table = env.filters if isinstance(node, nodes.Filter) else env.tests
    if node.name not in table:
        guess = difflib.get_close_matches(node.name, list(table), n=1)
        kind = "filter" if isinstance(node, nodes.Filter) else "test"
        return [error(
            "CCAI303", f"unknown template {kind} `{node.name}`",
            locate(node.lineno, node.name),
            help=f"did you mean `{guess[0]}`?" if guess else
            f"see docs/language.md for the {kind}s ccaic provides")]
    return []


def _check_call(node: nodes.Call, names: dict[str, tuple[str, ...]], declared: set[str],
                locate: Locate) -> list[Diagnostic]:
    """Only the listed methods can be called: a call is where a template could run away."""
    func = node.node
    if isinstance(func, nodes.Getattr):
        if func.attr in METHODS or func.attr.startswith("_"):
            return []
        what, needle = f"the method `{func.attr}`", func.attr
    elif isinstance(func, nodes.Name) and func.name in names and func.name not in declared:
        what, needle = f"`{func.name}`", func.name
    else:
        return []  # an undefined name (CCAI302) or a macro (CCAI305), reported already
    return [error(
        "CCAI310", f"{what} cannot be called in a template", locate(node.lineno, needle),
        help="use a filter (`| upper`, `| replace(...)`, `| join(...)`); the methods templates "
        "may call are listed in docs/language.md")]


def check_interpolated(program: Program, values: Mapping[str, Value]) -> list[Diagnostic]:
    """Diagnostics for every template whose ${var.x} have values, checked as it will render.

    `check_template` sees a stand-in for each ${...}; the value given with --var (or a default)
    is template source too, so it gets the same rules once it is known."""
    out: list[Diagnostic] = []
    for attr, context in _template_attrs(program):
        value = attr.value
        if isinstance(value, ast.StringLit) and not value.is_constant and \
                not check_template(value, context):  # a wrong literal is reported already
            out.extend(_check_substituted(value, context, values))
    return _unique(out)


def _check_substituted(value: ast.StringLit, context: str, values: Mapping[str, Value]
                       ) -> list[Diagnostic]:
    used = [p for p in value.parts if isinstance(p, ast.Interpolation)
            and _known(p.reference, values)]
    if not used:
        return []
    text = "".join(p if isinstance(p, str) else _substitute(p, values) for p in value.parts)
    note = Note(message="checked with " + ", ".join(
        f"{p.reference.dotted} = {_shown(values[p.reference.parts[1].name])}" for p in used))

    def locate(_line: int, needle: str | None) -> Span:
        """The ${...} whose value holds `needle`, else the first one substituted."""
        for part in used:
            if needle and needle.lstrip(".") in _substitute(part, values):
                return part.span
        return used[0].span

    return [d.model_copy(update={"notes": (*d.notes, note)})
            for d in check_text(text, context, locate)]


def _template_attrs(program: Program) -> Iterator[tuple[ast.Attribute, str]]:
    """Every template attribute of every constitution, with its context."""
    spec = SCHEMA["constitution"]
    for block in program.blocks("constitution"):
        for name, attr in block.attributes().items():
            kind = spec.attrs.get(name)
            if kind is not None and kind.type == "template":
                yield attr, kind.template_context or "statement"


def _known(ref: ast.Reference, values: Mapping[str, Value]) -> bool:
    return len(ref.parts) == 2 and ref.parts[0].name == "var" and \
        values.get(ref.parts[1].name) is not None


def _substitute(part: ast.Interpolation, values: Mapping[str, Value]) -> str:
    return str(values[part.reference.parts[1].name]) if _known(part.reference, values) else "x"


def _shown(value: Value) -> str:
    text = repr(str(value))
    return text if len(text) <= 60 else text[:57] + "...'"


def _unique(items: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, int, int]] = set()
    out = []
    for d in items:
        key = (d.code, d.message, d.span.line if d.span else 0, d.span.column if d.span else 0)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


#: Deepest Jinja syntax tree a template may have, and deepest nesting of brackets in its
#: expressions (docs/limits.md): Jinja parses and compiles recursively, a dozen Python frames
#: per bracket.
MAX_TEMPLATE_DEPTH = 40
MAX_TEMPLATE_BRACKETS = 16


def too_deep_brackets(tokens: Iterable[tuple[int, str, str]], limit: int) -> int | None:
    """The line of the first bracket nested more than `limit` deep in a template's
    expressions, from Jinja's (iterative) lexer; text outside tags does not count."""
    depth = 0
    for lineno, kind, value in tokens:
        if kind != "operator":
            continue
        if value in "([{":
            depth += 1
            if depth > limit:
                return lineno
        elif value in ")]}":
            depth = max(depth - 1, 0)
    return None


def too_deep_node(tree: nodes.Node, limit: int) -> nodes.Node | None:
    """The first node more than `limit` levels down, found without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return None


def _too_deep(span: Span) -> Diagnostic:
    return error(
        "CCAI110", "template nested too deeply", span,
        help=f"a template allows {MAX_TEMPLATE_BRACKETS} levels of brackets and "
        f"{MAX_TEMPLATE_DEPTH} of tags, filters and operators in all, as Jinja parses and "
        "compiles it recursively; "
        "split it into simpler expressions (docs/limits.md)")
