"""`ccaic analyze SOURCE`: explore a vote source without writing a spec."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ccaic.commands.common import add_format
from ccaic.output import Output
from ccaic.registry.scores import SCORES

if TYPE_CHECKING:
    from ccaic.assembly.analysis import Analysis
from ccaic.registry.groupings import K, forced_k, spellings
from ccaic.registry.sources import kinds


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("analyze", help="opinion groups and consensus of a vote source",
                       description="Load a Polis export folder, Polis API JSON folder or "
                       "long-format CSV, find opinion groups and rank statements by "
                       "group-aware consensus.")
    p.add_argument("source", metavar="SOURCE", help="folder or CSV file")
    p.add_argument("--kind", default="auto",
                   choices=kinds(),
                   help="source format (default: detected)")
    p.add_argument("--groups", default="polis", metavar="|".join(spellings()),
                   help=_groups_help())
    p.add_argument("--smoothing", default="polis", choices=("polis", "none"),
                   help="GAC per-group agree probability: (A+1)/(S+2) or A/S (default polis)")
    p.add_argument("--scores", default="gac", metavar="METHOD[,METHOD...]",
                   help="consensus methods to compute, comma-separated, the first one ranks: "
                   f"{', '.join(SCORES.names())} (default gac)")
    p.add_argument("--statements", metavar="FILE", help="statements file for a long-format CSV")
    p.add_argument("--as-of", metavar="TIME",
                   help="the conversation as it stood at TIME (ISO-8601 or a Polis timestamp "
                   "in ms): only votes and statements up to then")
    p.add_argument("--table", default="statements", choices=("statements", "participants"),
                   help="the table --format csv writes: statements (default) or participants "
                   "(group, in-conv, votes, x, y)")
    add_format(p, ("text", "json", "csv"))
    p.set_defaults(run=run)


def _groups_help() -> str:
    """--groups' help from the groupings registry: `NAME:K` for a grouping that forces k, K in
    the range a groups block's k allows."""
    forced = " or ".join(f"{name}:K" for name in forced_k())
    k = f"; {forced} with K from {int(K.minimum or 2)} to {int(K.maximum or 50)}" if forced else ""
    return f"how to find opinion groups (default polis{k})"


def run(args: argparse.Namespace, out: Output) -> int:
    import json

    from ccaic.artifacts import checked
    from ccaic.assembly.analysis import analyze, polis_report, row_order, statement_rows, summary
    from ccaic.assembly.sources import SourceOptions, load_source
    from ccaic.assembly.sources.as_of import parse_time
    from ccaic.diagnostics import DiagnosticError, error

    fmt = "json" if args.format == "json" else "text"
    try:
        if args.table != "statements" and args.format != "csv":
            raise DiagnosticError([error(
                "CCAI456", f"--table {args.table} needs --format csv", None,
                help=f"add --format csv; --format {args.format} shows every table (JSON: the "
                "participants are in its top-level participants)")])
        scores = _score_names(args.scores)
        loaded = load_source(args.kind, args.source,
                             SourceOptions(statements_file=args.statements,
                                           as_of=None if args.as_of is None
                                           else parse_time(args.as_of)))
        result = analyze(loaded, args.groups, {"smoothing": args.smoothing}, scores)
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, fmt)
        return 1
    if loaded.warnings:
        out.diagnostics(loaded.warnings, "text", quiet_ok=True)
    rows = statement_rows(result)
    info = summary(result)
    polis = polis_report(result, row_order(result))
    if args.format == "json":
        # the Polis-report blocks at the top level under their exact names (the artifact nests
        # them in `polis`, where top-level groups/consensus/participants mean other things)
        blocks = {k: v for k, v in polis.items() if k != "format_version"}
        out.write(checked("analyze", json.dumps({
            "format_version": "1.1", "summary": info, "statements": rows, **blocks},
            indent=2, ensure_ascii=False) + "\n"))
    elif args.format == "csv" and args.table == "participants":
        out.write(_participants_csv(polis["participants"]))
    elif args.format == "csv":
        out.write(_csv(rows, list(result.grouping.names), _score_columns(result)))
    else:
        texts = {str(r["id"]): str(r["text"]) for r in rows}
        out.text(_text(rows, info, scores, list(result.stats.extras()))
                 + _polis_text(polis, texts))
    return 0


def _score_names(text: str) -> list[str]:
    """`--scores a,b`: registered methods, in order, each once (CCAI457 for another name)."""
    from ccaic.diagnostics import DiagnosticError, error

    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SCORES]
    if unknown or not names:
        raise DiagnosticError([error(
            "CCAI457", f"--scores: unknown consensus method {unknown[0]!r}" if unknown
            else "--scores names no method", None,
            help=f"use one or more of {', '.join(SCORES.names())}, comma-separated")])
    return names


def _score_columns(result: Analysis) -> list[str]:
    """CSV columns beside the GAC pair: the other methods asked for and their extras."""
    asked = [n for n in result.scores if n not in ("gac", "gac_disagree")]
    return asked + list(result.stats.extras())


