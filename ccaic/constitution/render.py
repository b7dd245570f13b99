"""Render `constitution` blocks into Constitutions: templates, hand edits, provenance.

Entry point: `build_constitutions(program, variables, selections)` where `selections` maps an
assembly name to its `SelectedStatements` (the select stage's output). Constitutions that
only hold hand-written principles need no selections. Templates run in the sandboxed
environment of ccaic.templates; the checker has already rejected escapes, so a failure here
is a data-dependent one (CCAI306) and points at the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError

from ccaic import rewrite
from ccaic.check.checker import Program
from ccaic.check.variables import Value
from ccaic.constitution.model import (
    Constitution,
    DroppedStatement,
    Edit,
    Origin,
    Principle,
    Selection,
    StatementRef,
)
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error
from ccaic.spec import Env
from ccaic.syntax import ast
from ccaic.templates import environment

DEFAULT_TEMPLATE = "{{ statement.text | as_comparison }}"
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


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}"


def _render(source: ast.StringLit | ast.TemplateLit, context: Mapping[str, Any],
            env: Env) -> str:
    text = source.text if isinstance(source, ast.TemplateLit) else env.string(source)
    try:
        return environment().from_string(text).render(**context).strip()
    except TemplateError as exc:
        raise DiagnosticError([error(
            "CCAI306", f"template failed to render: {exc}", source.span,
            help="this statement lacks a value the template uses; guard optional fields with "
            "{% if statement.x is defined %} ... {% endif %} or use `| default(...)`")]) from None


def _statement_context(ref: StatementRef) -> dict[str, Any]:
    data = ref.model_dump()
    data["score"] = ref.gac
    data["votes"] = sum(v or 0 for v in (ref.agrees, ref.disagrees, ref.passes))
    data.setdefault("author", None)
    data.setdefault("polarization", None)
    data.setdefault("adjusted_polarization", None)
    return data


def _needs_hand_edit(template: str, statement_text: str) -> bool:
    if not any(f in template for f in REWRITE_FILTERS):
        return False
    return rewrite.needs_hand_edit(statement_text)


def _prompts(block: ast.Block, principle_id: str, text: str, weight: float,
             tags: tuple[str, ...], statements: list[str], name: str,
             env: Env) -> tuple[str, str]:
    attrs = block.attributes()
    context = {"principle": {"id": principle_id, "text": text, "weight": weight,
                             "tags": list(tags), "statements": statements},
               "constitution": {"name": name}}
    critique_attr, revision_attr = attrs.get("critique"), attrs.get("revision")
    critique = _render(critique_attr.value, context, env) if critique_attr and isinstance(
        critique_attr.value, (ast.StringLit, ast.TemplateLit)) else _default("as_critique", text)
    revision = _render(revision_attr.value, context, env) if revision_attr and isinstance(
        revision_attr.value, (ast.StringLit, ast.TemplateLit)) else _default("as_revision", text)
    return critique, revision


def _default(kind: str, text: str) -> str:
    """Critique and revision requests derived from the principle's own wording."""
    return rewrite.as_critique(text) if kind == "as_critique" else rewrite.as_revision(text)


def _string_attr(block: ast.Block, name: str, env: Env) -> str | None:
    attr = block.attributes().get(name)
    if attr is None or not isinstance(attr.value, ast.StringLit):
        return None
    return env.string(attr.value)


class Renderer:
    def __init__(self, program: Program, variables: dict[str, Value],
                 selections: Mapping[str, SelectedStatements]):
        self.program = program
        self.env = Env(variables)
        self.selections = selections
        self.done: dict[str, Constitution] = {}
        self.diagnostics: list[Diagnostic] = []

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
        weight = float(weight_attr.value.value) if weight_attr is not None and isinstance(
            weight_attr.value, ast.NumberLit) else 1.0
        tags_attr = child.attributes().get("tags")
        tags = tuple(self.env.string(t) for t in tags_attr.value.items
                     if isinstance(t, ast.StringLit)) if tags_attr is not None and isinstance(
            tags_attr.value, ast.ListLit) else ()
        critique = _string_attr(child, "critique", self.env) or _default("as_critique", text)
        revision = _string_attr(child, "revision", self.env) or _default("as_revision", text)
        return Principle(address=f"principle.{name}.{pid}", id=pid, text=text, critique=critique,
                         revision=revision, weight=weight, tags=tags)

    def _from_statements(self, block: ast.Block, name: str, chosen: SelectedStatements
                         ) -> tuple[list[Principle], list[DroppedStatement]]:
        attrs = block.attributes()
        template = attrs.get("template")
        template_value: ast.StringLit | ast.TemplateLit | None = (
            template.value if template is not None and isinstance(
                template.value, (ast.StringLit, ast.TemplateLit)) else None)
        template_text = (template_value.text if isinstance(template_value, ast.TemplateLit)
                         else template_value.raw if template_value is not None
                         else DEFAULT_TEMPLATE)
        selected = {s.id: s for s in chosen.statements}
        order = [s.id for s in chosen.statements]
        summary = dict(chosen.summary) | {"name": chosen.assembly}

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
            context = {"statement": _statement_context(ref), "assembly": summary,
                       "constitution": {"name": name}}
            text = (_render(template_value, context, self.env) if template_value is not None
                    else environment().from_string(DEFAULT_TEMPLATE).render(**context).strip())
            edits: tuple[Edit, ...] = ()
            needs_edit = _needs_hand_edit(template_text, ref.text)
            if sid in overrides:
                edit = overrides[sid]
                before, text = text, _string_attr(edit, "text", self.env) or text
                edits = (Edit(kind="override", because=_string_attr(edit, "reason", self.env),
                              location=_where(edit.span), before=before),)
                needs_edit = False
            pid = f"s{sid}"
            critique, revision = _prompts(block, pid, text, 1.0, (), [sid], name, self.env)
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
        critique, revision = _prompts(self.program.symbols[("constitution", name)], mid, text,
                                      1.0, (), ids, name, self.env)
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
    renderer = Renderer(program, variables, selections)
    out: list[Constitution] = []
    for block in program.blocks("constitution"):
        try:
            out.append(renderer.constitution(block.labels[0].value))
        except DiagnosticError as exc:
            renderer.diagnostics.extend(exc.diagnostics)
    return out, renderer.diagnostics
