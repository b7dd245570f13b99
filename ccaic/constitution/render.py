"""Render `constitution` blocks into Constitutions: templates, hand edits, provenance.

Entry point: `build_constitutions(program, variables, selections)` where `selections` maps an
assembly name to its `SelectedStatements` (the select stage's output). Constitutions that
only hold hand-written principles need no selections. Templates run in the sandboxed
environment of ccaic.constitution.templates; the checker has already rejected escapes, so a
failure here is a data-dependent one and points at the template, naming the statement or principle:
CCAI306 (an error in an operator or filter), CCAI307 (a field it lacks), CCAI308 (a limit),
CCAI310 (a method printed as text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError

from ccaic.check.checker import Program
from ccaic.check.templates import line_span
from ccaic.check.variables import Value
from ccaic.constitution import rewrite, templates
from ccaic.constitution.model import (
    Constitution,
    DroppedStatement,
    Edit,
    Origin,
    Principle,
    Selection,
    StatementRef,
)
from ccaic.constitution.templates import Limits
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error
from ccaic.lowering.assembly import Env
from ccaic.syntax import ast

DEFAULT_TEMPLATE = "{{ statement.text | as_comparison }}"
#: Statement fields a StatementRef does not carry; SelectedStatements.fields has them.
STATEMENT_EXTRAS = ("author", "polarization", "adjusted_polarization")
REWRITE_FILTERS = ("as_behaviour", "as_comparison")


@dataclass(frozen=True)
class SelectedStatements:
    """What the select stage hands to rendering for one assembly."""

    assembly: str
    method: str
    threshold: float | None
    top_k: int | None
    statements: tuple[StatementRef, ...]  # selected, best first
    candidates: Mapping[str, StatementRef] = field(default_factory=dict)  # every scored statement
    summary: Mapping[str, Any] = field(default_factory=dict)
    # statement id -> the STATEMENT_EXTRAS fields (author, polarization, ...) for templates
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}"


Source = ast.StringLit | ast.TemplateLit | ast.Reference


def _template_source(expr: ast.Expr | None, env: Env) -> Source | None:
    """A template attribute's value when it is text: a literal, or a variable holding a string
    (`template = var.t`: ignored before, so the default template ran; its type is checked
    where it is used)."""
    if isinstance(expr, (ast.StringLit, ast.TemplateLit)):
        return expr
    if isinstance(expr, ast.Reference) and isinstance(env.value(expr), str):
        return expr
    return None


def _source_text(source: Source, env: Env) -> str:
    if isinstance(source, ast.TemplateLit):
        return source.text
    if isinstance(source, ast.Reference):
        return str(env.value(source))
    return env.string(source)


def _render(source: Source, context: Mapping[str, Any], env: Env,
            subject: str, limits: Limits) -> str:
    text = _source_text(source, env)
    if isinstance(source, ast.Reference):
        return _render_text(text, lambda _: source.span, context, subject, limits)
    lines_match = isinstance(source, ast.TemplateLit) or source.is_constant
    return _render_text(text, lambda n: line_span(source, n) if n and lines_match
                        else source.span, context, subject, limits)


def _render_text(text: str, locate: Callable[[int | None], Span], context: Mapping[str, Any],
                 subject: str, limits: Limits) -> str:
    """The template rendered for `subject` ("statement 40"); any failure is a diagnostic at the
    template line that failed, naming the subject, never a traceback or the text "None"."""
    try:
        return templates.render(text, context, limits)
    except Exception as exc:  # a template is user code: whatever it raises is the user's
        span = locate(templates.failed_line(exc))
        raise DiagnosticError([_failure(exc, span, subject)]) from None


def _failure(exc: Exception, span: Span, subject: str) -> Diagnostic:
    """The diagnostic for a template that raised `exc` while rendering `subject`."""
    if isinstance(exc, templates.LimitExceeded):
        return error("CCAI308", f"template for {subject} went past a limit: {exc}", span,
                     help="templates are bounded (docs/limits.md, Templates); make it "
                     f"shorter, or raise the limit with ${exc.setting}")
    if isinstance(exc, templates.MissingValueError):
        path = exc.path or "value"
        return error("CCAI307", f"template for {subject} uses a value that is not there: {exc}",
                     span, help=f"guard it: {{% if {path} %}}...{{% endif %}}, or give a "
                     f'fallback: {{{{ {path} | default("...") }}}}')
    if isinstance(exc, templates.NotAValue):
        return error("CCAI310", f"template for {subject}: {exc}", span,
                     help="templates print data: fields, filter results and the methods "
                     "listed in docs/language.md")
    message = str(exc) if isinstance(exc, TemplateError) else \
        f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return error("CCAI306", f"template failed to render {subject}: {message}", span,
                 help="the template works on some values but not this one: check the "
                 "filters' arguments and the types of the fields it combines "
                 "(docs/language.md, Template contexts)")


def _statement_context(ref: StatementRef, extra: Mapping[str, Any]) -> dict[str, Any]:
    """Every documented statement field; one this statement lacks is a Missing value."""
    data = ref.model_dump()
    data["score"] = ref.gac
    data["votes"] = sum(v or 0 for v in (ref.agrees, ref.disagrees, ref.passes))
    for name in STATEMENT_EXTRAS:
        data[name] = extra.get(name)
    return templates.present("statement", data)


def _needs_hand_edit(template: str, statement_text: str) -> bool:
    if not any(f in template for f in REWRITE_FILTERS):
        return False
    return rewrite.needs_hand_edit(statement_text)


def _default(kind: str, text: str) -> str:
    """Critique and revision requests derived from the principle's own wording."""
    return rewrite.as_critique(text) if kind == "as_critique" else rewrite.as_revision(text)


