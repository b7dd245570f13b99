"""Typed, language-free specs lowered from a checked program and its variable values.

Later stages (resolve, analyze, render, plan) read these, never the AST, so "the math knows
nothing of the language". Every spec keeps the span it came from, so a data error found at
build time can still point at the .ccai line that asked for the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ccaic.check.checker import Program
from ccaic.check.variables import Value
from ccaic.diagnostics import Diagnostic, DiagnosticError, Span, error
from ccaic.files import resolved
from ccaic.syntax import ast


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceSpec(Spec):
    kind: Literal["polis", "polis_json", "votes_csv"]
    path: str  # absolute
    options: dict[str, str] = {}
    span: Span


class RuleSpec(Spec):
    """A moderation rule: the condition stays an AST node, evaluated against data fields."""

    action: Literal["keep", "drop"]
    subject: Literal["statements", "participants"]
    where: Any = None  # ast.Condition
    listed: list[str] | None = None  # ids, from a list literal or an id file
    listed_file: str | None = None
    because: str | None = None
    text: str  # the rule as written (fmt style), for reports
    span: Span


class GroupsSpec(Spec):
    kind: Literal["polis", "export", "kmeans"] = "polis"
    k_min: int = 2
    k_max: int = 5
    seed: int = 0
    min_votes: int = 7
    file: str | None = None  # export: participant -> group CSV
    column: str = "group-id"
    participant_column: str = "participant"
    span: Span | None = None  # the groups block: where a grouping that cannot be made points


class ConsensusSpec(Spec):
    kind: Literal["gac", "gac_disagree"] = "gac"
    threshold: float | None = None
    top_k: int | None = None
    smoothing: Literal["polis", "none"] = "polis"
    span: Span | None = None  # the threshold (else the block): where an empty selection points


class StabilitySpec(Spec):
    bootstrap: int = 0
    seed: int = 0
    groupings: list[str] = []
    span: Span | None = None  # `groupings` (else the block): where a failed grouping points


class AssemblySpec(Spec):
    name: str
    description: str = ""
    source: SourceSpec
    moderation: list[RuleSpec] = []
    groups: GroupsSpec = GroupsSpec()
    consensus: ConsensusSpec = ConsensusSpec(threshold=0.5)
    stability: StabilitySpec = StabilitySpec()
    span: Span


# ---------------------------------------------------------------- evaluation of values


def _literal_of(value: object, span: Span) -> ast.Expr:
    """A variable's list item as the literal it stands for."""
    if isinstance(value, bool):
        return ast.BoolLit(span=span, value=value)
    if isinstance(value, (int, float)):
        return ast.NumberLit(span=span, raw=str(value), value=value)
    return ast.StringLit(span=span, raw=str(value), parts=(str(value),))


def bind_condition(cond: Any, env: Env) -> Any:
    """A rule's condition with its variables put in: `id == "${var.s}"` compared with the
    text left once `${...}` was taken out (""), and `id in var.l` read the list's text as a
    file name. Other nodes come back as they are."""
    if isinstance(cond, ast.StringLit) and not cond.is_constant:
        return ast.StringLit(span=cond.span, raw=cond.raw, parts=(env.string(cond),))
    if isinstance(cond, ast.ListLit):
        return cond.model_copy(update={"items": tuple(bind_condition(i, env)
                                                      for i in cond.items)})
    if isinstance(cond, ast.Member):
        collection = cond.collection
        value = env.value(collection) if isinstance(collection, ast.Reference) else None
        if isinstance(value, list):
            collection = ast.ListLit(span=collection.span, items=tuple(
                _literal_of(v, collection.span) for v in value))
        return cond.model_copy(update={"left": bind_condition(cond.left, env),
                                       "collection": bind_condition(collection, env)})
    if isinstance(cond, ast.Compare):
        return cond.model_copy(update={"left": bind_condition(cond.left, env),
                                       "right": bind_condition(cond.right, env)})
    if isinstance(cond, ast.Not):
        return cond.model_copy(update={"operand": bind_condition(cond.operand, env)})
    if isinstance(cond, (ast.And, ast.Or)):
        return cond.model_copy(update={"operands": tuple(bind_condition(o, env)
                                                         for o in cond.operands)})
    if isinstance(cond, ast.Paren):
        return cond.model_copy(update={"inner": bind_condition(cond.inner, env)})
    return cond


class Env:
    """What expressions evaluate against: variable values and the file's folder."""

    def __init__(self, variables: dict[str, Value]):
        self.variables = variables

    def string(self, lit: ast.StringLit) -> str:
        out: list[str] = []
        for part in lit.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(str(self.reference(part.reference)))
        return "".join(out)

    def reference(self, ref: ast.Reference) -> Value:
        head = ref.parts[0].name
        if head == "var":
            return self.variables.get(ref.parts[1].name)
        return ref.dotted

    def value(self, expr: ast.Expr) -> Value:
        if isinstance(expr, ast.StringLit):
            return self.string(expr)
        if isinstance(expr, ast.TemplateLit):
            return expr.text
        if isinstance(expr, (ast.NumberLit, ast.BoolLit)):
            return expr.value
        if isinstance(expr, ast.NullLit):
            return None
        if isinstance(expr, ast.ListLit):
            return [self.value(i) for i in expr.items]
        if isinstance(expr, ast.Reference):
            return self.reference(expr)
        if isinstance(expr, ast.Call):
            return self.value(expr.args[0]) if expr.args else None
        if isinstance(expr, ast.RangeLit):
            return [expr.start.value, expr.end.value]
        if isinstance(expr, ast.RegexLit):
            return expr.pattern
        raise TypeError(type(expr).__name__)

    def path(self, expr: ast.Expr, base: Path) -> str:
        """A path; relative ones are relative to the folder of the file that says them.

        `path` variables are already absolute (see ccaic.check.variables), so a string such as
        "${var.data}/ids.csv" stays where the variable points.
        """
        if isinstance(expr, ast.Call) and expr.args:
            expr = expr.args[0]
        text = str(self.value(expr))
        return text if Path(text).is_absolute() else str(resolved(base / text))


