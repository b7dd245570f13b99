"""The report's timeline for a watched build (`ccaic watch`): how the assembly grew and how
the selected statements' scores moved, one point per poll whose data moved.

It reads history/watch.json's timeline (ccaic.watch.state), which a plain `ccaic build`
folder lacks: then the report has no timeline section at all. Points are numbered by poll;
the poll times are in the table (SOURCE_DATE_EPOCH fixes them for a reproducible replay).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccaic.report import svg
from ccaic.report.figures import slug

if TYPE_CHECKING:  # tables imports model, which imports this module
    from ccaic.report.tables import Table

def read_timeline(root: Path) -> list[dict[str, Any]]:
    """The timeline points of a watched build folder; none for any other folder."""
    from ccaic.watch.state import state_path

    path = state_path(root)
    if not path.is_file():
        return []
    points = json.loads(path.read_text(encoding="utf-8")).get("timeline", [])
    return list(points) if isinstance(points, list) else []


def _r6(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6) + 0.0


def timeline_section(points: list[dict[str, Any]]) -> dict[str, Any]:
    """report.json's `timeline`: per assembly, each point's counts and cut, and the score
    trajectory of every statement selected at the last point."""
    names = sorted({name for p in points for name in p["assemblies"]})
    out: dict[str, Any] = {}
    for name in names:
        seen = [p for p in points if name in p["assemblies"]]
        last = seen[-1]["assemblies"][name]
        out[name] = {
            "method": last["method"], "threshold": _r6(last["threshold"]),
            "points": [{"poll": p["poll"], "time": p["time"],
                        "participants": p["assemblies"][name]["participants"],
                        "votes": p["assemblies"][name]["votes"],
                        "cut": _r6(p["assemblies"][name]["cut"])} for p in seen],
            "trajectories": {sid: [_r6(p["assemblies"][name]["scores"].get(sid))
                                   for p in seen] for sid in last["selected"]},
        }
    return out


def timeline_table(t: dict[str, Any]) -> Table:
    from ccaic.report.tables import fmt

    rows = [[str(p["poll"]), p["time"], fmt(p["participants"]), fmt(p["votes"]),
             fmt(p["cut"])] for p in t["points"]]
    return ["poll", "time (UTC)", "participants", "votes", f"cut ({t['method']})"], rows


def growth_figure(name: str, t: dict[str, Any], key: str) -> str | None:
    """One count (`participants` or `votes`) at each poll: each on its own axis, since votes
    outnumber participants by one or two orders of magnitude."""
    pts = t["points"]
    if len(pts) < 2:
        return None
    polls = [float(p["poll"]) for p in pts]
    values = [float(p[key]) for p in pts]
    c = svg.chart(f"fig-timeline-{key}-{slug(name)}", f"{key.capitalize()} over time: {name}",
                  f"{key.capitalize()} at each poll, from {pts[0][key]:,} to {pts[-1][key]:,}.",
                  svg.padded(polls[0], polls[-1], 0.02), (0.0, max(max(values), 1.0) * 1.05),
                  height=240)
    svg.axes(c, "poll", key)
    svg.line(c, list(zip(polls, values, strict=True)), svg.color(0), name=key)
    svg.dots(c, list(zip(polls, values, strict=True)), svg.color(0))
    return svg.render(c)


def trajectory_figure(name: str, t: dict[str, Any]) -> str | None:
    """Each selected statement's score at each poll, with the threshold (or, under top_k
    alone, the cut as it moved) drawn in."""
    pts, lines = t["points"], t["trajectories"]
    if len(pts) < 2 or not lines:
        return None
    polls = [float(p["poll"]) for p in pts]
    values = [v for vs in lines.values() for v in vs if v is not None]
    values += [p["cut"] for p in pts if p["cut"] is not None]
    lo, hi = svg.padded(min(values), max(values))
    c = svg.chart(f"fig-timeline-scores-{slug(name)}", f"Score trajectories: {name}",
                  f"The {t['method']} score of each of the {len(lines)} statements selected at "
                  "the last poll, at every poll; the dashed line is the threshold "
                  "(or the top-k cut).", svg.padded(polls[0], polls[-1], 0.02), (lo, hi))
    svg.axes(c, "poll", t["method"])
    for i, (sid, vs) in enumerate(lines.items()):
        track = [(x, v) for x, v in zip(polls, vs, strict=True) if v is not None]
        svg.line(c, track, svg.color(i), width=1.5, name=f"statement {sid}")
        if i < 6:  # the legend box holds a few names; every line has its hover title
            c.legend.append((f"statement {sid}", svg.color(i)))
    if t["threshold"] is not None:
        svg.hline(c, t["threshold"], svg.INK, dash="6 4")
    else:
        cut = [(x, p["cut"]) for x, p in zip(polls, pts, strict=True) if p["cut"] is not None]
        svg.line(c, cut, svg.INK, width=2, dash="6 4", name="top-k cut")
    c.legend.append(("threshold" if t["threshold"] is not None else "cut", svg.INK))
    return svg.render(c)
