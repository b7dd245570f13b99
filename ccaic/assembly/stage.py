"""Resolve, analyze and select: an AssemblySpec in, ranked statements and an artifact out.

This is the bridge between the language and the math. Moderation rules keep their general
`where` predicates: each rule is evaluated (lowering.conditions) over the fields of the table as it
stands after the rules before it, and handed to ccaic.assembly.moderation as explicit id lists,
so every rule still reports exactly what it removed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ccaic.assembly._io import normalize_id
from ccaic.assembly.analysis import make_grouping
from ccaic.assembly.cache import Outcome, cache_dirs, cached, stage_key
from ccaic.assembly.duplicates import FIELD as DUPLICATE_FIELD
from ccaic.assembly.duplicates import Duplicates, duplicate_field, find_duplicates
from ccaic.assembly.groupings import GroupingRequest
from ccaic.assembly.groups import Grouping, Pca, pca
from ccaic.assembly.moderation import (
    DropParticipants,
    DropStatements,
    KeepStatements,
    PolisModOut,
    RuleReport,
    StatementFilter,
    apply_moderation,
    read_id_file,
)
from ccaic.assembly.polis_report import in_conv_mask, polis_blocks, rounded
from ccaic.assembly.scores import ScoreMethod, method_options
from ccaic.assembly.selection import Selection, SelectionRule, select
from ccaic.assembly.sources import (
    LoadedSource,
    SourceOptions,
    as_of,
    load_source,
    snapshot_folder,
    sync_source,
)
from ccaic.assembly.sources.id_files import listed_unmatched
from ccaic.assembly.stability import across_groupings, bootstrap_selection
from ccaic.assembly.stats import StatementStats, statement_stats
from ccaic.assembly.votes import VoteTable, natural_key
from ccaic.canonical import canonical_json, canonical_sha256
from ccaic.constitution.model import StatementRef
from ccaic.constitution.render import SelectedStatements
from ccaic.diagnostics import Diagnostic, DiagnosticError, Note, Span, error, warning
from ccaic.lowering.assembly import AssemblySpec, ConsensusSpec, RuleSpec, SourceSpec
from ccaic.lowering.conditions import FieldRef, id_files
from ccaic.registry.groupings import GROUPINGS
from ccaic.registry.scores import ALWAYS, SCORES
from ccaic.registry.sources import SOURCES

if TYPE_CHECKING:
    from ccaic.report.projections import OpinionMap

ASSEMBLY_FORMAT_VERSION = "1.0"


@dataclass(frozen=True)
class ModerationStep:
    rule: RuleSpec | None  # None: Polis's own moderation (PolisModOut), before any rule
    report: RuleReport
    duplicates: Duplicates | None = None  # the rule tests `duplicate_of`: every decision

    @property
    def text(self) -> str:
        return self.rule.text if self.rule is not None else PolisModOut().text

    @property
    def because(self) -> str | None:
        return self.rule.because if self.rule is not None else PolisModOut().because

    def location(self, base: Path) -> str:
        if self.rule is None:
            return "implicit"
        return f"{_relative(self.rule.span.file, base)}:{self.rule.span.line}"


@dataclass(frozen=True)
class AssemblyResult:
    spec: AssemblySpec
    loaded: LoadedSource
    table: VoteTable
    statement_out: np.ndarray
    steps: tuple[ModerationStep, ...]
    grouping: Grouping
    stats: StatementStats
    selection: Selection
    stability: dict[str, Any]


def _with_note(exc: DiagnosticError, note: str, span: Any) -> DiagnosticError:
    """Data errors point into the data file; add where the .ccai asked for that data."""
    return DiagnosticError(_noted(exc.diagnostics, note, span))


def _noted(diagnostics: Sequence[Diagnostic], note: str, span: Any) -> list[Diagnostic]:
    return [d.model_copy(update={"notes": (*d.notes, Note(message=note, span=span))})
            for d in diagnostics]


# ---------------------------------------------------------------- load


def pinned(spec: AssemblySpec) -> AssemblySpec:
    """Under `--as-of`, the moment joins the source's options: the cache keys on it, the
    loaders cut the votes there and the artifact records it."""
    when = as_of.current()
    if when is None:
        return spec
    options = {**spec.source.options, "as_of": as_of.spelled(when)}
    return spec.model_copy(update={"source": spec.source.model_copy(update={"options": options})})


def warmed(spec: AssemblySpec, root: str | Path | None) -> AssemblySpec:
    """`groups polis { warm_start = true }`: the base centers the last build in the output
    folder recorded join the groups spec, so the cache keys on them and the artifact names
    them; a cold start when there is no such build (or it recorded none)."""
    if not spec.groups.warm_start or root is None:
        return spec
    try:
        last = json.loads((Path(root) / "assemblies" / f"{spec.name}.json").read_text("utf-8"))
        centers = last["groups"]["base_centers"]
    except (OSError, ValueError, KeyError, TypeError):
        return spec
    if not isinstance(centers, list) or not centers:
        return spec
    groups = spec.groups.model_copy(update={"warm_centers": centers})
    return spec.model_copy(update={"groups": groups})


def located(spec: AssemblySpec, root: str | Path | None) -> AssemblySpec:
    """A remote source's snapshot goes in the build folder `root` (DIR/sources/<assembly>/
    <kind>), so a build from an API is reproducible offline from its own folder; its `path`
    stays what the artifact names (the snapshot to start from). No folder: `path` holds it."""
    folder = None if root is None else snapshot_folder(spec.source.kind, root, spec.name)
    if folder is None:
        return spec
    source = spec.source.model_copy(update={"snapshot": str(Path(folder).resolve())})
    return spec.model_copy(update={"source": source})


def source_folder(spec: SourceSpec) -> str:
    """Where the source's files are read; CCAI469 for a remote source with nowhere to keep
    its snapshot (a run with no build folder, `ccaic diff` or `suggest`, and no `path`)."""
    if spec.folder is None:
        raise DiagnosticError([error(
            "CCAI469", f"source {spec.kind} has nowhere to keep its snapshot: this run has no "
            "build folder and the block no `path`", spec.span,
            help="build into a folder (`ccaic build -o DIR` keeps it in DIR/sources/), or "
            "give the block `path = \"<folder>\"`: a snapshot to start from, and where a run "
            "with no build folder keeps it")])
    return spec.folder


def sync(spec: SourceSpec) -> None:
    """A remote source refreshes its snapshot (before the stage's cache hashes the files)."""
    try:
        sync_source(spec.kind, source_folder(spec), SourceOptions.from_attrs(spec.options),
                    seed=spec.path if spec.snapshot is not None else None)
    except DiagnosticError as exc:
        raise _with_note(exc, "the source is declared here", spec.span) from None


def load(spec: SourceSpec) -> LoadedSource:
    """The declared source, loaded by the loader its registry entry names."""
    kind = str(SOURCES.entry(spec.kind).meta["kind"])
    try:
        loaded = load_source(kind, source_folder(spec), SourceOptions.from_attrs(spec.options))
    except DiagnosticError as exc:
        raise _with_note(exc, "the source is declared here", spec.span) from None
    loaded.warnings = _noted(loaded.warnings, "the source is declared here", spec.span)
    return loaded


# ---------------------------------------------------------------- moderate


def statement_fields(table: VoteTable, duplicates: Duplicates | None = None
                     ) -> dict[str, np.ndarray]:
    seen = np.asarray(table.seen().sum(axis=0)).ravel()
    agrees = np.asarray(table.agree().sum(axis=0)).ravel()
    disagrees = np.asarray(table.disagree().sum(axis=0)).ravel()
    return {
        # text fields as object arrays: a fixed-width array is n x the longest text (one
        # 100,000-character text among 1,000 statements was 400 MB)
        "id": np.array([s.id for s in table.statements], dtype=object),
        "text": np.array([s.text for s in table.statements], dtype=object),
        "author": np.array(["" if s.author is None else s.author for s in table.statements],
                           dtype=object),
        "moderated": np.array([s.moderated for s in table.statements], dtype=np.int64),
        "meta": np.array([s.is_meta for s in table.statements], dtype=bool),
        "agrees": agrees.astype(np.int64), "disagrees": disagrees.astype(np.int64),
        "passes": (seen - agrees - disagrees).astype(np.int64), "votes": seen.astype(np.int64),
        DUPLICATE_FIELD: duplicate_field(table.statement_ids, duplicates),
    }


def participant_fields(table: VoteTable, groups: Mapping[str, str] | None
                       ) -> dict[str, np.ndarray]:
    """Per participant; `votes` counts every vote, on any statement (what reproduces the CCAI
    paper's 1,002 participants for `votes <= 25`)."""
    seen = table.vote_counts()
    agrees = np.asarray(table.agree().sum(axis=1)).ravel().astype(np.int64)
    disagrees = np.asarray(table.disagree().sum(axis=1)).ravel().astype(np.int64)
    return {
        "id": np.array(table.participants, dtype=object),
        "votes": seen, "agrees": agrees, "disagrees": disagrees,
        "passes": seen - agrees - disagrees,
        "group": np.array([(groups or {}).get(p, "") for p in table.participants],
                          dtype=object),
    }


def moderate(loaded: LoadedSource, rules: list[RuleSpec], source: Span | None = None
             ) -> tuple[VoteTable, np.ndarray, list[ModerationStep]]:
    """Apply Polis's own mod-out (rejected or meta: a step of its own, so it is counted), then
    the spec's rules in order."""
    first = apply_moderation(loaded.table, [PolisModOut()])
    table, out = first.table, first.statement_out
    steps = [ModerationStep(None, first.reports[0])]
    missing = [d for rule in rules for d in missing_fields(rule, loaded, source)]
    if missing:  # the source's own warnings say what it lacks
        raise DiagnosticError(missing + loaded.warnings)
    for rule in rules:
        found = _duplicates(rule, table, out)
        try:
            ids = _matching_ids(rule, table, loaded.export_groups, found)
            loaded.warnings.extend(listed_unmatched(
                rule.listed, rule.listed_file, rule.subject, rule.span,
                loaded.table.participants, loaded.table.statement_ids))
            for path in id_files(rule.where) if rule.where else ():  # `where id in file(...)`
                loaded.warnings.extend(listed_unmatched(
                    None, path, rule.subject, rule.span,
                    loaded.table.participants, loaded.table.statement_ids))
        except DiagnosticError as exc:
            raise _with_note(exc, "read by this rule", rule.span) from None
        concrete: KeepStatements | DropStatements | DropParticipants
        if rule.subject == "statements":
            where = StatementFilter(ids=tuple(ids))
            concrete = KeepStatements(where) if rule.action == "keep" else DropStatements(where)
        elif rule.action == "drop":
            concrete = DropParticipants(ids=tuple(ids))
        else:  # keep participants: drop everyone else
            keep = set(ids)
            concrete = DropParticipants(ids=tuple(p for p in table.participants if p not in keep))
        result = apply_moderation(table, [concrete], out)
        table, out = result.table, result.statement_out
        steps.append(ModerationStep(rule, result.reports[0], found))
    return table, out, steps


def _duplicates(rule: RuleSpec, table: VoteTable, out: np.ndarray) -> Duplicates | None:
    """Near-duplicates among the statements still in, for a rule that tests `duplicate_of`
    (computed only then: it embeds every text)."""
    if rule.subject != "statements" or rule.where is None or not any(
            field.name == DUPLICATE_FIELD for field in rule.where.fields()):
        return None
    kept = [s for j, s in enumerate(table.statements) if not out[j]]
    return find_duplicates([s.id for s in kept], [s.text for s in kept],
                           threshold=rule.duplicate_similarity)


#: What each optional rule field needs from the source: in words, and where it comes from.
OPTIONAL_FIELDS = {
    "text": ("statement texts", "a statements file with a text (comment-body) column"),
    "author": ("statement authors", "an author (author-id) column in its statements file"),
    "moderated": ("moderation flags", "a moderated column in its statements file "
                  "(1 accepted, 0 unmoderated, -1 rejected)"),
    "meta": ("meta flags", "an is_meta column in its statements file (Polis CSV exports have "
             "none; a Polis API comments.json has is_meta)"),
    "group": ("participant groups", "a group-id column in participants-votes.csv (or "
              "math-pca2.json in a Polis API folder)"),
    "duplicate_of": ("statement texts", "a statements file with a text (comment-body) column "
                     "(near-duplicates are found by meaning)"),
}


def missing_fields(rule: RuleSpec, loaded: LoadedSource, source: Span | None
                   ) -> list[Diagnostic]:
    """CCAI419 for each field a rule tests that the source has no data for: the field would
    hold one default value for every row and the rule would keep or drop everything."""
    if rule.where is None:
        return []
    have = (loaded.statement_fields if rule.subject == "statements"
            else frozenset({"group"}) if loaded.export_groups else frozenset())
    if "text" in have:  # duplicate_of is computed from the texts
        have = have | {"duplicate_of"}
    found: dict[str, FieldRef] = {}
    for field in rule.where.fields():
        if field.name in OPTIONAL_FIELDS:
            found.setdefault(field.name, field)
    notes = [Note(message="the source is declared here", span=source)] if source else []
    return [error(
        "CCAI419", f"`{name}`: {loaded.path} has no {OPTIONAL_FIELDS[name][0]}, so it is the "
        f"same for every {rule.subject[:-1]}", node.span, notes=notes,
        help=f"give the source {OPTIONAL_FIELDS[name][1]}, or remove the condition")
        for name, node in sorted(found.items()) if name not in have]


def _matching_ids(rule: RuleSpec, table: VoteTable, groups: Mapping[str, str] | None,
                  duplicates: Duplicates | None = None) -> list[str]:
    if rule.where is None:  # `listed in ...`
        listed = {normalize_id(i) for i in rule.listed or ()}
        if rule.listed_file is not None:
            listed |= set(read_id_file(rule.listed_file))
        universe = (table.participants if rule.subject == "participants"
                    else [s.id for s in table.statements])
        return [i for i in universe if i in listed]
    fields = (statement_fields(table, duplicates) if rule.subject == "statements"
              else participant_fields(table, groups))
    mask = rule.where.mask(fields)
    return [str(i) for i in fields["id"][mask]]


# ---------------------------------------------------------------- group, score, select


def grouping_for(spec: AssemblySpec, loaded: LoadedSource, table: VoteTable,
                 out: np.ndarray, p: Pca) -> Grouping:
    """The declared grouping; `p` is the assembly's one PCA (every grouping shares it)."""
    g = spec.groups
    grouping: Callable[[GroupingRequest], Grouping] = GROUPINGS.load(g.kind)
    try:
        return grouping(GroupingRequest(
            table, out, loaded, p, (g.k_min, g.k_max), g.file, g.column, g.participant_column,
            None if g.warm_centers is None else np.asarray(g.warm_centers, dtype=np.float64),
            g.seed, g.min_votes, g.options))
    except DiagnosticError as exc:
        raise _with_note(exc, "the grouping is declared here", g.span or spec.span) from None


def score_names(c: ConsensusSpec) -> tuple[str, ...]:
    """The methods a build computes: the GAC pair, the selecting one, then `scores`."""
    return tuple(dict.fromkeys((*ALWAYS, c.kind, *c.scores)))


def scored_selection(c: ConsensusSpec, table: VoteTable, grouping: Grouping, out: np.ndarray
                     ) -> tuple[StatementStats, Selection]:
    """Every method's scores, and the selection by the consensus block's own method."""
    stats = statement_stats(table, grouping, c.options, score_names(c), out)
    chosen = stats.scored[c.kind]
    rule = SelectionRule(threshold=c.threshold, top_k=c.top_k)
    return stats, select(stats.ids, chosen.values, rule, out, stats.seen, chosen.barred,
                         chosen.barred_reason)


def run_assembly(spec: AssemblySpec) -> AssemblyResult:
    loaded = load(spec.source)
    table, out, steps = moderate(loaded, spec.moderation, spec.source.span)
    if table.shape[0] == 0:
        raise DiagnosticError([error(
            "CCAI418", f"assembly `{spec.name}`: moderation removed every participant",
            spec.span, help="loosen the participant rules")])
    p = pca(table, out)  # once per assembly: the declared and every stability grouping
    grouping = grouping_for(spec, loaded, table, out, p)
    stats, selection = scored_selection(spec.consensus, table, grouping, out)
    stability = _stability(spec, loaded, table, out, grouping, p, int(selection.selected.sum()))
    return AssemblyResult(spec, loaded, table, out, tuple(steps), grouping, stats, selection,
                          stability)


def _bootstrap(spec: AssemblySpec, table: VoteTable, out: np.ndarray, grouping: Grouping,
               selected: int) -> dict[str, Any]:
    """Selection frequency under the selecting method, each computed score's 95% percentile
    interval per statement, and for each method of `scores` how often a statement is among
    its best `selected` (the real selection's size), over participant resamples."""
    c, st = spec.consensus, spec.stability
    boot = bootstrap_selection(table, grouping, SelectionRule(c.threshold, c.top_k), out,
                               n=st.bootstrap, seed=st.seed, method=c.kind, options=c.options,
                               scores=score_names(c), compare=c.scores, top=selected)
    by_method = {name: {i: round(float(f), 6) for i, f in zip(boot.ids, freq, strict=True)}
                 for name, freq in boot.by_method.items()}
    return {"resamples": boot.n, "seed": boot.seed, "score": c.kind,
            **({"by_method": by_method} if by_method else {}),
            "frequency": {i: round(float(f), 6) for i, f in
                          zip(boot.ids, boot.frequency, strict=True)},
            "interval": {name: {i: [round(float(lo), 6), round(float(hi), 6)]
                                for i, (lo, hi) in zip(boot.ids, bounds, strict=True)
                                if not np.isnan(lo)}
                         for name, bounds in boot.intervals.items()}}


def _stability(spec: AssemblySpec, loaded: LoadedSource, table: VoteTable, out: np.ndarray,
               grouping: Grouping, p: Pca, selected: int) -> dict[str, Any]:
    st = spec.stability
    result: dict[str, Any] = {}
    if st.bootstrap > 0:
        result["bootstrap"] = _bootstrap(spec, table, out, grouping, selected)
    if st.groupings:
        groupings = {"declared": grouping}
        for method in st.groupings:
            try:
                groupings[method] = make_grouping(table, method, out, loaded, p,
                                                  seed=spec.groups.seed,
                                                  min_votes=spec.groups.min_votes)
            except DiagnosticError as exc:
                raise _with_note(exc, f"grouping \"{method}\" is asked for here",
                                 st.span or spec.span) from None

        def chosen(g: Grouping) -> list[str]:
            return scored_selection(spec.consensus, table, g, out)[1].selected_ids

        compared = across_groupings(groupings, chosen)
        result["groupings"] = {
            "k": compared["k"], "jaccard": {k: round(v, 6) for k, v in
                                            compared["jaccard"].items()},  # type: ignore[attr-defined]
            "selected": compared["selected"],
        }
    return result


# ---------------------------------------------------------------- empty results

Make = Callable[..., Diagnostic]  # ccaic.diagnostics.error, or warning under --until assemblies


def empty_results(result: AssemblyResult, make: Make) -> list[Diagnostic]:
    """CCAI422 when moderation left no statement, CCAI423 when nothing was selected: an empty
    constitution is never a successful build. Each points at what is responsible."""
    spec = result.spec
    if bool(result.statement_out.all()):
        step = emptying_step(result.steps, len(result.statement_out))
        span = step.rule.span if step.rule is not None else spec.source.span
        return [make(
            "CCAI422", f"assembly `{spec.name}`: moderation removed every statement (the last "
            f"{step.report.count} by `{step.text}`)", span,
            help="loosen this rule, or check that the source's flags are what the rule expects "
            "(the assembly artifact lists what each rule removed)")]
    if bool(result.selection.selected.any()):
        return []
    c = spec.consensus
    score = result.stats.scores[c.kind][~result.statement_out]
    chosen = result.stats.scored[c.kind]  # its own bar (bridging's max_factor) counts too
    barred = np.zeros(len(score), bool) if chosen.barred is None else \
        np.asarray(chosen.barred, bool)[~result.statement_out]
    scored = score[~np.isnan(score) & ~barred]
    unbarred = f" not barred by {chosen.barred_reason}" if barred.any() else ""
    if len(scored) == 0 and barred.any():
        why = f"{c.kind} bars every scored statement ({chosen.barred_reason})"
        hint = "relax the method's bar (e.g. a larger `max_factor`), or remove it"
    elif len(scored) == 0:
        why = (f"none of the {len(score)} statements left after moderation has a vote")
        hint = "check the moderation rules and that the votes are for these statements"
    else:
        why = (f"the best {c.kind}{unbarred} is {float(scored.max()):.3f}, below the threshold "
               f"{c.threshold:g}")
        hint = "lower the threshold, or add `top_k` to take the best statements whatever they score"
    return [make("CCAI423", f"assembly `{spec.name}`: no statement was selected: {why}",
                 c.span or spec.span, help=hint)]


def emptying_step(steps: Sequence[ModerationStep], statements: int) -> ModerationStep:
    """The statement step after which no statement was left."""
    left = statements
    for step in steps:
        if step.report.kind == "statements":
            left -= step.report.count
            if left <= 0:
                return step
    return steps[0]


# ---------------------------------------------------------------- outputs


def _ref(result: AssemblyResult, j: int, rank: int | None) -> StatementRef:
    st, g = result.stats, result.grouping
    s = result.table.statements[j]
    seen = st.group_seen[:, j]
    shares = {name: round(float(st.group_agrees[i, j] / seen[i]), 6) if seen[i] else 0.0
              for i, name in enumerate(g.names)}
    values = score_values(st, j)
    return StatementRef(
        id=s.id, text=s.text, gac=values.pop("gac"), gac_disagree=values.pop("gac_disagree"),
        agrees=int(st.agrees[j]), disagrees=int(st.disagrees[j]), passes=int(st.passes[j]),
        groups=shares, rank=rank, scores=values)


def _rounded(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 12)


def score_values(st: StatementStats, j: int) -> dict[str, float | None]:
    """Statement `j`'s value of every computed score and of what methods report beside them
    (bridging_factor), by name; None for no score."""
    return {name: _rounded(v[j]) for name, v in {**st.scores, **st.extras()}.items()}


def method_line(c: ConsensusSpec) -> str:
    """`gac >= 0.5 (polis smoothing)`: the rule and the method's options in words; top_k alone
    names the method too (`top 5 by bridging`: "top 5 (polis smoothing)" named none)."""
    parts = []
    if c.threshold is not None:
        parts.append(f"{c.kind} >= {c.threshold:g}")
    if c.top_k is not None:
        parts.append(f"top {c.top_k}" + ("" if c.threshold is not None else f" by {c.kind}"))
    method: ScoreMethod = SCORES.load(c.kind)
    return " and ".join(parts) + f" ({method.describe(**method_options(c.kind, c.options))})"


def selected_statements(result: AssemblyResult) -> SelectedStatements:
    spec = result.spec
    sel = result.selection
    chosen = [j for j in sel.order if sel.selected[j]]
    refs = tuple(_ref(result, j, rank) for rank, j in enumerate(chosen, 1))
    candidates = {sel.ids[j]: _ref(result, j, None) for j in range(len(sel.ids))}
    c = spec.consensus
    return SelectedStatements(
        assembly=spec.name, method=method_line(c), threshold=c.threshold, top_k=c.top_k,
        statements=refs, candidates=candidates,
        summary=summary(result), fields={sel.ids[j]: template_fields(result, j) for j in chosen})


def template_fields(result: AssemblyResult, j: int) -> dict[str, Any]:
    """Template fields of statement `j` that a StatementRef does not carry (docs/language.md):
    `score` is the selecting method's."""
    st = result.stats
    return {"author": result.table.statements[j].author,
            "polarization": round(float(st.pi[j]), 12),
            "adjusted_polarization": round(float(st.adjusted_pi[j]), 12),
            "score": _rounded(st.scores[result.spec.consensus.kind][j])}


def summary(result: AssemblyResult) -> dict[str, Any]:
    g = result.grouping
    return {
        "name": result.spec.name,
        "participants": result.table.shape[0],
        "statements": int((~result.statement_out).sum()),
        "groups": g.k,
        "threshold": result.spec.consensus.threshold,
        "selected": int(result.selection.selected.sum()),
    }


def _relative(path: str, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:
        return Path(path).name


def _read_at(path: str, source: SourceSpec, base: Path) -> str:
    """A file the source read, as the artifact names it: relative to the .ccai file's folder,
    or, in a snapshot in the build folder, relative to that folder (sources/<assembly>/<kind>/
    ...: the same in every build folder, so a rebuild elsewhere is byte-identical)."""
    snapshot = source.snapshot
    if snapshot is not None and Path(path).is_relative_to(snapshot):
        return Path(path).relative_to(Path(snapshot).parents[2]).as_posix()
    return _relative(path, base)


def artifact(result: AssemblyResult, base: Path) -> dict[str, Any]:
    """The assembly's build artifact: canonical, no absolute paths, no timestamps."""
    spec, g, st, sel = result.spec, result.grouping, result.stats, result.selection
    order = [j for j in sorted(range(len(st.ids)), key=lambda j: natural_key(st.ids[j]))
             if st.seen[j] > 0]
    ranks = statement_ranks(sel, result.statement_out)
    statements = [_statement_row(result, j, ranks.get(j)) for j in order]
    provenance = result.table.provenance.to_dict()
    provenance["files"] = [_read_at(f, spec.source, base) for f in provenance.get("files", [])]
    return {
        "format_version": ASSEMBLY_FORMAT_VERSION,
        "name": spec.name,
        "description": spec.description,
        "source": {"kind": spec.source.kind,
                   **({"path": _relative(spec.source.path, base)}
                      if spec.source.path is not None else {}),
                   **({"as_of": int(float(spec.source.options["as_of"]))}
                      if "as_of" in spec.source.options else {})},
        "provenance": provenance,
        "moderation": [{
            "rule": step.text, "because": step.because, "location": step.location(base),
            "removed": step.report.count, "ids": sorted(step.report.removed, key=natural_key),
            **({"duplicates": step.duplicates.to_dict()} if step.duplicates else {}),
        } for step in result.steps],
        "participants": result.table.shape[0],
        "statements_in": int((~result.statement_out).sum()),
        "groups": {"method": g.method, "k": g.k, "clustered": g.clustered,
                   "silhouette": None if g.silhouette is None else round(float(g.silhouette), 12),
                   "sizes": dict(zip(g.names, g.sizes, strict=True)), **_warm(spec, g)},
        "consensus": _consensus(spec.consensus),
        "selection": [sel.ids[j] for j in sel.order if sel.selected[j]],
        "statements": statements,
        "stability": result.stability,
        "polis": rounded(polis_blocks(
            result.table, g, result.statement_out,
            in_conv_mask(result.table, result.loaded.in_conv, spec.groups.min_votes),
            g.pca if g.pca is not None else pca(result.table, result.statement_out), order)),
    }


def _statement_row(result: AssemblyResult, j: int, rank: int | None) -> dict[str, Any]:
    """A statement of the artifact: its counts, every computed score by name, its reason."""
    st, sel, s = result.stats, result.selection, result.table.statements[j]
    return {
        "id": s.id, "rank": rank, "text": s.text, "moderated": s.moderated,
        "meta": s.is_meta,
        "moderated_out": bool(result.statement_out[j]),
        "agrees": int(st.agrees[j]), "disagrees": int(st.disagrees[j]),
        "passes": int(st.passes[j]),
        **score_values(st, j),
        "polarization": round(float(st.pi[j]), 12),
        "adjusted_polarization": round(float(st.adjusted_pi[j]), 12),
        "groups": {name: {"agrees": int(st.group_agrees[i, j]),
                          "disagrees": int(st.group_disagrees[i, j]),
                          "passes": int(st.group_passes[i, j])}
                   for i, name in enumerate(result.grouping.names)},
        "selected": bool(sel.selected[j]), "reason": sel.reasons[j],
    }


def _warm(spec: AssemblySpec, g: Grouping) -> dict[str, Any]:
    """With warm_start: the centers the next build starts from, and which ones this used."""
    if not spec.groups.warm_start:
        return {}
    centers = g.base.centers.tolist() if g.base is not None else []
    used = spec.groups.warm_centers
    return {"base_centers": [[round(float(x), 12) for x in c] for c in centers],
            "warm_from": None if used is None else canonical_sha256(used)}


def _consensus(c: ConsensusSpec) -> dict[str, Any]:
    """How statements were scored: the method, the GAC pair's smoothing, the rule, and the
    options and further methods the block gives (absent when it gives none)."""
    given = {k: v for k, v in sorted(c.options.items()) if k != "smoothing"}
    return {"score": c.kind, "smoothing": c.smoothing, "threshold": c.threshold,
            "top_k": c.top_k, **given, **({"scores": list(c.scores)} if c.scores else {})}


def statement_ranks(sel: Selection, out: np.ndarray) -> dict[int, int]:
    """Rank by the consensus score among statements in; moderated-out ones have none (they
    keep a score, as Polis gives them a GAC, but never rank: docs/polis-report.md)."""
    kept = [j for j in sel.order if not out[j]]
    return {j: n for n, j in enumerate(kept, 1)}


def summary_lines(a: dict[str, Any]) -> list[str]:
    """What `ccaic build` prints for an assembly: its sizes, what each moderation rule removed
    (the implicit one first) and where the votes went, so an empty or odd result shows."""
    removed = [(m["location"], m["rule"], m["removed"], m["rule"].split()[1])
               for m in a["moderation"]]
    total = a["statements_in"] + sum(n for *_, n, kind in removed if kind == "statements")
    prov = a["provenance"]
    dropped = sum(prov["dropped"].values())
    why = ", ".join(f"{reason}: {n:,}" for reason, n in prov["dropped"].items())
    return [
        f"assembly {a['name']}: {_n(a['participants'], 'participant')}, {a['statements_in']:,} of "
        f"{_n(total, 'statement')} kept, {_n(a['groups']['k'], 'group')}, "
        f"{len(a['selection']):,} selected",
        *(f"  {where}: {rule}: removed {_n(n, kind[:-1])}" for where, rule, n, kind in removed),
        f"  votes: {prov['rows_read']:,} read, {prov['rows_used']:,} used, {dropped:,} dropped"
        + (f" ({why})" if why else ""),
    ]


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def assembly_outcome(spec: AssemblySpec, base: Path) -> Outcome:
    """One assembly analyzed, as the build uses it: what ccaic.assembly.cache stores."""
    from ccaic.report.projections import opinion_map

    result = run_assembly(spec)
    return Outcome(
        artifact=canonical_json(artifact(result, base)), warnings=tuple(result.loaded.warnings),
        empty_errors=tuple(empty_results(result, error)),
        empty_warnings=tuple(empty_results(result, warning)),
        selected=selected_statements(result), opinion_map=opinion_map(result))


@dataclass(frozen=True)
class AssemblyStageOutput:
    """What the assembly stage hands on: each assembly's selected statements (for the
    constitutions) and its opinion map (for the report; no artifact holds it)."""

    selected: dict[str, SelectedStatements]
    opinion_maps: dict[str, OpinionMap]


class StageWriter(Protocol):
    """What the stage needs of ccaic.build.Writer: artifacts, warnings and summary lines."""

    def text(self, relative: str, text: str) -> None: ...

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None: ...

    def note(self, lines: Sequence[str]) -> None: ...


def assembly_stage(specs: Sequence[AssemblySpec], variables: dict[str, Any], base: Path,
                   writer: StageWriter, *, root: Path | None,
                   explore: bool) -> AssemblyStageOutput:
    """The build stage: every lowered assembly analyzed, written and selected; `base` is the
    root .ccai file's folder (artifact paths are relative to it), `root` the build folder
    (None: no cache, snapshot or warm start), `explore` true for `--until assemblies`, where an
    empty result is a warning (an error in a build)."""
    out: dict[str, SelectedStatements] = {}
    maps: dict[str, OpinionMap] = {}
    problems: list[Diagnostic] = []
    make: Make = warning if explore else error
    dirs = cache_dirs(root)
    for spec in (located(warmed(pinned(s), root), root) for s in specs):
        try:
            folder = source_folder(spec.source)  # its span is the source block: no note
            sync(spec.source)
            done = cached(stage_key(spec, variables, base), dirs, [folder],
                          partial(assembly_outcome, spec, base))
        except DiagnosticError as exc:
            problems.extend(exc.diagnostics)
            continue
        found = [*done.warnings,
                 *(done.empty_warnings if make is warning else done.empty_errors)]
        problems.extend(d for d in found if d.is_error)
        writer.warn([d for d in found if not d.is_error])
        writer.text(f"assemblies/{spec.name}.json", done.artifact)
        writer.note(summary_lines(json.loads(done.artifact)))
        if done.opinion_map is not None:  # not in the artifact
            maps[spec.name] = done.opinion_map
        out[spec.name] = done.selected
    if problems:
        raise DiagnosticError(problems)
    return AssemblyStageOutput(out, maps)
