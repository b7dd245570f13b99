"""Semantic checks over parsed .ccai files: every problem reported in one run.

`check` reads no data files and needs no variable values (like `terraform validate`): it loads
the file and its imports, then checks names, types, ranges, references, regexes and templates
against ccaic.check.schema. Data is read at build time.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ccaic.check.consensus import consensus_diagnostics, method_attr
from ccaic.check.schema import (
    FUNCTIONS,
    MERGE_AUTO,
    RULE_FIELDS,
    SCHEMA,
    Attr,
    BlockSpec,
)
from ccaic.check.templates import check_template
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error, warning
from ccaic.files import FileRefused, path_kind, resolved
from ccaic.registry import Registry
from ccaic.registry.groupings import GROUPINGS, forced_k
from ccaic.registry.sources import SOURCES
from ccaic.syntax import ast
from ccaic.syntax.parser import parse, read_source

REFERENCE_KINDS = ("var", "assembly", "constitution", "plan")
#: Blocks whose kind label names a registry entry: the registry, how the block is spelled in a
#: message, and the verb for what it needs.
_PLUG_INS: dict[str, tuple[Registry[Any], str, str]] = {
    "groups": (GROUPINGS, "{} groups", "need"), "source": (SOURCES, "source {}", "needs")}


@dataclass
class Program:
    """A root file with its imports: every file's AST and every named top-level block."""

    root: str
    files: dict[str, ast.File] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    symbols: dict[tuple[str, str], ast.Block] = field(default_factory=dict)

    def blocks(self, type_name: str) -> list[ast.Block]:
        return [b for (t, _), b in sorted(self.symbols.items(), key=lambda kv: kv[0])
                if t == type_name]


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    choices = tuple(sorted(set(options)))
    if len(choices) <= 64:  # a block's attributes or types: the same few, asked again and again
        return _closest(word, choices)
    return _closest.__wrapped__(word, choices)


@lru_cache(maxsize=1024)
def _closest(word: str, choices: tuple[str, ...]) -> str | None:
    """The closest choice (difflib, a few microseconds per choice): a 10 MB spec asked for the
    same misspelt attribute among the same choices 17,000 times."""
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _suggest(word: str, options: Iterable[str], what: str) -> str:
    options = sorted(set(options))
    guess = did_you_mean(word, options)
    if guess:
        return f"did you mean `{guess}`?"
    if not options:
        return f"no {what} is allowed here"
    shown = ", ".join(f"`{o}`" for o in options[:12])
    return f"{_plural(what)} allowed here: {shown}" + (" ..." if len(options) > 12 else "")


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def _nested_hint(name: str, spec: BlockSpec) -> str | None:
    """When `name` is not close to an attribute here, it may belong to a nested block."""
    if did_you_mean(name, spec.attrs):
        return None
    exact = [child_name for child_name, child in spec.blocks.items() if name in child.attrs]
    if exact:
        where = " or ".join(f"`{c}`" for c in exact)
        return f"`{name}` is set inside the {where} block"
    for child_name, child in spec.blocks.items():
        guess = did_you_mean(name, child.attrs)
        if guess:
            return f"did you mean `{guess}`? It is set inside the `{child_name}` block"
    return None


# ---------------------------------------------------------------- loading (imports)


def load_program(root: str, text: str | None = None) -> tuple[Program, list[Diagnostic]]:
    """Parse the root file and, transitively, the files it imports."""
    program = Program(root=root)
    diagnostics: list[Diagnostic] = []
    _load(root, text, program, diagnostics, stack=[])
    return program, diagnostics


def _load(path: str, text: str | None, program: Program, diagnostics: list[Diagnostic],
          stack: list[tuple[str, Span | None]], via: Span | None = None) -> None:
    key = _canonical(path)
    if key in program.files:
        return
    try:
        source = text if text is not None else read_source(path)
    except DiagnosticError as exc:  # placed at the import that named the file, if any
        diagnostics.extend(d if d.span is not None or via is None
                           else d.model_copy(update={"span": via}) for d in exc.diagnostics)
        return
    program.sources[path] = source
    try:
        tree = parse(source, path)
    except DiagnosticError as exc:
        diagnostics.extend(exc.diagnostics)
        return
    program.files[key] = tree
    stack = [*stack, (key, None)]
    for item in tree.items:
        if not isinstance(item, ast.Import):
            continue
        if not item.path.is_constant:
            diagnostics.append(error(
                "CCAI213", "an import path cannot use ${...} interpolation", item.path.span,
                help="imports are resolved before variables have values; write a literal path"))
            continue
        target = os.path.normpath(Path(path).parent / item.path.constant) \
            if not path.startswith("<") else item.path.constant
        if not target.endswith(".ccai"):
            diagnostics.append(error(
                "CCAI213", f"an import must name a .ccai file, not {item.path.constant}",
                item.path.span, help="imports bring in blocks from other .ccai files; data files "
                "are named where they are used, e.g. `path = \"votes.csv\"` or file(\"ids.csv\")"))
            continue
        target_key = _canonical(target)
        chain = [k for k, _ in stack]
        if target_key in chain:
            cycle = " -> ".join([*(Path(k).name for k in chain[chain.index(target_key):]),
                                 Path(target_key).name])
            diagnostics.append(error(
                "CCAI205", f"import cycle: {cycle}", item.span,
                help="remove one of the imports; shared blocks can live in a third file"))
            continue
        if not _is_file(target):
            diagnostics.append(error(
                "CCAI213", f"imported file not found: {item.path.constant}", item.path.span,
                help=f"import paths are relative to the importing file; looked for {target}"))
            continue
        _load(target, None, program, diagnostics, stack, via=item.path.span)