def _string_attr(block: ast.Block, name: str, env: Env) -> str | None:
    attr = block.attributes().get(name)
    if attr is None:
        return None
    if isinstance(attr.value, ast.StringLit):
        return env.string(attr.value)
    value = env.value(attr.value) if isinstance(attr.value, ast.Reference) else None
    return value if isinstance(value, str) else None  # `text = var.t` was the empty text


class Renderer:
    def __init__(self, program: Program, variables: dict[str, Value],
                 selections: Mapping[str, SelectedStatements], limits: Limits | None = None):
        self.program = program
        self.limits = limits or Limits()
        self.env = Env(variables)
        self.selections = selections
        self.done: dict[str, Constitution] = {}
        self.diagnostics: list[Diagnostic] = []

    def prompts(self, block: ast.Block, principle_id: str, text: str,
                statements: list[str], name: str) -> tuple[str, str]:
        """The principle's critique and revision requests: the block's templates, or defaults."""
        context = {"principle": templates.present("principle", {
                       "id": principle_id, "text": text, "weight": 1.0, "tags": [],
                       "statements": statements}),
                   "constitution": {"name": name}}
        attrs = block.attributes()
        out = []
        for kind in ("critique", "revision"):
            attr = attrs.get(kind)
            source = _template_source(attr.value if attr is not None else None, self.env)
            if source is not None:
                out.append(_render(source, context, self.env,
                                   f"the {kind} of principle {principle_id}", self.limits))
            else:
                out.append(_default(f"as_{kind}", text))
        return out[0], out[1]

    def constitution(self, name: str) -> Constitution:
        if name in self.done:
            return self.done[name]
        block = self.program.symbols[("constitution", name)]
        result = self._render(block, name)
        self.done[name] = result
        return result

    def _render(self, block: ast.Block, name: str) -> Constitution:
        attrs = block.attributes()
        principles: list[Principle] = []
        origin = Origin(kind="hand-written", source=block.span.file.rsplit("/", 1)[-1])
        selection: Selection | None = None
        dropped: list[DroppedStatement] = []
        extends = attrs.get("extends")
        if extends is not None and isinstance(extends.value, ast.Reference):
            parent = self.constitution(extends.value.parts[1].name)
            principles.extend(p.model_copy(update={"address": f"principle.{name}.{p.id}"})
                              for p in parent.principles)
        source = attrs.get("from")
        if source is not None and isinstance(source.value, ast.Reference):
            assembly = source.value.parts[1].name
            chosen = self.selections.get(assembly)
            if chosen is None:
                raise DiagnosticError([error(
                    "CCAI451", f"assembly `{assembly}` has no selection to render", source.span,
                    help="build the assembly first (ccaic build runs the stages in order)")])
            origin = Origin(kind="assembly", source=assembly)
            rendered, dropped = self._from_statements(block, name, chosen)
            principles.extend(rendered)
            selection = Selection(method=chosen.method, threshold=chosen.threshold,
                                  top_k=chosen.top_k, statements=chosen.statements)
        for child in block.blocks("principle"):
            principles.append(self._hand_written(child, name))
        seen: dict[str, Principle] = {}
        for p in principles:
            if p.id in seen:
                self.diagnostics.append(error(
                    "CCAI452", f"two principles of constitution `{name}` have the id `{p.id}`",
                    block.labels[0].span, help="rename one of them (principle ids are addresses)"))
            seen[p.id] = p
        return Constitution(
            name=name, description=_string_attr(block, "description", self.env) or "",
            origin=origin, principles=tuple(principles), selection=selection,
            dropped=tuple(dropped))

    def _hand_written(self, child: ast.Block, name: str) -> Principle:
        pid = child.labels[0].value
        text = _string_attr(child, "text", self.env) or ""
        weight_attr = child.attributes().get("weight")
        # through env.value: `weight = var.w` and `tags = var.t` were 1.0 and () before
        weight = self.env.value(weight_attr.value) if weight_attr is not None else None
        weight = float(weight) if isinstance(weight, (int, float)) and not isinstance(
            weight, bool) else 1.0
        tags_attr = child.attributes().get("tags")
        tag_values = self.env.value(tags_attr.value) if tags_attr is not None else None
        tags = tuple(t for t in tag_values if isinstance(t, str)) if isinstance(
            tag_values, list) else ()
        critique = _string_attr(child, "critique", self.env) or _default("as_critique", text)
        revision = _string_attr(child, "revision", self.env) or _default("as_revision", text)
        return Principle(address=f"principle.{name}.{pid}", id=pid, text=text, critique=critique,
                         revision=revision, weight=weight, tags=tags)

    def _from_statements(self, block: ast.Block, name: str, chosen: SelectedStatements
                         ) -> tuple[list[Principle], list[DroppedStatement]]:
        attrs = block.attributes()
        template = attrs.get("template")
        template_value = _template_source(template.value if template is not None else None,
                                          self.env)
        template_text = (template_value.raw if isinstance(template_value, ast.StringLit)
                         else _source_text(template_value, self.env)
                         if template_value is not None else DEFAULT_TEMPLATE)
        selected = {s.id: s for s in chosen.statements}
        order = [s.id for s in chosen.statements]
        summary = templates.present("assembly", dict(chosen.summary) | {"name": chosen.assembly})

        drops: dict[str, tuple[str | None, Span]] = {}
        for rule in (i for i in block.body if isinstance(i, ast.Rule)):
            if not isinstance(rule.clause, ast.ListedClause):
                continue
            because = self.env.string(rule.because) if rule.because else None
            ids = self.env.value(rule.clause.source)
            for sid in ids if isinstance(ids, list) else []:
                self._require_selected(str(sid), selected, chosen, rule.span, "drop")
                drops[str(sid)] = (because, rule.span)
        merged: dict[str, ast.Block] = {}
        for merge in block.blocks("merge"):
            ids_value = self.env.value(merge.attributes()["statements"].value)
            for sid in ids_value if isinstance(ids_value, list) else []:
                sid = str(sid)
                self._require_selected(sid, selected, chosen, merge.span, "merge")
                if sid in merged:
                    self.diagnostics.append(error(
                        "CCAI453", f"statement {sid} is merged twice", merge.labels[0].span,
                        notes=[Note(message="first merged here", span=merged[sid].labels[0].span)],
                        help="a statement can feed one merged principle"))
                merged[sid] = merge
        overrides = {}
        for edit in block.blocks("edit"):
            sid = edit.labels[0].value
            self._require_selected(sid, selected, chosen, edit.span, "edit")
            overrides[sid] = edit

        principles: list[Principle] = []
        dropped: list[DroppedStatement] = []
        emitted_merges: set[str] = set()
        for sid in order:
            ref = selected[sid]
            if sid in drops:
                dropped.append(DroppedStatement(id=sid, text=ref.text, because=drops[sid][0]))
                continue
            if sid in merged:
                merge = merged[sid]
                mid = merge.labels[0].value
                if mid in emitted_merges:
                    continue
                emitted_merges.add(mid)
                principles.append(self._merged(merge, name, selected))
                continue
            context = {"statement": _statement_context(ref, chosen.fields.get(sid, {})),
                       "assembly": summary, "constitution": {"name": name}}
            subject = f"statement {sid}"
            text = _render(template_value, context, self.env, subject, self.limits) \
                if template_value is not None else _render_text(
                    DEFAULT_TEMPLATE, lambda _: attrs["from"].span, context, subject, self.limits)
            edits: tuple[Edit, ...] = ()
            needs_edit = _needs_hand_edit(template_text, ref.text)
            if sid in overrides:
                edit = overrides[sid]
                before, text = text, _string_attr(edit, "text", self.env) or text
                edits = (Edit(kind="override", because=_string_attr(edit, "reason", self.env),
                              location=_where(edit.span), before=before),)
                needs_edit = False
            pid = f"s{sid}"
            critique, revision = self.prompts(block, pid, text, [sid], name)
            principles.append(Principle(
                address=f"principle.{name}.{pid}", id=pid, text=text, critique=critique,
                revision=revision, sources=(ref,), edits=edits, needs_hand_edit=needs_edit))
        return principles, dropped

    def _merged(self, merge: ast.Block, name: str, selected: Mapping[str, StatementRef]
                ) -> Principle:
        mid = merge.labels[0].value
        ids_value = self.env.value(merge.attributes()["statements"].value)
        ids = [str(s) for s in ids_value] if isinstance(ids_value, list) else []
        text = _string_attr(merge, "text", self.env) or ""
        because = _string_attr(merge, "reason", self.env)
        critique, revision = self.prompts(self.program.symbols[("constitution", name)], mid,
                                          text, ids, name)
        return Principle(
            address=f"principle.{name}.{mid}", id=mid, text=text, critique=critique,
            revision=revision, sources=tuple(selected[s] for s in ids if s in selected),
            edits=(Edit(kind="merge", because=because, location=_where(merge.span)),))

    def _require_selected(self, sid: str, selected: Mapping[str, StatementRef],
                          chosen: SelectedStatements, span: Span, what: str) -> None:
        if sid in selected:
            return
        known = sid in chosen.candidates
        self.diagnostics.append(error(
            "CCAI451", f"{what} names statement {sid}, which "
            + ("was not selected" if known else "the assembly does not have"), span,
            help="edits, merges and drops apply to selected statements; see the assembly's "
            "selection in the build output" if known else "check the statement id"))


def build_constitutions(program: Program, variables: dict[str, Value],
                        selections: Mapping[str, SelectedStatements]
                        ) -> tuple[list[Constitution], list[Diagnostic]]:
    """Every constitution in the program, rendered; diagnostics for data-dependent problems."""
    try:
        limits = templates.limits_from_env()
    except templates.LimitSettingError as exc:
        return [], [error("CCAI308", str(exc), help="set it to a positive number, or unset it "
                          "for the default (docs/limits.md, Templates)")]
    renderer = Renderer(program, variables, selections, limits)
    out: list[Constitution] = []
    for block in program.blocks("constitution"):
        try:
            out.append(renderer.constitution(block.labels[0].value))
        except DiagnosticError as exc:
            renderer.diagnostics.extend(exc.diagnostics)
    return out, renderer.diagnostics
