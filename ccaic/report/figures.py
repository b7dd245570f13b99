"""The report's figures, drawn from the report body (and the opinion map's points).

Each function returns one <svg> string whose id is stable (`fig-<kind>-<name>`), so tests and
readers can find a figure, and returns None when its data is absent.
"""

from __future__ import annotations

import re
from typing import Any

from ccaic.registry.scores import SCORES
from ccaic.report import svg
from ccaic.report.projections import UNGROUPED, OpinionMap

MAX_LABELLED = 30  # above this many bars, x ticks show ranks instead of statement ids
MAX_WIDTH = 1040  # the page's content width: wider SVGs would be scaled down, text with them


def bar_width(n: int, per_item: int) -> int:
    """Chart width for n items: room for per_item pixels each, within the page."""
    return min(MAX_WIDTH, max(640, per_item * n + 84))


def slug(name: str) -> str:
    """A figure id fragment from an artifact name (ids must be unique and HTML-safe)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "x"


def group_colors(groups: list[str]) -> dict[str, str]:
    out = {g: svg.color(i) for i, g in enumerate(groups)}
    out[UNGROUPED] = svg.MUTED
    return out


def hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull, counter-clockwise from the lowest-leftmost point (Andrew's monotone
    chain); collinear points are dropped, so 1 or 2 distinct points give 1 or 2 vertices."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return lower[:-1] + upper[:-1]


def opinion_map(name: str, m: OpinionMap, hulls: bool = False) -> str:
    """Participants on PC1/PC2 by group; `hulls` outlines each group's convex hull (the
    Polis report's map)."""
    xs = [p[0] for p in m.points] or [0.0]
    ys = [p[1] for p in m.points] or [0.0]
    sampled = (f" A deterministic sample of {m.shown:,} of {m.participants:,} participants is "
               "shown." if m.shown < m.participants else "")
    outline = " Each group's convex hull is outlined." if hulls else ""
    c = svg.chart(f"fig-opinion-map-{slug(name)}", f"Opinion map: {name}",
                  f"Each participant's position on the first two principal components of the "
                  f"vote matrix, coloured by opinion group ({len(m.groups)} groups)."
                  f"{outline}{sampled}",
                  svg.padded(min(xs), max(xs)), svg.padded(min(ys), max(ys)), height=420)
    svg.axes(c, "PC1", "PC2")
    colors = group_colors(list(m.groups))
    for g in m.groups if hulls else ():
        ring = hull([(x, y) for x, y, grp in m.points if grp == g])
        svg.line(c, ring + ring[:1], colors[g], width=1.5, name=f"group {g} hull")
    for g in [*m.groups, UNGROUPED]:
        pts = [(x, y) for x, y, grp in m.points if grp == g]
        if pts:
            label = f"group {g}" if g != UNGROUPED else g
            svg.dots(c, pts, colors[g], name=f"{label}: {len(pts):,} participants")
            c.legend.append((f"{label} ({len(pts):,})", colors[g]))
    return svg.render(c)


def method_title(score: str) -> str:
    """What a method is called in titles and axes (its registry entry's `title`)."""
    return str(SCORES.entry(score).meta["title"]) if score in SCORES else score


def _span(a: dict[str, Any]) -> tuple[float, float]:
    edges = a["histogram"]["edges"]
    return float(edges[0]), float(edges[-1])


def gac_histogram(name: str, a: dict[str, Any]) -> str | None:
    """The selecting method's distribution (the id keeps its GAC-era name: links to it stay)."""
    h = a["histogram"]
    if not a["scores"]["n"]:
        return None
    score = a["consensus"].get("score", "gac")
    title = method_title(score)
    top = max(h["counts"]) or 1
    c = svg.chart(f"fig-gac-histogram-{slug(name)}", f"{title[:1].upper()}{title[1:]}: {name}",
                  f"Histogram of {score} over the {a['scores']['n']} scored statements "
                  f"(mean {a['scores']['mean']}, median {a['scores']['median']}); the dashed "
                  "line marks the selection threshold.", _span(a), (0.0, top * 1.1))
    svg.axes(c, f"{score} ({title})", "statements")
    edges = h["edges"]
    for i, n in enumerate(h["counts"]):
        if n:
            svg.rect(c, edges[i], edges[i + 1], 0, n, svg.color(0),
                     f"{edges[i]:.2f}-{edges[i + 1]:.2f}: {n} statements")
    threshold = a["consensus"].get("threshold")
    if threshold is not None:
        svg.vline(c, threshold, svg.color(5), f"threshold {threshold:g}")
    return svg.render(c)