def _is_file(path: str) -> bool:
    """Whether the import target exists; a folder, device or FIFO is read_source's to refuse
    (CCAI100, CCAI108) rather than be reported as missing."""
    try:
        return path_kind(path) != "missing"
    except FileRefused:  # a name too long, a symlink loop, ...: read_source says which
        return True


def _canonical(path: str) -> str:
    if path in ("-", "<input>") or path.startswith("<"):
        return path
    return str(resolved(path))


# ---------------------------------------------------------------- the checker


@dataclass(frozen=True)
class _Typed:
    """One attribute value being checked against its declared type."""
    name: str
    value: ast.Expr
    attr: Attr
    kind: str
    wrong: Callable[..., None]  # reports CCAI206 "must be <expected>" at the value


class Checker:
    def __init__(self, program: Program):
        self.program = program
        self.diagnostics: list[Diagnostic] = []
        self.variable_uses: dict[str, int] = {}
        self.clean_templates: set[tuple[str, str, str]] = set()

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def check_template(self, value: ast.StringLit | ast.TemplateLit, context: str) -> None:
        """check_template once per distinct text that has nothing to say: it parses and
        test-renders the template, and generated specs repeat one template thousands of
        times. A template with diagnostics is checked at each place, for their spans."""
        key = (type(value).__name__, value.raw if isinstance(value, ast.StringLit)
               else value.text, context)
        if key in self.clean_templates:
            return
        found = check_template(value, context)
        if not found:
            self.clean_templates.add(key)
        self.diagnostics.extend(found)

    # --- pass 1: symbols
    def collect_symbols(self) -> None:
        for tree in self.program.files.values():
            for block in tree.blocks():
                spec = SCHEMA.get(block.type.name)
                if spec is None or not spec.named or not block.labels:
                    continue
                key = (block.type.name, block.labels[0].value)
                first = self.program.symbols.get(key)
                if first is not None:
                    self.report(error(
                        "CCAI204", f"duplicate {block.type.name} `{key[1]}`", block.labels[0].span,
                        notes=[Note(message="first defined here", span=first.labels[0].span)],
                        help=f"give each {block.type.name} a different name"))
                else:
                    self.program.symbols[key] = block
                    if block.type.name == "variable":
                        self.variable_uses.setdefault(key[1], 0)

    # --- pass 2: structure, types, references
    def check_file(self, tree: ast.File) -> None:
        for item in tree.items:
            if isinstance(item, ast.Block):
                spec = SCHEMA.get(item.type.name)
                if spec is None:
                    self.report(error(
                        "CCAI201", f"unknown block type `{item.type.name}`", item.type.span,
                        help=_suggest(item.type.name, SCHEMA, "top-level block")))
                    continue
                self.check_block(item, spec, path=item.type.name)
            elif isinstance(item, ast.Attribute):
                self.report(error(
                    "CCAI216", f"attribute `{item.name.name}` outside any block", item.name.span,
                    help="attributes belong inside a block, e.g. "
                    "`assembly \"name\" { ... }`; inputs are `variable` blocks"))
            elif isinstance(item, ast.Rule):
                self.report(error(
                    "CCAI214", "a moderation rule outside any block", item.span,
                    help="rules go inside an assembly's `moderation { ... }` block"))

    def check_block(self, block: ast.Block, spec: BlockSpec, path: str) -> None:
        self.check_labels(block, spec)
        seen_attrs: dict[str, ast.Attribute] = {}
        seen_blocks: dict[tuple[str, str], ast.Block] = {}
        for item in block.body:
            if isinstance(item, ast.Attribute):
                name = item.name.name
                if name in seen_attrs:
                    self.report(error(
                        "CCAI204", f"attribute `{name}` is set twice", item.name.span,
                        notes=[Note(message="first set here", span=seen_attrs[name].name.span)],
                        help="keep one of them"))
                    continue
                seen_attrs[name] = item
                attr = spec.attrs.get(name)
                if attr is None:
                    if name in spec.blocks:
                        help_text = f"`{name}` is a block: write `{name} {{ ... }}`"
                    else:
                        help_text = _nested_hint(name, spec) or \
                            _suggest(name, spec.attrs, "attribute")
                    self.report(error(
                        "CCAI202", f"unknown attribute `{name}` in {_describe(block)}",
                        item.name.span, help=help_text))
                    self.check_expr(item.value, None)
                    continue
                self.check_value(item, attr, block)
            elif isinstance(item, ast.Block):
                child = MERGE_AUTO if is_auto_merge(item) and "merge" in spec.blocks \
                    else spec.blocks.get(item.type.name)
                if child is None:
                    if item.type.name in spec.attrs:
                        help_text = f"`{item.type.name}` is an attribute: write " \
                                    f"`{item.type.name} = ...`"
                    else:
                        help_text = _suggest(item.type.name, spec.blocks, "block")
                    self.report(error(
                        "CCAI201", f"unknown block `{item.type.name}` in {_describe(block)}",
                        item.type.span, help=help_text))
                    continue
                key = (item.type.name, item.labels[0].value if item.labels and child.repeatable
                       else "")
                if key in seen_blocks:
                    what = f"`{item.type.name}` block" if not key[1] else \
                        f"{item.type.name} `{key[1]}`"
                    self.report(error(
                        "CCAI204", f"duplicate {what} in {_describe(block)}",
                        item.labels[0].span if key[1] else item.type.span,
                        notes=[Note(message="first defined here",
                                    span=seen_blocks[key].labels[0].span if key[1]
                                    else seen_blocks[key].type.span)],
                        help="merge them into one block"))
                    continue
                seen_blocks[key] = item
                self.check_block(item, child, path=f"{path}.{item.type.name}")
            elif isinstance(item, ast.Rule):
                self.check_rule(item, spec, block)
            elif isinstance(item, ast.Import):
                self.report(error(
                    "CCAI216", "`import` inside a block", item.span,
                    help="imports go at the top level of a file"))
        for name, attr in spec.attrs.items():
            if attr.required and name not in seen_attrs:
                self.report(error(
                    "CCAI209", f"{_describe(block)} needs `{name}`", block.type.span,
                    help=f"add `{name} = ...` ({attr.doc})"))
        self.check_block_semantics(block, seen_attrs)

    def check_labels(self, block: ast.Block, spec: BlockSpec) -> None:
        want = len(spec.labels)
        got = len(block.labels)
        if got != want:
            if want == 0:
                span = block.labels[0].span
                msg = f"`{block.type.name}` takes no label"
                hint = f"write `{block.type.name} {{ ... }}`"
            else:
                span = block.labels[want].span if got > want else block.type.span
                names = " ".join(f"<{n}>" for n in spec.labels)
                msg = (f"`{block.type.name}` needs {want} label{'s' if want > 1 else ''} "
                       f"({names}), found {got}")
                example = " ".join(
                    (spec.label_choices[0] if spec.label_choices else f'"{n}"')
                    for n in spec.labels)
                hint = f"write `{block.type.name} {example} {{ ... }}`"
            self.report(error("CCAI211", msg, span, help=hint))
            return
        if spec.label_choices and block.labels:
            label = block.labels[0]
            if label.value not in spec.label_choices:
                self.report(error(
                    "CCAI215", f"unknown {block.type.name} kind `{label.value}`", label.span,
                    help=_suggest(label.value, spec.label_choices, f"{block.type.name} kind")))
        if spec.named and block.labels:
            label = block.labels[0]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", label.value):
                self.report(error(
                    "CCAI211", f"`{label.value}` cannot be used as a name", label.span,
                    help="names start with a letter or _ and contain letters, digits, _ and -, "
                    f"so `{block.type.name}.<name>` can refer to them"))

    # --- values
    def check_value(self, item: ast.Attribute, attr: Attr, block: ast.Block) -> None:
        attr = method_attr(block, item.name.name, attr)
        value = item.value
        kind = attr.type
        name = item.name.name
        if kind == "type_name":
            if not (isinstance(value, ast.Reference) and len(value.parts) == 1):
                self.report(error(
                    "CCAI206", f"`{name}` must be a type name", value.span,
                    help="one of: " + ", ".join(attr.choices)))
            elif value.parts[0].name not in attr.choices:
                self.report(error(
                    "CCAI215", f"unknown type `{value.parts[0].name}`", value.span,
                    help=_suggest(value.parts[0].name, attr.choices, "type")))
            return
        before = len(self.diagnostics)
        self.check_expr(value, attr)
        if len(self.diagnostics) > before:
            return  # one mistake, one error: a bad reference or call is not also a bad type
        if isinstance(value, ast.Reference) and value.parts[0].name == "var":
            return  # typed by the variable; its value is only known at build time
        self.check_type(name, value, attr, kind)

    def check_type(self, name: str, value: ast.Expr, attr: Attr, kind: str) -> None:
        def wrong(expected: str, hint: str | None = None) -> None:
            self.report(error(
                "CCAI206", f"`{name}` must be {expected}, not {_expr_kind(value)}", value.span,
                help=hint or attr.doc))

        family = kind.split(":", 1)[0] + (":" if ":" in kind else "")
        check = _TYPE_CHECKS.get(family)
        if check is not None:
            check(self, _Typed(name, value, attr, kind, wrong))

    def _check_string(self, t: _Typed) -> None:
        if not isinstance(t.value, ast.StringLit):
            t.wrong("a string", f'write it in double quotes: "..." ({t.attr.doc})')

    def _check_choice(self, t: _Typed) -> None:
        value, attr = t.value, t.attr
        if not isinstance(value, ast.StringLit):
            t.wrong("a string", "one of: " + ", ".join(f'"{c}"' for c in attr.choices))
        elif value.is_constant and value.constant not in attr.choices:
            self.report(error(
                "CCAI215", f"`{t.name}` cannot be \"{value.constant}\"", value.span,
                help=_suggest(value.constant, attr.choices, "value")))

    def _check_choice_or_number(self, t: _Typed) -> None:
        """One of the choices or a number in the attribute's range (bridging's `pass =
        "exclude" | 0.5`); a quoted number is CCAI215 whose hint writes it unquoted."""
        value, attr = t.value, t.attr
        words = " or ".join((*(f'"{c}"' for c in attr.choices), "a number"))
        if isinstance(value, ast.NumberLit):
            self.check_range(t.name, value, attr)
        elif not isinstance(value, ast.StringLit):
            t.wrong(words)
        elif value.is_constant and value.constant not in attr.choices:
            number = quoted_number(value.constant)
            self.report(error(
                "CCAI215", f"`{t.name}` cannot be \"{value.constant}\"", value.span,
                help=f"a number is written without quotes: `{t.name} = {number}`"
                if number else f"{t.name} is {words} ({attr.doc})"))

    def _check_template_value(self, t: _Typed) -> None:
        if not isinstance(t.value, (ast.StringLit, ast.TemplateLit)):
            t.wrong('a string or a """template"""')
        else:
            self.check_template(t.value, t.attr.template_context or "statement")

    def _check_path(self, t: _Typed) -> None:
        value = t.value
        if not (isinstance(value, ast.StringLit) or
                (isinstance(value, ast.Call) and value.function.name == "file")):
            t.wrong('a path string or file("...")')

    def _check_number(self, t: _Typed) -> None:
        value = t.value
        if not isinstance(value, ast.NumberLit):
            t.wrong("a whole number" if t.kind == "int" else "a number")
        elif t.kind == "int" and not isinstance(value.value, int):
            self.report(error(
                "CCAI206", f"`{t.name}` must be a whole number, not {value.raw}", value.span,
                help=t.attr.doc))
        else:
            self.check_range(t.name, value, t.attr)

    def _check_int_or_range(self, t: _Typed) -> None:
        value, name, attr = t.value, t.name, t.attr
        if isinstance(value, ast.RangeLit):
            for end in (value.start, value.end):
                if not isinstance(end.value, int):
                    self.report(error("CCAI206", f"`{name}` range ends must be whole numbers",
                                      end.span, help=attr.doc))
                else:
                    self.check_range(name, end, attr)
            if value.start.value > value.end.value:
                self.report(error(
                    "CCAI207", f"`{name}` range {value.start.raw}..{value.end.raw} is empty",
                    value.span, help="write the smaller bound first, e.g. 2..5"))
        elif isinstance(value, ast.NumberLit) and isinstance(value.value, int):
            self.check_range(name, value, attr)
        else:
            t.wrong("a whole number or a range like 2..5")

    def _check_bool(self, t: _Typed) -> None:
        if not isinstance(t.value, ast.BoolLit):
            t.wrong("true or false")

    def _check_list(self, t: _Typed) -> None:
        if not isinstance(t.value, ast.ListLit):
            t.wrong("a list [...]")
            return
        inner = t.kind.split(":", 1)[1]
        for element in t.value.items:
            if inner == "string" and not isinstance(element, ast.StringLit):
                self.report(error("CCAI206", f"`{t.name}` items must be strings",
                                  element.span, help=t.attr.doc))
            elif inner == "number" and not isinstance(element, ast.NumberLit):
                self.report(error("CCAI206", f"`{t.name}` items must be numbers",
                                  element.span, help=t.attr.doc))

    def _check_ref(self, t: _Typed) -> None:
        target, value, name = t.kind.split(":", 1)[1], t.value, t.name
        if not isinstance(value, ast.Reference):
            example = f"{target}.<name>"
            t.wrong(f"a reference to {_a(target)}", f"write `{name} = {example}`")
        elif value.parts[0].name in REFERENCE_KINDS and value.parts[0].name != target:
            self.report(error(
                "CCAI206",
                f"`{name}` must refer to {_a(target)}, not {_a(value.parts[0].name)}",
                value.span, help=f"write `{name} = {target}.<name>`"))

    def check_range(self, name: str, value: ast.NumberLit, attr: Attr) -> None:
        v = value.value
        low, high = attr.minimum, attr.maximum
        too_low = low is not None and (v <= low if attr.exclusive_minimum else v < low)
        too_high = high is not None and v > high
        if too_low or too_high:
            if low is not None and high is not None:
                bounds = f"{'(' if attr.exclusive_minimum else '['}{_num(low)}, {_num(high)}]"
                expect = f"in {bounds}"
            elif low is not None:
                expect = f"{'greater than' if attr.exclusive_minimum else 'at least'} {_num(low)}"
            else:
                expect = f"at most {_num(high or 0)}"
            self.report(error("CCAI207", f"`{name}` = {value.raw} is out of range: it must be "
                              f"{expect}", value.span, help=attr.doc))

    # --- expressions and references
    def check_expr(self, value: ast.Expr | ast.Condition, attr: Attr | None) -> None:
        for node in _walk_expr(value):
            if isinstance(node, ast.Reference):
                self.check_reference(node, attr)
            elif isinstance(node, ast.Interpolation):
                self.check_reference(node.reference, None, in_string=True)
            elif isinstance(node, ast.Call):
                self.check_call(node)
            elif isinstance(node, ast.RegexLit):
                self.check_regex(node)

    def check_reference(self, ref: ast.Reference, attr: Attr | None,
                        in_string: bool = False) -> None:
        head = ref.parts[0].name
        if head not in REFERENCE_KINDS:
            if len(ref.parts) == 1 and not in_string:
                self.report(error(
                    "CCAI203", f"unknown name `{head}`", ref.span,
                    help=f'strings need quotes: "{head}"; references look like var.<name> or '
                    "assembly.<name>"))
            else:
                self.report(error(
                    "CCAI203", f"unknown reference `{ref.dotted}`", ref.parts[0].span,
                    help=_suggest(head, REFERENCE_KINDS, "reference kind")))
            return
        if len(ref.parts) != 2:
            self.report(error(
                "CCAI203", f"`{ref.dotted}` is not a reference", ref.span,
                help=f"write {head}.<name>"))
            return
        name_ident = ref.parts[1]
        kind = "variable" if head == "var" else head
        if (kind, name_ident.name) not in self.program.symbols:
            known = [n for (t, n) in self.program.symbols if t == kind]
            self.report(error(
                "CCAI203", f"unresolved reference `{ref.dotted}`: no {kind} named "
                f"`{name_ident.name}`", name_ident.span,
                help=_suggest(name_ident.name, known, kind).replace("allowed here", "declared")
                if known else
                f"declare it: `{kind} \"{name_ident.name}\" {{ ... }}`"))
            return
        if kind == "variable":
            self.variable_uses[name_ident.name] = self.variable_uses.get(name_ident.name, 0) + 1

    def check_call(self, call: ast.Call) -> None:
        name = call.function.name
        if name not in FUNCTIONS:
            self.report(error("CCAI212", f"unknown function `{name}`", call.function.span,
                              help=_suggest(name, FUNCTIONS, "function")))
            return
        if len(call.args) != 1 or not isinstance(call.args[0], (ast.StringLit, ast.Reference)):
            self.report(error("CCAI212", f"`{name}` takes one path argument", call.span,
                              help=FUNCTIONS[name]))

    def check_regex(self, regex: ast.RegexLit) -> None:
        flags = 0
        known = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
        for index, f in enumerate(regex.flags):
            if f not in known:
                column = regex.span.end_column - len(regex.flags) + index
                self.report(error(
                    "CCAI208", f"unknown regex flag `{f}`",
                    Span(file=regex.span.file, line=regex.span.end_line, column=column,
                         end_line=regex.span.end_line, end_column=column + 1),
                    help="the flags are i (ignore case), m (multi-line), s (dot matches "
                    "newline) and x (verbose)"))
                return
            flags |= known[f]
        if len(set(regex.flags)) != len(regex.flags):
            self.report(error("CCAI208", f"repeated regex flag in `{regex.flags}`", regex.span,
                              help="each of i, m, s, x at most once"))
        try:
            re.compile(regex.pattern, flags)
        except re.error as exc:
            pos = exc.pos if exc.pos is not None else 0
            start = regex.span.column + 1 + min(pos, len(regex.pattern))
            span = Span(file=regex.span.file, line=regex.span.line, column=start,
                        end_line=regex.span.line, end_column=start + 1,
                        offset=regex.span.offset + 1 + pos, end_offset=regex.span.offset + 2 + pos)
            self.report(error("CCAI208", f"invalid regex: {exc.msg}", span,
                              help="regexes use Python's `re` syntax; escape / as \\/"))

    # --- rules
    def check_rule(self, rule: ast.Rule, spec: BlockSpec, block: ast.Block) -> None:
        if not spec.rules:
            self.report(error(
                "CCAI214", f"moderation rules are not allowed in {_describe(block)}", rule.span,
                help="put rules in an assembly's `moderation { ... }` block"))
            return
        if rule.subject not in spec.rules:
            self.report(error(
                "CCAI214", f"rules in {_describe(block)} can only act on "
                + " and ".join(spec.rules), rule.span,
                help="participants are moderated in the assembly's moderation block"))
            return
        if block.type.name == "constitution" and not (
                rule.action == "drop" and isinstance(rule.clause, ast.ListedClause)):
            self.report(error(
                "CCAI214", "a constitution can only drop listed statements", rule.span,
                help='write `drop statements listed in [12, 40] because "..."`; filter by '
                "condition in the assembly's moderation block"))
        if isinstance(rule.clause, ast.WhereClause):
            self.check_condition(rule.clause.condition, rule.subject)
        else:
            source = rule.clause.source
            self.check_expr(source, None)
            if not isinstance(source, (ast.ListLit, ast.Call, ast.Reference)):
                self.report(error(
                    "CCAI206", f"`listed in` needs a list or a file, not {_expr_kind(source)}",
                    source.span, help='write `listed in [1, 2]` or `listed in file("ids.csv")`'))

    def check_condition(self, cond: ast.Condition, subject: str) -> None:
        fields = RULE_FIELDS[subject]
        for test in ast.boolean_positions(cond):
            if isinstance(test, (ast.NumberLit, ast.StringLit)):
                self.report(error(
                    "CCAI206", f"a condition must be true or false, not {_expr_kind(test)}",
                    test.span, help="compare a field, e.g. `votes <= 25` or `moderated == 1`"))
            elif isinstance(test, ast.FieldRef) and fields.get(test.name, "bool") != "bool":
                self.report(error(
                    "CCAI206", f"`{test.name}` is not true or false on its own", test.span,
                    help=f"compare it, e.g. `{test.name} == ...`"))
        for node in _walk_condition(cond):
            if isinstance(node, ast.FieldRef):
                if node.name not in fields:
                    self.report(error(
                        "CCAI202", f"unknown field `{node.name}` for {subject}", node.span,
                        help=_suggest(node.name, fields, "field")))
            elif isinstance(node, ast.Matches):
                self.check_regex(node.regex)
                left = node.left
                if isinstance(left, ast.FieldRef) and fields.get(left.name) not in (None, "string",
                                                                                   "any"):
                    self.report(error(
                        "CCAI206", f"`{left.name}` is a {fields[left.name]}; `matches` tests text",
                        node.span,
                        help="use `matches` on `text`; compare numbers with == < <= ..."))
            elif isinstance(node, ast.Compare):
                self.check_compare(node, fields)
                for side in (node.left, node.right):  # `id == "${var.s}"`: var.s is used
                    if isinstance(side, ast.StringLit) and not side.is_constant:
                        self.check_expr(side, None)
            elif isinstance(node, ast.Member):
                self.check_expr(node.collection, None)

    def check_compare(self, node: ast.Compare, fields: dict[str, str]) -> None:
        if isinstance(node.right, ast.NullLit) and node.op not in ("==", "!="):
            self.report(error(
                "CCAI206", f"null has no order: `{node.op} null` is never true", node.span,
                help="test for a missing value with `== null` or `!= null`"))
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if not isinstance(side, ast.FieldRef) or side.name not in fields:
                continue
            ftype = fields[side.name]
            if ftype == "number" and isinstance(other, (ast.StringLit, ast.BoolLit,
                                                        ast.NullLit)):
                self.report(error(
                    "CCAI206", f"`{side.name}` is a number, compared with {_expr_kind(other)}",
                    other.span, help=f"compare with a number, e.g. {side.name} >= 7"))
            elif ftype == "string" and node.op not in ("==", "!=") :
                self.report(error(
                    "CCAI206", f"`{side.name}` is text: it can only be compared with == or !=",
                    node.span, help="use `matches /regex/` to test text"))
            elif ftype == "bool" and not isinstance(other, ast.BoolLit):
                self.report(error(
                    "CCAI206", f"`{side.name}` is true or false, compared with "
                    f"{_expr_kind(other)}", other.span, help=f"write `{side.name} == true`"))

    # --- block-level meaning
    def check_block_semantics(self, block: ast.Block, attrs: dict[str, ast.Attribute]) -> None:
        kind = block.type.name
        if kind in _PLUG_INS and block.labels:
            self.check_plug_in(block, attrs)
        if kind == "assembly" and not block.blocks("source"):
            self.report(error(
                "CCAI209", f"{_describe(block)} has no `source`", block.type.span,
                help="say where the votes come from, e.g. `source polis { path = var.data }`"))
        if kind == "consensus" and "threshold" not in attrs and "top_k" not in attrs:
            self.report(error(
                "CCAI209", "consensus needs `threshold`, `top_k` or both", block.type.span,
                help="e.g. `threshold = 0.723` selects statements scoring at least 0.723"))
        if kind == "consensus" and block.labels:
            self.diagnostics.extend(consensus_diagnostics(block, attrs))
        if kind == "moderation" and "duplicate_similarity" in attrs and \
                not _tests_duplicates(block):
            self.report(warning(
                "CCAI217", "`duplicate_similarity` is ignored without a rule on `duplicate_of`",
                attrs["duplicate_similarity"].name.span,
                help="it is the threshold of statement rules that test `duplicate_of`, e.g. "
                "`drop statements where duplicate_of != null`; add one, or remove it"))
        if kind == "variable":
            self.check_variable(block, attrs)
        if kind == "stability" and "groupings" in attrs:
            self.check_groupings(attrs["groupings"].value)
        if kind == "plan" and not any(d.is_error and d.span is not None and
                                      d.span.file == block.span.file and
                                      block.span.offset <= d.span.offset < block.span.end_offset
                                      for d in self.diagnostics):
            # reads no file; lazy, as the lowering imports this module (Program, walk_expr).
            # The lowering reaches no assembly, train or torch (contract front-end).
            from ccaic.lowering.plan import plan_shape_diagnostics

            self.diagnostics.extend(plan_shape_diagnostics(block))

        if kind == "constitution":
            if "from" not in attrs and "extends" not in attrs and not block.blocks("principle"):
                self.report(error(
                    "CCAI209", f"{_describe(block)} has no principles", block.type.span,
                    help="render principles from an assembly (`from = assembly.<name>`), extend "
                    "another constitution, or write `principle \"id\" { text = \"...\" }` blocks"))
            if "template" in attrs and "from" not in attrs:
                self.report(warning(
                    "CCAI217", "`template` is unused without `from`", attrs["template"].name.span,
                    help="the template renders an assembly's selected statements"))

    def check_plug_in(self, block: ast.Block, attrs: dict[str, ast.Attribute]) -> None:
        """A `source` or `groups` block against its registry entry: CCAI209 for the attributes
        it needs (kmeans: `k`; polis_api: a server and a conversation or report id), CCAI217
        for an attribute of the block that this kind does not take (it would do nothing)."""
        registry, spelled, verb = _PLUG_INS[block.type.name]
        label = block.labels[0].value
        if label not in registry:
            return
        entry, subject = registry.entry(label), spelled.format(label)
        for names, example in entry.meta.get("needs", ()):
            if not any(name in attrs for name in names):
                listed = " or ".join(f"`{n}`" for n in names)
                self.report(error("CCAI209", f"{subject} {verb} {listed}", block.type.span,
                                  help=f"add {example}"))
        for name, attr in attrs.items():
            beside = entry.meta.get("with", {}).get(name)
            if name not in entry.attrs:
                taking = ", ".join(e.name for e in registry if name in e.attrs)
                why = entry.meta.get("ignores") or f"it is an attribute of {taking}"
                self.report(warning("CCAI217", f"`{name}` is ignored for {subject}",
                                    attr.name.span, help=f"{why}; remove `{name}`"))
            elif beside is not None and beside not in attrs:
                self.report(warning("CCAI217", f"`{name}` is ignored without `{beside}`",
                                    attr.name.span, help=f"`{name}` names a column of "
                                    f"`{beside}`; set `{beside}`, or remove `{name}`"))
            elif (over := entry.meta.get("unless", {}).get(name)) in attrs:
                self.report(warning("CCAI217", f"`{name}` is ignored beside `{over}`",
                                    attr.name.span, help=f"{subject} reads `{over}` then; "
                                    "remove one of them"))

    def check_groupings(self, value: ast.Expr) -> None:
        """`stability { groupings = [...] }` names: a registered grouping, or `<name>:K` for
        one that forces k (kmeans), K in the range a groups block's `k` allows."""
        k = SCHEMA["assembly"].blocks["groups"].attrs["k"]
        low, high = int(k.minimum or 2), int(k.maximum or 50)
        forced = forced_k()
        plain = tuple(n for n in GROUPINGS.names() if n not in forced)
        pattern = re.compile(f"({'|'.join(map(re.escape, forced))}):([0-9]+)")
        for item in value.items if isinstance(value, ast.ListLit) else ():
            if not (isinstance(item, ast.StringLit) and item.is_constant):
                continue
            named = pattern.fullmatch(item.constant) if forced else None
            if named and not low <= int(named[2]) <= high:
                self.report(error(
                    "CCAI207", f"grouping \"{item.constant}\" is out of range: K must be in "
                    f"[{low}, {high}]", item.span,
                    help=f"{named[1]}:K forms K groups; K runs from {low} to {high}, as `k` does "
                    "in a groups block"))
            elif not named and item.constant not in plain:
                hint = _suggest(item.constant, (*plain, *(f"{n}:3" for n in forced)), "grouping")
                for name in forced:
                    hint = hint.replace(f"`{name}:3`", f"`{name}:K` (K groups)")
                self.report(error("CCAI215", f"unknown grouping \"{item.constant}\"", item.span,
                                  help=hint))

    def check_variable(self, block: ast.Block, attrs: dict[str, ast.Attribute]) -> None:
        declared = attrs.get("type")
        default = attrs.get("default")
        if declared is None or default is None:
            return
        if not isinstance(declared.value, ast.Reference):
            return
        tname = declared.value.parts[0].name
        ok = {
            "string": (ast.StringLit,), "path": (ast.StringLit, ast.Call),
            "number": (ast.NumberLit,), "bool": (ast.BoolLit,), "list": (ast.ListLit,),
        }.get(tname)
        if ok and not isinstance(default.value, (*ok, ast.NullLit)):
            self.report(error(
                "CCAI206", f"default of a {tname} variable is {_expr_kind(default.value)}",
                default.value.span, notes=[Note(message="type declared here",
                                                span=declared.value.span)],
                help=f"give a {tname} default or change the type"))

    # --- cross-block
    def check_cycles(self) -> None:
        graph: dict[str, tuple[str, Span]] = {}
        for (kind, name), block in self.program.symbols.items():
            if kind != "constitution":
                continue
            extends = block.attributes().get("extends")
            if extends and isinstance(extends.value, ast.Reference) and \
                    len(extends.value.parts) == 2 and extends.value.parts[0].name == "constitution":
                graph[name] = (extends.value.parts[1].name, extends.value.span)
        reported: set[frozenset[str]] = set()
        for start in sorted(graph):
            path = [start]
            node = start
            while node in graph:
                node = graph[node][0]
                if node in path:
                    cycle = path[path.index(node):]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        first = cycle[0]
                        self.report(error(
                            "CCAI205", "cyclic reference: " + " -> ".join(
                                f"constitution.{n}" for n in [*cycle, cycle[0]]),
                            graph[first][1],
                            notes=[Note(message=f"constitution.{n} extends constitution."
                                        f"{graph[n][0]} here", span=graph[n][1])
                                   for n in cycle[1:]],
                            help="a constitution cannot extend itself, directly or not"))
                    break
                path.append(node)

    def check_unused_variables(self) -> None:
        for name, uses in sorted(self.variable_uses.items()):
            if uses == 0:
                block = self.program.symbols[("variable", name)]
                self.report(warning(
                    "CCAI210", f"variable `{name}` is never used", block.labels[0].span,
                    help=f"use it as var.{name}, or remove the variable block"))

    def run(self) -> list[Diagnostic]:
        self.collect_symbols()
        for tree in self.program.files.values():
            self.check_file(tree)
        self.check_cycles()
        self.check_unused_variables()
        return self.diagnostics


