"""`constitution` blocks lowered: a checked program and its variable values in, ConstitutionSpecs
out, so rendering never reads the AST.

Values go through the one Env: `text = var.t` is the variable's text, `weight = var.w` its number,
a `template = var.t` holding a string is a template (its failures point at the reference), any
other value is the default (the empty text, weight 1.0, no tags, DEFAULT_TEMPLATE).
"""

from __future__ import annotations

from ccaic.check.checker import Program, is_auto_merge
from ccaic.check.schema import MERGE_AUTO, SCHEMA
from ccaic.check.templates import line_span
from ccaic.check.variables import Value
from ccaic.constitution import rewrite
from ccaic.diagnostics import Span
from ccaic.lowering.constitution import (
    DEFAULT_TEMPLATE,
    FEEDBACK,
    REWRITE_FILTERS,
    STYLE_EXAMPLES,
    AutoMergeSpec,
    ConstitutionSpec,
    DraftSpec,
    DropSpec,
    EditSpec,
    FromAssemblySpec,
    MergeSpec,
    PrincipleSpec,
    TemplateSpec,
)
from ccaic.lowering.env import Env
from ccaic.syntax import ast


def lower_constitutions(program: Program, variables: dict[str, Value]
                        ) -> list[ConstitutionSpec]:
    """Every constitution of the program, in the order the program declares them."""
    env = Env(variables)
    specs = [lower_constitution(block, env) for block in program.blocks("constitution")]
    return [_feedback_drafter(spec, program, env) for spec in specs]


def _feedback_drafter(spec: ConstitutionSpec, program: Program, env: Env) -> ConstitutionSpec:
    """`draft { model = "feedback" }`: the feedback model (default: the model) of the plan that
    trains this constitution, so the drafts' key changes when it does. With no such plan it
    stays "feedback", which drafting reports (CCAI484)."""
    draft = spec.source.draft if spec.source else None
    if draft is None or draft.model != FEEDBACK or spec.source is None:
        return spec
    for plan in program.blocks("plan"):
        target = plan.attributes().get("constitution")
        value = target.value if target is not None else None
        if isinstance(value, ast.Reference) and value.parts[-1].name == spec.name:
            ref = _string_attr(plan, "feedback_model", env) or _string_attr(plan, "model", env)
            source = spec.source.model_copy(update={"draft": draft.model_copy(
                update={"model": ref or "builtin:tiny"})})
            return spec.model_copy(update={"source": source})
    return spec


def lower_constitution(block: ast.Block, env: Env) -> ConstitutionSpec:
    attrs = block.attributes()
    extends = attrs.get("extends")
    source = attrs.get("from")
    return ConstitutionSpec(
        name=block.labels[0].value,
        description=_string_attr(block, "description", env) or "",
        file=block.span.file.rsplit("/", 1)[-1],
        extends=extends.value.parts[1].name if extends is not None
        and isinstance(extends.value, ast.Reference) else None,
        source=_from_assembly(block, source.value.parts[1].name, source.span, env)
        if source is not None and isinstance(source.value, ast.Reference) else None,
        critique=_template(_value(attrs.get("critique")), env),
        revision=_template(_value(attrs.get("revision")), env),
        principles=tuple(_principle(child, env) for child in block.blocks("principle")),
        label_span=block.labels[0].span, span=block.span)


def _value(attr: ast.Attribute | None) -> ast.Expr | None:
    return attr.value if attr is not None else None


def _string_attr(block: ast.Block, name: str, env: Env) -> str | None:
    attr = block.attributes().get(name)
    if attr is None:
        return None
    if isinstance(attr.value, ast.StringLit):
        return env.string(attr.value)
    value = env.value(attr.value) if isinstance(attr.value, ast.Reference) else None
    return value if isinstance(value, str) else None  # `text = var.t` was the empty text


def _rewrites(text: str) -> bool:
    return any(f in text for f in REWRITE_FILTERS)


def _lines(value: ast.StringLit | ast.TemplateLit) -> tuple[Span, ...]:
    """Where each line of a template literal is (raw text: columns line up with the file)."""
    text = value.text if isinstance(value, ast.TemplateLit) else value.raw[1:-1]
    return tuple(line_span(value, n) for n in range(1, text.count("\n") + 2))