def _base(node: ast.Node) -> Path:
    if node.span.file.startswith("<"):
        return Path.cwd()
    return Path(node.span.file).resolve().parent


def _num(attrs: dict[str, ast.Attribute], name: str, env: Env, default: Any) -> Any:
    attr = attrs.get(name)
    return env.value(attr.value) if attr is not None else default


def lower_assembly(block: ast.Block, env: Env) -> AssemblySpec:
    from ccaic.syntax.fmt import format_rule

    base = _base(block)
    attrs = block.attributes()
    source_block = next(iter(block.blocks("source")), None)
    if source_block is None:
        raise DiagnosticError([error(
            "CCAI209", f"assembly \"{block.labels[0].value}\" has no source", block.type.span,
            help="add `source polis { path = var.data }`")])
    sattrs = source_block.attributes()
    path_attr = sattrs["path"]
    ref = path_attr.value
    if isinstance(ref, ast.Reference) and ref.parts[0].name == "var" and env.value(ref) is None:
        raise DiagnosticError([error(
            "CCAI218", "the source path comes from a variable that has no value",
            ref.span, help=f"pass --var {ref.parts[-1].name}=FOLDER")])
    source = SourceSpec(
        kind=source_block.labels[0].value,  # type: ignore[arg-type]
        path=env.path(path_attr.value, base),
        options={name: (env.path(a.value, base) if name == "statements"
                        else str(env.value(a.value)))
                 for name, a in sattrs.items() if name != "path"},
        span=source_block.span,
    )
    rules: list[RuleSpec] = []
    for mod in block.blocks("moderation"):
        for item in mod.body:
            if not isinstance(item, ast.Rule):
                continue
            listed: list[str] | None = None
            listed_file: str | None = None
            where = None
            if isinstance(item.clause, ast.ListedClause):
                src = item.clause.source
                if isinstance(src, ast.ListLit):
                    listed = [str(env.value(i)) for i in src.items]
                elif isinstance(src, ast.Call):
                    listed_file = env.path(src, base)
                else:
                    value = env.value(src)
                    if isinstance(value, list):
                        listed = [str(v) for v in value]
                    elif value is not None:
                        listed_file = env.path(src, base)
            else:
                where = bind_condition(item.clause.condition, env)
            rules.append(RuleSpec(
                action=item.action, subject=item.subject, where=where, listed=listed,
                listed_file=listed_file,
                because=env.string(item.because) if item.because else None,
                text=format_rule(item), span=item.span))
    groups = GroupsSpec()
    for g in block.blocks("groups"):
        gattrs = g.attributes()
        k = gattrs.get("k")
        kmin, kmax = 2, 5
        if k is not None:
            kv = env.value(k.value)
            if isinstance(kv, list):
                kmin, kmax = int(kv[0]), int(kv[1])  # type: ignore[call-overload]
            elif isinstance(kv, int):
                kmin = kmax = kv
        file_attr = gattrs.get("file")
        groups = GroupsSpec(kind=g.labels[0].value, k_min=kmin, k_max=kmax,  # type: ignore[arg-type]
                            seed=int(_num(gattrs, "seed", env, 0)),
                            min_votes=int(_num(gattrs, "min_votes", env, 7)),
                            file=env.path(file_attr.value, base) if file_attr else None,
                            column=str(_num(gattrs, "column", env, "group-id")),
                            participant_column=str(_num(gattrs, "participant_column", env,
                                                        "participant")),
                            span=g.span)
    consensus = ConsensusSpec(threshold=0.5)
    for c in block.blocks("consensus"):
        cattrs = c.attributes()
        consensus = ConsensusSpec(
            kind=c.labels[0].value,  # type: ignore[arg-type]
            threshold=_num(cattrs, "threshold", env, None),
            top_k=_num(cattrs, "top_k", env, None),
            smoothing=_num(cattrs, "smoothing", env, "polis"),
            span=cattrs.get("threshold", c).span,
        )
    stability = StabilitySpec()
    for s in block.blocks("stability"):
        sattrs2 = s.attributes()
        stability = StabilitySpec(
            bootstrap=int(_num(sattrs2, "bootstrap", env, 0)),
            seed=int(_num(sattrs2, "seed", env, 0)),
            groupings=[str(x) for x in _num(sattrs2, "groupings", env, [])],
            span=sattrs2.get("groupings", s).span,
        )
    return AssemblySpec(
        name=block.labels[0].value,
        description=str(_num(attrs, "description", env, "")),
        source=source, moderation=rules, groups=groups, consensus=consensus,
        stability=stability, span=block.span,
    )


def lower_assemblies(program: Program, variables: dict[str, Value]
                     ) -> tuple[list[AssemblySpec], list[Diagnostic]]:
    env = Env(variables)
    specs: list[AssemblySpec] = []
    diags: list[Diagnostic] = []
    for block in program.blocks("assembly"):
        try:
            specs.append(lower_assembly(block, env))
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
    return specs, diags