# The checker for each value type of ccaic.registry.attrs (types with a ":" dispatch on the prefix).
_TYPE_CHECKS: dict[str, Callable[[Checker, _Typed], None]] = {
    "string": Checker._check_string,
    "choice": Checker._check_choice,
    "choice_or_number": Checker._check_choice_or_number,
    "template": Checker._check_template_value,
    "path": Checker._check_path,
    "number": Checker._check_number,
    "int": Checker._check_number,
    "int_or_range": Checker._check_int_or_range,
    "bool": Checker._check_bool,
    "list:": Checker._check_list,
    "ref:": Checker._check_ref,
}


def _walk_expr(node: ast.Expr | ast.Condition) -> Iterator[object]:
    yield node
    if isinstance(node, ast.StringLit):
        yield from (p for p in node.parts if isinstance(p, ast.Interpolation))
    elif isinstance(node, ast.ListLit):
        for item in node.items:
            yield from _walk_expr(item)
    elif isinstance(node, ast.Call):
        for arg in node.args:
            yield from _walk_expr(arg)


walk_expr = _walk_expr  # every node of a value: references, interpolations, calls


def _walk_condition(cond: ast.Condition | ast.NullLit) -> Iterator[object]:
    yield cond
    if isinstance(cond, (ast.And, ast.Or)):
        for op in cond.operands:
            yield from _walk_condition(op)
    elif isinstance(cond, ast.Not):
        yield from _walk_condition(cond.operand)
    elif isinstance(cond, ast.Paren):
        yield from _walk_condition(cond.inner)
    elif isinstance(cond, (ast.Compare,)):
        yield from _walk_condition(cond.left)
        yield from _walk_condition(cond.right)
    elif isinstance(cond, (ast.Matches, ast.Member)):
        yield from _walk_condition(cond.left)