def _template(expr: ast.Expr | None, env: Env) -> TemplateSpec | None:
    """A template attribute's value when it is text: a literal, or a variable holding a string
    (`template = var.t`: ignored before, so the default template ran; its type is checked
    where it is used)."""
    if isinstance(expr, ast.TemplateLit):
        return TemplateSpec(text=expr.text, span=expr.span, lines=_lines(expr),
                            rewrites=_rewrites(expr.text))
    if isinstance(expr, ast.StringLit):
        return TemplateSpec(text=env.string(expr), span=expr.span,
                            lines=_lines(expr) if expr.is_constant else (),
                            rewrites=_rewrites(expr.raw))
    value = env.value(expr) if isinstance(expr, ast.Reference) else None
    if isinstance(value, str) and expr is not None:
        return TemplateSpec(text=value, span=expr.span, rewrites=_rewrites(value))
    return None


def _ids(value: Value) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _from_assembly(block: ast.Block, assembly: str, span: Span, env: Env) -> FromAssemblySpec:
    """`from = assembly.X` (at `span`): the template, drops, merges and edits of the block."""
    template = _template(_value(block.attributes().get("template")), env) or TemplateSpec(
        text=DEFAULT_TEMPLATE, span=span, rewrites=_rewrites(DEFAULT_TEMPLATE))
    drops = tuple(
        DropSpec(ids=_ids(env.value(rule.clause.source)), span=rule.span,
                 because=env.string(rule.because) if rule.because else None)
        for rule in block.body
        if isinstance(rule, ast.Rule) and isinstance(rule.clause, ast.ListedClause))
    merges = tuple(
        MergeSpec(id=m.labels[0].value, statements=_ids(env.value(
                      m.attributes()["statements"].value)),
                  text=_string_attr(m, "text", env) or "",
                  reason=_string_attr(m, "reason", env), span=m.span,
                  label_span=m.labels[0].span)
        for m in block.blocks("merge") if not is_auto_merge(m))
    edits = tuple(
        EditSpec(id=e.labels[0].value, text=_string_attr(e, "text", env),
                 reason=_string_attr(e, "reason", env), span=e.span)
        for e in block.blocks("edit"))
    return FromAssemblySpec(assembly=assembly, span=span, template=template, drops=drops,
                            merges=merges, auto_merge=_auto_merge(block, env),
                            draft=_draft(block, env), edits=edits)


def _draft(block: ast.Block, env: Env) -> DraftSpec | None:
    found = block.blocks("draft")
    if not found:
        return None
    attrs = found[0].attributes()
    default = SCHEMA["constitution"].blocks["draft"].attrs["similarity"].default
    value = env.value(attrs["similarity"].value) if "similarity" in attrs else default
    similarity = value if isinstance(value, (int, float)) else default
    style = tuple(_string_attr(p, "text", env) or "" for p in block.blocks("principle"))
    return DraftSpec(model=_string_attr(found[0], "model", env) or "",
                     judge=_string_attr(found[0], "judge", env),
                     similarity=float(similarity), span=found[0].span,  # type: ignore[arg-type]
                     style=style[:STYLE_EXAMPLES])


def _auto_merge(block: ast.Block, env: Env) -> AutoMergeSpec | None:
    auto = next((m for m in block.blocks("merge") if is_auto_merge(m)), None)
    if auto is None:
        return None
    attrs = auto.attributes()
    similarity = env.value(attrs["similarity"].value) if "similarity" in attrs else None
    matcher = (env.value(attrs["matcher"].value) if "matcher" in attrs
               else MERGE_AUTO.attrs["matcher"].default)
    return AutoMergeSpec(similarity=float(similarity) if isinstance(similarity, (int, float))
                         else None, matcher=str(matcher), span=auto.span)


def _principle(child: ast.Block, env: Env) -> PrincipleSpec:
    """A hand-written principle; `weight = var.w` and `tags = var.t` are their values (they
    were 1.0 and () before), critique and revision default to the text's own wording."""
    text = _string_attr(child, "text", env) or ""
    weight = env.value(child.attributes()["weight"].value) \
        if "weight" in child.attributes() else None
    tags = env.value(child.attributes()["tags"].value) if "tags" in child.attributes() else None
    return PrincipleSpec(
        id=child.labels[0].value, text=text,
        critique=_string_attr(child, "critique", env) or rewrite.as_critique(text),
        revision=_string_attr(child, "revision", env) or rewrite.as_revision(text),
        weight=float(weight) if isinstance(weight, (int, float))
        and not isinstance(weight, bool) else 1.0,
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ())
