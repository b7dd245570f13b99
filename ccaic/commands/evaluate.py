"""`ccaic evaluate bbq`: BBQ accuracy and bias scores of a model, per category and overall.

numpy and torch are imported inside `run` only: `ccaic check` imports this module too.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ccaic.commands.common import add_format
from ccaic.output import Output


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("evaluate", help="evaluate a model (BBQ bias scores)",
                       description="Evaluate a model on a benchmark.")
    benchmarks = p.add_subparsers(dest="benchmark", metavar="BENCHMARK",
                                  parser_class=type(p))
    b = benchmarks.add_parser(
        "bbq", help="BBQ accuracy and bias scores (Parrish et al. 2022)",
        description="Score each BBQ example by the log-likelihood of each answer given the "
                    "context and question; report accuracy and the bias scores s_DIS and "
                    "s_AMB per category and overall, with bootstrap intervals (docs/bbq.md).")
    b.add_argument("--model", required=True,
                   help="builtin:tiny, a local model folder, or a Hugging Face id "
                        "(org/name@revision pins a revision)")
    b.add_argument("--data", required=True, help="folder with BBQ category files (Age.jsonl, ...)")
    b.add_argument("--limit", type=_positive, default=None,
                   help="examples per category, stratified by context condition and polarity")
    b.add_argument("--seed", type=int, default=0,
                   help="seed for the subset, the bootstrap and builtin:tiny's weights (default 0)")
    b.add_argument("--resamples", type=_positive, default=1000,
                   help="bootstrap resamples (default 1000)")
    b.add_argument("--batch-size", type=_positive, default=16, help="sequences per forward pass")
    add_format(b)
    b.set_defaults(run=run)
    p.set_defaults(run=_usage(p))


def _usage(parser: argparse.ArgumentParser) -> Any:
    def show(args: argparse.Namespace, out: Output) -> int:
        out.info(parser.format_help())
        return 1
    return show


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.artifacts import checked
    from ccaic.diagnostics import DiagnosticError
    from ccaic.evaluate.bbq import load
    from ccaic.evaluate.run import evaluate_bbq, load_scorer

    try:
        dataset = load(args.data)
        scorer = load_scorer(args.model, args.seed, args.batch_size)
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, "json" if args.format == "json" else "text")
        return 1
    for name, count in dataset.undetermined.items():
        if count:
            out.info(f"note: {name}: {count} examples have no determinable biased answer; "
                     "they count for accuracy, not bias (see docs/bbq.md)")
    out.info(f"scoring {', '.join(sorted(dataset.examples))} with {args.model} ...")
    result = evaluate_bbq(dataset, scorer, model=args.model, limit=args.limit, seed=args.seed,
                          resamples=args.resamples)
    if args.format == "json":
        out.write(checked("bbq-result", json.dumps(result, indent=2, sort_keys=False) + "\n"))
    else:
        out.text(render_text(result))
    return 0


def render_text(result: dict[str, Any]) -> str:
    """A table people can read: one row per category, then overall."""
    head = (f"{'category':<22}{'n amb':>7}{'acc amb':>9}{'s_AMB':>9}"
            f"{'n dis':>7}{'acc dis':>9}{'s_DIS':>9}")
    lines = [f"BBQ, model {result['model']}", head, "-" * len(head)]
    rows = [*result["categories"].items(), ("overall", result["overall"])]
    for name, s in rows:
        lines.append(f"{name:<22}{s['n_ambiguous']:>7}{_fmt(s['accuracy_ambiguous']):>9}"
                     f"{_fmt(s['bias_ambiguous']):>9}{s['n_disambiguated']:>7}"
                     f"{_fmt(s['accuracy_disambiguated']):>9}{_fmt(s['bias_disambiguated']):>9}")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
