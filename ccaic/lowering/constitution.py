"""ConstitutionSpec: a `constitution` block lowered, everything rendering reads from it.

`ccaic.lowering.lower_constitution` builds these from the checked AST (variables put in, every
default decided); `ccaic.constitution.render` renders them against the selected statements and
never reads the syntax. This module imports nothing of ccaic.syntax. Spans stay, so a
data-dependent failure (a template error, an id that was not selected) still points at the
.ccai line that caused it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ccaic.diagnostics import Span

#: The template of a `from = assembly.X` constitution that names none.
DEFAULT_TEMPLATE = "{{ statement.text | as_comparison }}"
#: Template filters that rewrite a statement's wording; one that cannot be rewritten mechanically
#: is flagged `needs_hand_edit`.
REWRITE_FILTERS = ("as_behaviour", "as_comparison")


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True)


class TemplateSpec(Spec):
    """A template's Jinja text (variables put in) and where its lines are in the .ccai file."""

    text: str
    span: Span
    #: line n of `text` is at lines[n - 1]; () when the text does not line up with the file
    #: (a variable's value, a string with `${...}`): every failure points at `span` then
    lines: tuple[Span, ...] = ()
    #: it calls a REWRITE_FILTERS filter (as written)
    rewrites: bool = False

    def locate(self, line: int | None) -> Span:
        """Where template line `line` (Jinja's count, None when unknown) is in the file."""
        if not line or not self.lines:
            return self.span
        return self.lines[min(max(line, 1), len(self.lines)) - 1]


class PrincipleSpec(Spec):
    """A hand-written `principle` block; critique and revision already defaulted."""

    id: str
    text: str
    critique: str
    revision: str
    weight: float = 1.0
    tags: tuple[str, ...] = ()


class DropSpec(Spec):
    """`drop statements listed in [...]`: selected statements left out of the constitution."""

    ids: tuple[str, ...]
    because: str | None = None
    span: Span


class MergeSpec(Spec):
    """`merge ID { statements = [...] text = "..." }`: selected statements as one principle."""

    id: str
    statements: tuple[str, ...]
    text: str
    reason: str | None = None
    span: Span
    label_span: Span


class AutoMergeSpec(Spec):
    """`merge auto { similarity = S }`: the build groups the selected statements by meaning."""

    similarity: float | None = None  # None: the matcher's default (constitution.merges)
    matcher: str  # default: check.schema.MERGE_AUTO
    span: Span


#: `draft { model = "feedback" }`: the plan's feedback model (resolved in lowering).
FEEDBACK = "feedback"


STYLE_EXAMPLES = 3


class DraftSpec(Spec):
    """`draft { model = "..." }`: principles drafted by a model, read from principles.lock.json."""

    model: str  # a model reference (ccaic.models.ref)
    judge: str | None = None  # a model reference for the entailment check
    similarity: float  # least similarity of a draft to each source; default: check.schema
    span: Span
    # the constitution's own hand-written principles (at most STYLE_EXAMPLES), shown to the
    # model as the style to draft in
    style: tuple[str, ...] = ()


class EditSpec(Spec):
    """`edit "ID" { text = "..." }`: a selected statement's principle, worded by hand."""

    id: str
    text: str | None = None
    reason: str | None = None
    span: Span


class FromAssemblySpec(Spec):
    """`from = assembly.X`: principles from X's selection, and the hand edits on them."""

    assembly: str
    span: Span  # the `from` attribute
    template: TemplateSpec  # DEFAULT_TEMPLATE at `span` when the block names none
    drops: tuple[DropSpec, ...] = ()
    merges: tuple[MergeSpec, ...] = ()
    auto_merge: AutoMergeSpec | None = None
    draft: DraftSpec | None = None
    edits: tuple[EditSpec, ...] = ()


class ConstitutionSpec(Spec):
    name: str
    description: str = ""
    file: str  # the .ccai file's name, for the hand-written origin
    extends: str | None = None  # a constitution whose principles come first
    source: FromAssemblySpec | None = None
    critique: TemplateSpec | None = None  # for principles from statements and merges
    revision: TemplateSpec | None = None
    principles: tuple[PrincipleSpec, ...] = ()
    label_span: Span  # the name: where two principles with one id point
    span: Span
