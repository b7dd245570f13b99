"""`assembly` blocks lowered: a checked program and its variable values in, AssemblySpecs out.

Every default of an assembly lives here (or in the spec models of ccaic.lowering.assembly),
variables are put in here, and `where` conditions become predicates here, so the assembly stage
never reads the AST.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccaic.check.checker import Program
from ccaic.check.consensus import CONSENSUS_OWN, method_problems
from ccaic.check.variables import Value
from ccaic.diagnostics import Diagnostic, DiagnosticError, error
from ccaic.lowering.assembly import (
    AssemblySpec,
    ConsensusSpec,
    GroupsSpec,
    RuleSpec,
    SourceSpec,
    StabilitySpec,
)
from ccaic.lowering.env import Env, base_of
from ccaic.lowering.lower_conditions import lower_condition
from ccaic.registry.groupings import GROUPINGS
from ccaic.syntax import ast
from ccaic.syntax.fmt import format_rule


def _num(attrs: dict[str, ast.Attribute], name: str, env: Env, default: Any) -> Any:
    attr = attrs.get(name)
    return env.value(attr.value) if attr is not None else default


def _given(attrs: dict[str, ast.Attribute], env: Env, **convert: Callable[[Any], object]
           ) -> dict[str, object]:
    """The attributes a block gives, converted; an absent one takes the spec model's default
    (the one place it is written)."""
    return {name: to(env.value(attrs[name].value)) for name, to in convert.items()
            if name in attrs}


def _source(block: ast.Block, env: Env, base: Path) -> SourceSpec:
    source_block = next(iter(block.blocks("source")), None)
    if source_block is None:
        raise DiagnosticError([error(
            "CCAI209", f"assembly \"{block.labels[0].value}\" has no source", block.type.span,
            help="add `source polis { path = var.data }`")])
    sattrs = source_block.attributes()
    path_attr = sattrs.get("path")  # only polis_api goes without one (the checker's CCAI209)
    ref = path_attr.value if path_attr is not None else None
    if isinstance(ref, ast.Reference) and ref.parts[0].name == "var" and env.value(ref) is None:
        raise DiagnosticError([error(
            "CCAI218", "the source path comes from a variable that has no value",
            ref.span, help=f"pass --var {ref.parts[-1].name}=FOLDER")])
    return SourceSpec(
        kind=source_block.labels[0].value,
        path=None if ref is None else env.path(ref, base),
        options={name: (env.path(a.value, base) if name == "statements"
                        else str(env.value(a.value)))
                 for name, a in sattrs.items() if name != "path"},
        span=source_block.span,
    )


def _rule(item: ast.Rule, env: Env, base: Path, similarity: float | None = None) -> RuleSpec:
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
        where = lower_condition(item.clause.condition, env, base)
    return RuleSpec(
        action=item.action, subject=item.subject, where=where, listed=listed,
        listed_file=listed_file, because=env.string(item.because) if item.because else None,
        text=format_rule(item), span=item.span, duplicate_similarity=similarity)


def _duplicate_similarity(moderation: ast.Block, env: Env) -> float | None:
    """The block's `duplicate_similarity`, None when it is not given."""
    attr = moderation.attributes().get("duplicate_similarity")
    value = env.value(attr.value) if attr is not None else None
    return float(value) if isinstance(value, (int, float)) else None


def _moderation(moderation: ast.Block, env: Env, base: Path) -> list[RuleSpec]:
    """A moderation block's rules, each with the block's `duplicate_similarity` (read once:
    per rule, it walked the whole block again for each of a generated spec's many rules)."""
    similarity = _duplicate_similarity(moderation, env)
    return [_rule(item, env, base, similarity) for item in moderation.body
            if isinstance(item, ast.Rule)]


def _groups(g: ast.Block, env: Env, base: Path) -> GroupsSpec:
    gattrs = g.attributes()
    given = _given(gattrs, env, seed=int, min_votes=int, column=str, participant_column=str,
                   warm_start=bool)
    own = {*GroupsSpec.model_fields, "k"}
    given["options"] = {name: env.path(a.value, base) if GROUPINGS.block_attrs()[name].type
                        == "path" else _option(env.value(a.value))
                        for name, a in gattrs.items() if name not in own}
    kv = env.value(gattrs["k"].value) if "k" in gattrs else None
    if isinstance(kv, list):  # a range: k = [2, 5], or a list variable
        given |= {"k_min": int(kv[0]), "k_max": int(kv[1])}  # type: ignore[call-overload]
    elif isinstance(kv, int):
        given |= {"k_min": kv, "k_max": kv}
    if "file" in gattrs:
        given["file"] = env.path(gattrs["file"].value, base)
    return GroupsSpec.model_validate({"kind": g.labels[0].value, **given, "span": g.span})


def _option(value: Value) -> str | float | int:
    """A method or grouping attribute's value (the checker has typed it: a choice, a number
    or a bool, which is an int)."""
    return value if isinstance(value, (str, int, float)) else str(value)


def _consensus(c: ast.Block, env: Env) -> ConsensusSpec:
    cattrs = c.attributes()
    spec = ConsensusSpec(
        kind=c.labels[0].value,
        threshold=_num(cattrs, "threshold", env, None),
        top_k=_num(cattrs, "top_k", env, None),
        options={name: _option(env.value(a.value)) for name, a in cattrs.items()
                 if name not in CONSENSUS_OWN},
        scores=tuple(str(x) for x in _num(cattrs, "scores", env, [])),
        span=cattrs.get("threshold", c).span,
    )
    problems = method_problems(spec.kind, spec.scores, cattrs)  # `scores` from a variable
    if problems:
        raise DiagnosticError(problems)
    return spec


def _stability(s: ast.Block, env: Env) -> StabilitySpec:
    sattrs = s.attributes()
    return StabilitySpec.model_validate({
        **_given(sattrs, env, bootstrap=int, seed=int,
                 groupings=lambda v: [str(x) for x in v]),
        "span": sattrs.get("groupings", s).span})


def lower_assembly(block: ast.Block, env: Env) -> AssemblySpec:
    """One assembly block; CCAI209 (no source) and CCAI218 (a source path without a value)."""
    base = base_of(block)
    source = _source(block, env, base)
    rules = [rule for mod in block.blocks("moderation") for rule in _moderation(mod, env, base)]
    given = _given(block.attributes(), env, description=str)  # absent: AssemblySpec's defaults
    for g in block.blocks("groups"):
        given["groups"] = _groups(g, env, base)
    for c in block.blocks("consensus"):
        given["consensus"] = _consensus(c, env)
    for s in block.blocks("stability"):
        given["stability"] = _stability(s, env)
    return AssemblySpec.model_validate({"name": block.labels[0].value, "source": source,
                                        "moderation": rules, **given, "span": block.span})


def lower_assemblies(program: Program, variables: dict[str, Value]
                     ) -> tuple[list[AssemblySpec], list[Diagnostic]]:
    """Every assembly of the program; the diagnostics of those that cannot be lowered."""
    env = Env(variables)
    specs: list[AssemblySpec] = []
    diags: list[Diagnostic] = []
    for block in program.blocks("assembly"):
        try:
            specs.append(lower_assembly(block, env))
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
    return specs, diags