def threshold_curve(name: str, a: dict[str, Any]) -> str | None:
    curve = a["threshold_curve"]
    if not a["scores"]["n"]:
        return None
    top_k = a["consensus"].get("top_k")
    lo, hi = _span(a)
    score = a["consensus"].get("score", "gac")
    c = svg.chart(f"fig-threshold-curve-{slug(name)}", f"Threshold sensitivity: {name}",
                  f"How many statements a consensus threshold selects, from {lo:g} to {hi:g}"
                  + (f", alone and capped at top {top_k}" if top_k else "") + ".",
                  (lo, hi), (0.0, max(row[1] for row in curve) * 1.05 or 1))
    svg.axes(c, "threshold" if score == "gac" else f"threshold on {score}",
             "statements selected")
    svg.line(c, [(r[0], r[1]) for r in curve], svg.color(0), name="by threshold")
    c.legend.append(("by threshold", svg.color(0)))
    if top_k is not None:
        svg.line(c, [(r[0], r[2]) for r in curve], svg.color(1), dash="5 3",
                 name=f"with top {top_k}")
        c.legend.append((f"with top {top_k}", svg.color(1)))
    threshold = a["consensus"].get("threshold")
    if threshold is not None:
        svg.vline(c, threshold, svg.color(5), f"threshold {threshold:g}")
    return svg.render(c)


def score_scatter(name: str, a: dict[str, Any]) -> str | None:
    """Each competing statement's score by the selecting method against a second method's,
    selected ones apart: where the two methods agree, and which statements only one favours."""
    comp = a.get("comparison")
    if not comp or not comp["points"]:
        return None
    x, y, pts = comp["x"], comp["y"], comp["points"]
    c = svg.chart(f"fig-score-scatter-{slug(name)}", f"{x} against {y}: {name}",
                  f"Each of the {len(pts)} scored statements by {method_title(x)} (x) and "
                  f"{method_title(y)} (y); statements selected by {x} are coloured.",
                  svg.padded(min(p[0] for p in pts), max(p[0] for p in pts)),
                  svg.padded(min(p[1] for p in pts), max(p[1] for p in pts)), height=420)
    svg.axes(c, f"{x} ({method_title(x)})", f"{y} ({method_title(y)})")
    for chosen, color, label in ((False, svg.MUTED, "not selected"),
                                 (True, svg.color(0), "selected")):
        group = [(p[0], p[1]) for p in pts if p[2] is chosen]
        if group:
            svg.dots(c, group, color, name=f"{label}: {len(group)} statements")
            c.legend.append((f"{label} ({len(group)})", color))
    return svg.render(c)


