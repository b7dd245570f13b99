"""The report's tables as (headers, rows) of plain strings, shared by Markdown and HTML.

Building the cells once keeps report.md and report.html saying the same thing.
"""

from __future__ import annotations

from typing import Any

from ccaic.report.model import pipeline_order

Table = tuple[list[str], list[list[str]]]


def fmt(x: Any, digits: int = 3) -> str:
    """A cell: numbers to `digits` decimals, None as an em dash."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def interval(iv: Any) -> str:
    if not iv:
        return ""
    return f" [{iv[0]:.3f}, {iv[1]:.3f}]"


def consensus_rule(c: dict[str, Any]) -> str:
    """`gac >= 0.400 (jeffreys prior, geometric mean)`: the rule, then the method's options in
    the words of its registry entry's describe, as the constitution's selection line has them
    (the row said "polis smoothing" for every GAC variant, "gac >= —" under top_k alone, and
    nothing of bridging's factor bar)."""
    from ccaic.assembly.scores import ScoreMethod, method_options
    from ccaic.registry.scores import SCORES

    name = str(c.get("score", "gac"))
    rule = ", ".join(([] if c.get("threshold") is None else
                      [f"{name} >= {fmt(c['threshold'])}"])
                     + ([] if c.get("top_k") is None else
                        [f"top {c['top_k']}" + ("" if c.get("threshold") is not None
                                                else f" by {name}")]))
    if name not in SCORES:
        return rule
    method: ScoreMethod = SCORES.load(name)
    return f"{rule} ({method.describe(**method_options(name, c))})"


def assembly_summary(a: dict[str, Any]) -> Table:
    g, s, c = a["groups"], a["scores"], a["consensus"]
    sizes = ", ".join(f"{k}: {v:,}" for k, v in sorted(g["sizes"].items()))
    boot = a["stability"].get("bootstrap")
    rows = [
        ["participants (after moderation)", fmt(a["participants"])],
        ["statements (seen / kept / scored)",
         f"{fmt(a['statements']['total'])} / {fmt(a['statements']['kept'])} / "
         f"{fmt(a['statements']['scored'])}"],
        ["votes (read / used)", f"{fmt(a['votes']['rows_read'])} / "
                                f"{fmt(a['votes']['rows_used'])}"],
        ["opinion groups", f"{g['k']} ({g['method']}; sizes {sizes}; silhouette "
                           f"{fmt(g['silhouette'])})"],
        ["consensus", consensus_rule(c)],
        ["statements selected", fmt(a["selected"]["n"])],
        [f"{c.get('score')} mean / median / min / max",
         " / ".join(fmt(s[k]) for k in ("mean", "median", "min", "max"))],
    ]
    if boot:
        rows.append(["bootstrap: mean selection frequency of the selected",
                     f"{fmt(boot['mean_selected'])} ({boot['resamples']} resamples; "
                     f"{boot['unselected_above_half']} unselected statements above 0.5)"])
    for k, v in sorted((a["stability"].get("groupings") or {}).get("jaccard", {}).items()):
        rows.append([f"Jaccard of the selections, {k}", fmt(float(v))])
    return ["", "value"], rows


def moderation(a: dict[str, Any]) -> Table:
    rows = [[m["rule"] or "", m["because"] or "", m["location"] or "", fmt(m["removed"])]
            for m in a["moderation"]]
    for reason, n in sorted(a["votes_dropped"].items()):
        rows.append([f"votes dropped: {reason}", "", "source", fmt(n)])
    return ["rule", "because", "where", "removed"], rows


def duplicates(a: dict[str, Any]) -> Table | None:
    """Every near-duplicate decision of the `duplicate_of` rules (issue 19), or None."""
    rows = [[d["id"], d["duplicate_of"], fmt(d["similarity"]),
             f"{m['duplicates']['matcher']} >= {m['duplicates']['threshold']:g}", m["rule"] or ""]
            for m in a["moderation"] if m.get("duplicates")
            for d in m["duplicates"]["decisions"]]
    return (["statement", "duplicate of", "similarity", "matcher", "rule"], rows) if rows \
        else None


def selected(a: dict[str, Any]) -> Table:
    groups = sorted({g for r in a["selected_agreement"] for g in r["groups"]})
    boot = dict((a["stability"].get("bootstrap") or {}).get("selected", []))
    rows = []
    for r in a["selected_agreement"]:
        rows.append([str(r["rank"]), r["id"], r["text"], fmt(r["score"])]
                    + [f"{r['groups'].get(g, 0.0):.0%}" for g in groups]
                    + ([fmt(boot.get(r["id"]), 2)] if boot else []))
    headers = (["#", "id", "statement", a["consensus"].get("score", "gac")]
               + [f"group {g} agree" for g in groups] + (["bootstrap"] if boot else []))
    return headers, rows


def polis_group(g: dict[str, Any]) -> Table:
    """A group's representative statements with agree/disagree shares in and out of it."""
    rows = [[r["id"], r["text"], r["repful"], f"{r['in']['agree']:.0%}",
             f"{r['in']['disagree']:.0%}", f"{r['out']['agree']:.0%}",
             f"{r['out']['disagree']:.0%}", fmt(r["repness"], 2)] for r in g["statements"]]
    return ["id", "statement", "repful for", "agree in group", "disagree in group",
            "agree outside", "disagree outside", "repness"], rows


def polis_consensus(c: dict[str, Any]) -> Table:
    """Consensus statements (Polis's top 5 each way over all participants)."""
    rows = [[side, r["id"], r["text"], f"{r['share']:.0%}", fmt(r["seen"])]
            for side in ("agree", "disagree") for r in c[side]]
    return ["consensus", "id", "statement", "share", "seen by"], rows


def constitution(c: dict[str, Any]) -> Table:
    """The principles with their sources' scores: by the selecting method, and GAC beside it
    when that is another (a bridging build showed only a GAC column)."""
    method = c.get("score")
    rows = []
    for i, p in enumerate(c["table"], 1):
        shown = [", ".join(fmt(x) for x in p[k] if x is not None) or "—"
                 for k in ([] if method is None else ["score"]) + ["gac"]]
        flags = list(p["edits"]) + (["needs hand edit"] if p["needs_hand_edit"] else [])
        rows.append([str(i), p["text"] or "", ", ".join(p["statements"]) or "—", *shown,
                     ", ".join(flags)])
    return ["#", "principle", "statements", *([] if method is None else [str(method)]),
            "GAC", "edits"], rows


def _flat(prefix: str, data: Any) -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        out: list[tuple[str, Any]] = []
        for k, v in sorted(data.items()):
            out += _flat(f"{prefix}.{k}" if prefix else k, v)
        return out
    return [(prefix, data)]


def training_counts(t: dict[str, Any]) -> Table:
    """Every stage count, dropped-by-cleaning reasons included, one row each."""
    rows = [[stage, key, fmt(v)] for stage in pipeline_order(list(t["counts"]))
            for key, v in _flat("", t["counts"][stage])]
    return ["stage", "count", "value"], rows


def training_losses(t: dict[str, Any]) -> Table:
    rows = []
    for stage in pipeline_order(list(t["losses"])):
        pts = t["losses"][stage]
        values = [p[1] for p in pts]
        rows.append([stage, fmt(len(pts)), fmt(values[0], 4), fmt(values[-1], 4),
                     fmt(min(values), 4)])
    return ["stage", "logged steps", "first loss", "last loss", "lowest"], rows


def coverage(t: dict[str, Any]) -> Table:
    cov = t["coverage"]
    rows = [[pid, fmt(cov["principles"][pid]["critiques"]),
             fmt(cov["principles"][pid]["comparisons"])] for pid in cov["order"]]
    return ["principle", "critiques", "comparisons"], rows


def bbq(label: str, m: dict[str, Any]) -> Table:
    rows = []
    for cat, e in [*sorted(m["categories"].items()), ("overall", m["overall"])]:
        iv = e.get("intervals", {})
        rows.append([cat, fmt(e.get("n_ambiguous")), fmt(e.get("n_disambiguated")),
                     fmt(e.get("accuracy_ambiguous")), fmt(e.get("accuracy_disambiguated")),
                     fmt(e.get("bias_ambiguous")) + interval(iv.get("bias_ambiguous")),
                     fmt(e.get("bias_disambiguated")) + interval(iv.get("bias_disambiguated"))])
    return ["category", "n amb", "n dis", "acc amb", "acc dis", "s_AMB [95% CI]",
            "s_DIS [95% CI]"], rows


def hhh(models: dict[str, Any]) -> Table:
    rows = [[label, str(m.get("model") or ""), fmt(m["items"]),
             fmt(m["accuracy"]) + interval(m.get("interval")),
             fmt(m.get("accuracy_given_order")), fmt(m.get("position_bias"))]
            for label, m in sorted(models.items())]
    return ["label", "judge model", "items", "accuracy (both orders) [95% CI]",
            "accuracy (given order)", "position bias"], rows