def _csv(rows: list[dict[str, object]], groups: list[str], more: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["id", "gac", "gac_disagree", *more, "agrees", "disagrees", "passes",
            "polarization", "adjusted_polarization", "moderated_out"]
    w.writerow(head + [f"group_{g}_{c}" for g in groups
                       for c in ("agrees", "disagrees", "passes")] + ["text"])
    for r in rows:
        gs = r["groups"]
        assert isinstance(gs, dict)
        values = {**r, **r["scores"]}  # type: ignore[dict-item]
        w.writerow(["" if values[h] is None else values[h] for h in head]
                   + [gs[g][c] for g in groups for c in ("agrees", "disagrees", "passes")]
                   + [r["text"]])
    return buf.getvalue()


def _consensus_line(scores: list[str], smoothing: object) -> str:
    """Every method computed, the ranking one first (gac is always computed)."""
    if scores == ["gac"]:
        return f"consensus: group-aware, smoothing={smoothing}"
    named = [*scores, *([] if "gac" in scores else ["gac"])]
    notes: dict[str, list[str]] = {n: [] for n in named}
    notes[named[0]].append("ranks")
    notes["gac"].append(f"smoothing={smoothing}")
    return "consensus: " + ", ".join(n + (f" ({', '.join(notes[n])})" if notes[n] else "")
                                     for n in named)


def _text(rows: list[dict[str, object]], info: dict[str, object], scores: list[str],
          extras: list[str]) -> str:
    """The header, then one column per method asked for (the first ranks) and per value a
    method reports beside its score (bridging_factor, which says why a high intercept may be
    one side's), each as wide as its name and at least 6 (gac's column as it always was)."""
    columns = [*scores, *extras]
    widths = [max(6, len(n)) for n in columns]
    g = info["groups"]
    assert isinstance(g, dict)
    sil = g["silhouette"]
    heads = "  ".join(f"{n:>{w}}" for n, w in zip(columns, widths, strict=True))
    lines = [
        f"source: {info['source']} ({info['kind']})",
        f"participants: {info['participants']}  statements: {info['statements_with_votes']} "
        f"with votes ({info['statements_moderated_out']} moderated out)  "
        f"votes: {info['votes']}",
        f"groups: {g['method']}  k={g['k']}  clustered={g['clustered']}  sizes={g['sizes']}  "
        f"silhouette={'n/a' if sil is None else f'{sil:.3f}'}",
        _consensus_line(scores, info["smoothing"]),
        "moderated out: keep their GAC, never ranked (listed last), left out of repness and "
        "consensus (as Polis's report)",
        *(f"moderation: {m['rule']}: removed {m['count']} {m['kind']}"
          for m in info["moderation"]),  # type: ignore[attr-defined]
        "",
        f"{'id':>6}  {heads}  {'agree':>6}  {'disag':>6}  {'pass':>6}  {'mod':>3}  text",
    ]
    for r in rows:
        text = str(r["text"]).replace("\n", " ")
        text = text if len(text) <= 70 else text[:69] + "…"
        scored = r["scores"]
        assert isinstance(scored, dict)
        values = {**scored, **{n: r[n] for n in extras}}
        shown = "  ".join(f"{'-':>{w}}" if values[n] is None else f"{values[n]:{w}.3f}"
                          for n, w in zip(columns, widths, strict=True))
        lines.append(f"{r['id']!s:>6}  {shown}  {r['agrees']:6d}  {r['disagrees']:6d}  "
                     f"{r['passes']:6d}  {'out' if r['moderated_out'] else '':>3}  {text}")
    return "\n".join(lines) + "\n"


def _participants_csv(parts: list[dict[str, object]]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["id", "group", "in_conv", "votes", "x", "y"]
    w.writerow(head)
    for p in parts:
        w.writerow(["" if p[h] is None else str(p[h]).lower() if isinstance(p[h], bool)
                    else p[h] for h in head])
    return buf.getvalue()


def _short(text: str, width: int = 70) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[:width - 1] + "…"


def _polis_text(polis: dict[str, object], texts: dict[str, str], top: int = 5) -> str:
    """Polis's report in brief: each group's representative statements, then consensus."""
    lines = ["", "representative statements (Polis repness; the share is the group's smoothed "
             "agree or disagree share, (n+1)/(N+2)):"]
    groups = polis["groups"]
    assert isinstance(groups, list)
    for g in groups:
        lines.append(f"  group {g['id']} ({g['size']} participant"
                     f"{'' if g['size'] == 1 else 's'}):")
        lines.extend(f"    {e['statement']!s:>6}  {e['repful']:<8}  {e['p_success']:5.0%} of "
                     f"{e['n_trials']:<5}  {_short(texts.get(str(e['statement']), ''), 56)}"
                     for e in g["repness"][:top])
        if not g["repness"]:
            lines.append("    (none)")
    consensus = polis["consensus"]
    assert isinstance(consensus, dict)
    for side in ("agree", "disagree"):
        lines.append(f"consensus statements ({side}, all participants):")
        lines.extend(f"    {e['statement']!s:>6}  {e['p_success']:5.0%} of {e['n_trials']:<5}  "
                     f"{_short(texts.get(str(e['statement']), ''), 64)}" for e in consensus[side])
        if not consensus[side]:
            lines.append("    (none)")
    return "\n".join(lines) + "\n"