def _ticks(ids: list[str]) -> list[tuple[float, str]]:
    if len(ids) <= MAX_LABELLED:
        return [(i + 0.5, s) for i, s in enumerate(ids)]
    step = max(1, len(ids) // 10)
    return [(i + 0.5, str(i + 1)) for i in range(0, len(ids), step)]


def group_agreement(name: str, a: dict[str, Any]) -> str | None:
    rows = a["selected_agreement"]
    if not rows:
        return None
    groups = sorted({g for r in rows for g in r["groups"]})
    ids = [r["id"] for r in rows]
    c = svg.chart(f"fig-group-agreement-{slug(name)}", f"Agreement by group: {name}",
                  f"For each of the {len(rows)} selected statements (in selection order), the "
                  "share of each opinion group who agreed, among those who saw it.",
                  (0.0, float(len(rows))), (0.0, 1.0), width=bar_width(len(rows), 24))
    xlabel = "selected statement (id)" if len(ids) <= MAX_LABELLED else "selection rank"
    svg.axes(c, xlabel, "share agreeing", xtick_labels=_ticks(ids),
             yticks=[0, 0.25, 0.5, 0.75, 1.0])
    colors = group_colors(groups)
    width = 0.8 / max(len(groups), 1)
    for i, r in enumerate(rows):
        for j, g in enumerate(groups):
            share = r["groups"].get(g, 0.0)
            x0 = i + 0.1 + j * width
            svg.rect(c, x0, x0 + width, 0, share, colors[g],
                     f"statement {r['id']}, group {g}: {share:.0%} agree")
    c.legend.extend((f"group {g}", colors[g]) for g in groups)
    return svg.render(c)


def stability(name: str, a: dict[str, Any]) -> str | None:
    boot = a["stability"].get("bootstrap")
    if not boot or not boot["selected"]:
        return None
    rows = boot["selected"]
    ids = [r[0] for r in rows]
    c = svg.chart(f"fig-stability-{slug(name)}", f"Selection stability: {name}",
                  f"How often each selected statement was selected again in "
                  f"{boot['resamples']} bootstrap resamples of the participants (mean "
                  f"{boot['mean_selected']}).", (0.0, float(len(rows))), (0.0, 1.0),
                  width=bar_width(len(rows), 16))
    xlabel = "selected statement (id)" if len(ids) <= MAX_LABELLED else "selection rank"
    svg.axes(c, xlabel, "bootstrap selection frequency", xtick_labels=_ticks(ids),
             yticks=[0, 0.25, 0.5, 0.75, 1.0])
    for i, (sid, f) in enumerate(rows):
        fill = svg.color(2) if f >= 0.5 else svg.color(5)
        svg.rect(c, i + 0.15, i + 0.85, 0, f, fill, f"statement {sid}: selected in {f:.0%}")
    svg.hline(c, 0.5, svg.INK)
    return svg.render(c)


def jaccard(name: str, a: dict[str, Any]) -> str | None:
    groupings = a["stability"].get("groupings")
    if not groupings or not groupings.get("jaccard"):
        return None
    items = sorted(groupings["jaccard"].items())
    c = svg.chart(f"fig-jaccard-{slug(name)}", f"Selection across groupings: {name}",
                  "Jaccard overlap between the statements selected with the declared grouping "
                  "and with each alternative grouping method.",
                  (0.0, float(len(items))), (0.0, 1.0), bottom=110)
    svg.axes(c, "groupings compared", "Jaccard overlap", rotate=True,
             xtick_labels=[(i + 0.5, k) for i, (k, _) in enumerate(items)],
             yticks=[0, 0.25, 0.5, 0.75, 1.0])
    for i, (k, v) in enumerate(items):
        svg.rect(c, i + 0.2, i + 0.8, 0, float(v), svg.color(4), f"{k}: {float(v):.2f}")
    return svg.render(c)


def losses(name: str, stage: str, points: list[list[float]]) -> str | None:
    if not points:
        return None
    steps = [p[0] for p in points]
    values = [p[1] for p in points]
    lo, hi = svg.padded(min(values), max(values))
    c = svg.chart(f"fig-loss-{slug(name)}-{slug(stage)}", f"{stage.upper()} loss: {name}",
                  f"Training loss per logged step of the {stage.upper()} stage "
                  f"({len(points)} steps, last {values[-1]:.4g}).",
                  svg.padded(min(steps), max(steps), 0.02), (lo, hi), height=300)
    svg.axes(c, "training step", "loss")
    svg.line(c, [(p[0], p[1]) for p in points], svg.color(0), name=f"{stage} loss")
    svg.dots(c, [(p[0], p[1]) for p in points], svg.color(0), r=2.5)
    return svg.render(c)


def coverage(name: str, cov: dict[str, Any]) -> str | None:
    ids = cov["order"]
    if not ids or not (cov["critiques"] or cov["comparisons"]):
        return None
    table = cov["principles"]
    top = max(max(v["critiques"], v["comparisons"]) for v in table.values()) or 1
    c = svg.chart(f"fig-coverage-{slug(name)}", f"Principle coverage: {name}",
                  f"How often each of the {len(ids)} principles was drawn for a critique and "
                  f"for an AI comparison; {len(cov['never_drawn'])} were never drawn.",
                  (0.0, float(len(ids))), (0.0, top * 1.1), width=bar_width(len(ids), 20),
                  bottom=110)
    svg.axes(c, "principle", "times drawn", rotate=True,
             xtick_labels=[(i + 0.5, p) for i, p in enumerate(ids)]
             if len(ids) <= 60 else [(i + 0.5, str(i + 1)) for i in range(0, len(ids), 5)])
    for i, pid in enumerate(ids):
        v = table[pid]
        svg.rect(c, i + 0.1, i + 0.5, 0, v["critiques"], svg.color(0),
                 f"{pid}: {v['critiques']} critiques")
        svg.rect(c, i + 0.5, i + 0.9, 0, v["comparisons"], svg.color(1),
                 f"{pid}: {v['comparisons']} comparisons")
    c.legend.extend([("critiques", svg.color(0)), ("comparisons", svg.color(1))])
    return svg.render(c)


BBQ_TITLES = {"bias_disambiguated": "disambiguated contexts (s_DIS)",
              "bias_ambiguous": "ambiguous contexts (s_AMB)"}


def bbq(metric: str, models: dict[str, Any]) -> str | None:
    """Grouped bars: one group per category, one bar per model, bootstrap intervals."""
    if not models:
        return None
    cats = sorted({c for m in models.values() for c in m["categories"]})
    labels = sorted(models)
    values = [0.0]
    for m in models.values():
        for entry in m["categories"].values():
            iv = entry.get("intervals", {}).get(metric) or []
            values += [v for v in [entry.get(metric), *iv] if v is not None]
    lo, hi = min(values), max(values)
    span = max(abs(lo), abs(hi), 0.05) * 1.1
    c = svg.chart(f"fig-bbq-{metric.replace('_', '-')}", f"BBQ bias, {BBQ_TITLES[metric]}",
                  f"BBQ bias score per category on {BBQ_TITLES[metric]} for "
                  f"{', '.join(labels)}; 0 is unbiased, positive is towards the stereotype; "
                  "whiskers are bootstrap 95% intervals.",
                  (0.0, float(len(cats))), (-span, span), bottom=110)
    svg.axes(c, "category", "bias score", rotate=True,
             xtick_labels=[(i + 0.5, cat) for i, cat in enumerate(cats)])
    svg.hline(c, 0.0, svg.INK, dash="1 0")
    width = 0.8 / len(labels)
    for j, label in enumerate(labels):
        for i, cat in enumerate(cats):
            entry = models[label]["categories"].get(cat)
            if not entry or entry.get(metric) is None:
                continue
            x0 = i + 0.1 + j * width
            v = float(entry[metric])
            svg.rect(c, x0, x0 + width, 0, v, svg.color(j), f"{label}, {cat}: {v:+.3f}")
            iv = entry.get("intervals", {}).get(metric)
            if iv:
                svg.errorbar(c, x0 + width / 2, float(iv[0]), float(iv[1]))
        c.legend.append((label, svg.color(j)))
    return svg.render(c)