def quoted_number(text: str) -> str | None:
    """The number a string spells (`"0.5"` where a number was meant), None for other text."""
    stripped = text.strip()
    return stripped if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", stripped) else None


def _tests_duplicates(moderation: ast.Block) -> bool:
    """Whether a statement rule reads `duplicate_of` (the one use of `duplicate_similarity`:
    ccaic.assembly.stage finds near-duplicates only for such a rule)."""
    return any(isinstance(node, ast.FieldRef) and node.name == "duplicate_of"
               for rule in moderation.body
               if isinstance(rule, ast.Rule) and rule.subject == "statements"
               and isinstance(rule.clause, ast.WhereClause)
               for node in _walk_condition(rule.clause.condition))


def is_auto_merge(block: ast.Block) -> bool:
    """`merge auto { ... }`: the bare word `auto`, not a quoted merge id."""
    return (block.type.name == "merge" and len(block.labels) == 1
            and not block.labels[0].quoted and block.labels[0].value == "auto")


def _describe(block: ast.Block) -> str:
    if block.labels:
        return f"{block.type.name} \"{block.labels[0].value}\"" if block.labels[0].quoted else \
            f"{block.type.name} {block.labels[0].value}"
    return f"`{block.type.name}` block"


def _expr_kind(value: object) -> str:
    names: dict[type, str] = {
        ast.StringLit: "a string", ast.TemplateLit: "a template", ast.NumberLit: "a number",
        ast.BoolLit: "a boolean", ast.NullLit: "null", ast.RegexLit: "a regex",
        ast.RangeLit: "a range", ast.ListLit: "a list", ast.Reference: "a reference",
        ast.Call: "a function call", ast.FieldRef: "a field",
    }
    return names.get(type(value), "a value")


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_paths(paths: Sequence[str], stdin_text: str | None = None
                ) -> tuple[list[Program], list[Diagnostic]]:
    """Check each root file; diagnostics from all of them, in one run."""
    programs: list[Program] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        text = stdin_text if path == "-" else None
        program, load_diags = load_program(path if path != "-" else "<stdin>", text)
        diagnostics.extend(load_diags)
        diagnostics.extend(Checker(program).run())
        programs.append(program)
    return programs, _dedupe(diagnostics)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Imports shared by several roots are checked once per root; report them once."""
    seen: set[str] = set()
    out = []
    for d in diagnostics:
        key = d.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


__all__ = [
    "Checker",
    "Program",
    "check_paths",
    "did_you_mean",
    "load_program",
]
