"""report.md and report.html from one list of blocks, so the two never drift apart.

The HTML is one self-contained file: inline CSS, inline SVG figures, no scripts, no external
styles, fonts or images; it opens offline and prints. The Markdown has the same headings and
tables, and points to report.html for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from ccaic.report import figures, tables, timeline
from ccaic.report.model import pipeline_order
from ccaic.report.projections import OpinionMap
from ccaic.report.tables import Table
from ccaic.report.topics import topics_table


@dataclass(frozen=True)
class Block:
    kind: str  # "h1", "h2", "h3", "p", "table", "figure"
    text: str = ""
    table: Table | None = None


def _figure(svg_text: str | None, caption: str) -> list[Block]:
    return [Block("figure", svg_text, None), Block("caption", caption)] if svg_text else []


def document(report: dict[str, Any], maps: dict[str, OpinionMap] | None = None) -> list[Block]:
    """Every heading, paragraph, table and figure of the report, in order."""
    maps = maps or {}
    out = [Block("h1", "ccaic build report")]
    out += [Block("p", f"Note: {n}.") for n in report["notes"]]
    for name, a in report["assemblies"].items():
        out += _assembly(name, a, maps.get(name))
    for name, t in (report.get("timeline") or {}).items():
        out += _timeline(name, t)
    for name, c in report["constitutions"].items():
        out += _constitution(name, c)
    for name, t in report["training"].items():
        out += _training(name, t)
    out += _evaluation(report["evaluation"])
    return out


def _timeline(name: str, t: dict[str, Any]) -> list[Block]:
    """A watched build's timeline (ccaic.report.timeline)."""
    return [Block("h2", f"Timeline `{name}`"),
            Block("p", f"{len(t['points'])} polls brought new votes; the statements selected "
                       f"now, and how their {t['method']} scores got there."),
            Block("table", table=timeline.timeline_table(t)),
            *_figure(timeline.growth_figure(name, t, "participants"),
                     "Participants at each poll."),
            *_figure(timeline.growth_figure(name, t, "votes"), "Votes at each poll."),
            *_figure(timeline.trajectory_figure(name, t),
                     "Each selected statement's score at each poll; dashed: the threshold.")]


def _n(count: int, one: str, many: str) -> str:
    """`1 principle`, `2 principles` (it said "1 principles; 1 need a hand edit")."""
    return f"{count} {one if count == 1 else many}"


def _constitution(name: str, c: dict[str, Any]) -> list[Block]:
    origin = c["origin"]
    source = f", from {origin['source']}" if origin.get("source") else ""
    method = f" Selection: {c['selection_method']}." if c["selection_method"] else ""
    return [Block("h2", f"Constitution `{name}`"),
            Block("p", f"{_n(c['principles'], 'principle', 'principles')} "
                       f"({origin.get('kind', '')}{source}); "
                       f"{_n(c['needs_hand_edit'], 'needs', 'need')} a hand edit, "
                       f"{_n(c['edited'], 'was', 'were')} edited, "
                       f"{_n(c['dropped'], 'statement', 'statements')} dropped.{method}"),
            Block("table", table=tables.constitution(c)),
            *([Block("h3", "Topics"), Block("table", table=topics_table(c["topics"]))]
              if c.get("topics") else [])]


def _assembly(name: str, a: dict[str, Any], m: OpinionMap | None) -> list[Block]:
    out = [Block("h2", f"Assembly `{name}`")]
    if a.get("description"):
        out.append(Block("p", a["description"]))
    out += [Block("table", table=tables.assembly_summary(a)),
            Block("h3", "Moderation and cleaning"),
            Block("table", table=tables.moderation(a))]
    if (near := tables.duplicates(a)) is not None:
        out += [Block("h3", "Near-duplicates"), Block("table", table=near)]
    out += [*_polis_report(name, a.get("polis_report"), m), Block("h3", "Figures")]
    if m is not None and not a.get("polis_report"):  # else in the Polis report, with hulls
        out += _figure(figures.opinion_map(name, m), "Participants on the first two principal "
                       "components of the vote matrix, coloured by opinion group.")
    out += _figure(figures.gac_histogram(name, a), "Distribution of "
                   f"{figures.method_title(a['consensus'].get('score', 'gac'))} with the "
                   "selection threshold.")
    out += _figure(figures.score_scatter(name, a), "The selecting method's scores against "
                   "another computed method's.")
    out += _figure(figures.threshold_curve(name, a), "Statements selected as the threshold "
                   "moves.")
    out += _figure(figures.group_agreement(name, a), "Each group's agreement with the "
                   "selected statements.")
    out += _figure(figures.stability(name, a), "Bootstrap selection frequency of the selected "
                   "statements (0.5 line dashed).")
    out += _figure(figures.jaccard(name, a), "Overlap of the selection across groupings.")
    if a["selected_agreement"]:
        out += [Block("h3", "Selected statements"),
                Block("table", table=tables.selected(a))]
    return out


def _polis_report(name: str, pr: dict[str, Any] | None, m: OpinionMap | None) -> list[Block]:
    """Polis's report: the opinion map with group hulls, each group's representative
    statements, then the consensus statements."""
    if not pr:
        return []
    out = [Block("h3", "Polis report"),
           Block("p", "Opinion groups as Polis's report shows them: each group's representative "
                      "statements (Polis repness, in Polis's order) with the share agreeing and "
                      "disagreeing inside and outside the group, then the statements most of "
                      "everyone agrees or disagrees with. Moderated-out statements are left out "
                      "of both.")]
    if m is not None:
        out += _figure(figures.opinion_map(name, m, hulls=True), "Participants on the first "
                       "two principal components of the vote matrix, coloured by opinion group, "
                       "with each group's convex hull.")
    for g in pr["groups"]:
        out += [Block("p", f"**Group {g['id']}**: {g['size']:,} participants."),
                Block("table", table=tables.polis_group(g))]
    out += [Block("p", "**Consensus statements** (all participants)."),
            Block("table", table=tables.polis_consensus(pr["consensus"]))]
    return out


def _training(name: str, t: dict[str, Any]) -> list[Block]:
    out = [Block("h2", f"Training `{name}`"),
           Block("p", f"Plan {t['plan']} (sha256 {str(t['plan_sha256'])[:12]}), stopped after "
                      f"{t['stopped_after']}.")]
    if t["losses"]:
        out += [Block("h3", "Losses"), Block("table", table=tables.training_losses(t))]
        for stage in pipeline_order(list(t["losses"])):
            out += _figure(figures.losses(name, stage, t["losses"][stage]),
                           f"{stage.upper()} training loss.")
    out += [Block("h3", "Stage counts (cleaning included)"),
            Block("table", table=tables.training_counts(t))]
    cov = t["coverage"]
    if cov["order"]:
        never = ", ".join(cov["never_drawn"]) or "none"
        out += [Block("h3", "Principle coverage"),
                Block("p", f"{cov['critiques']} critiques and {cov['comparisons']} comparisons "
                           f"drew a principle; never drawn: {never}.")]
        out += _figure(figures.coverage(name, cov), "Times each principle was drawn.")
        out.append(Block("table", table=tables.coverage(t)))
    return out


def _evaluation(ev: dict[str, Any]) -> list[Block]:
    if not ev["bbq"] and not ev["hhh"]:
        return []
    out = [Block("h2", "Evaluation")]
    if ev["bbq"]:
        out.append(Block("h3", "BBQ bias"))
        for metric in ("bias_disambiguated", "bias_ambiguous"):
            out += _figure(figures.bbq(metric, ev["bbq"]), f"BBQ {metric.replace('_', ' ')} "
                           "per category for each model.")
        for label, m in ev["bbq"].items():
            out += [Block("p", f"**{label}** ({m['model']}, {m['limit_per_category'] or 'all'} "
                               "examples per category)"),
                    Block("table", table=tables.bbq(label, m))]
    if ev["hhh"]:
        out += [Block("h3", "HHH judge accuracy"), Block("table", table=tables.hhh(ev["hhh"]))]
    return out


# ---------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def md_table(table: Table) -> str:
    headers, rows = table
    if not rows:
        return "_(none)_\n"
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_markdown(report: dict[str, Any], maps: dict[str, OpinionMap] | None = None) -> str:
    parts: list[str] = []
    figure_count = 0
    for b in document(report, maps):
        if b.kind in ("h1", "h2", "h3"):
            parts.append("#" * int(b.kind[1]) + " " + b.text + "\n")
            if b.kind == "h1":
                parts.append("Figures are in report.html; numbers in report.json.\n")
        elif b.kind == "p":
            parts.append(b.text + "\n")
        elif b.kind == "table" and b.table is not None:
            parts.append(md_table(b.table))
        elif b.kind == "figure":
            figure_count += 1
        elif b.kind == "caption":
            parts.append(f"_Figure {figure_count} (report.html): {b.text}_\n")
    return "\n".join(parts)


# ---------------------------------------------------------------- HTML

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
  background: #fff; margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
h1 { font-size: 1.7rem; margin: 0 0 1rem; }
h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #d0d0d0; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #f2f4f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; overflow-x: auto; }
figcaption { font-size: 0.85rem; color: #555; }
svg { font: 11px system-ui, sans-serif; fill: #222; max-width: 100%; height: auto; }
svg .chart-title { font-size: 14px; font-weight: 600; }
svg .axis-title { font-size: 12px; }
code { background: #f2f4f7; padding: 0 0.2rem; }
.note { color: #5a4a00; background: #fff8d6; padding: 0.3rem 0.6rem; }
"""


def _inline(text: str) -> str:
    """Escape, then the two bits of Markdown the blocks use: `code` and **bold**."""
    out = escape(text)
    pieces = out.split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))
    pieces = out.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(pieces))


def _is_num(cell: str) -> bool:
    head = cell.split(" ")[0].replace(",", "").replace("%", "")
    try:
        float(head)
    except ValueError:
        return False
    return True


def html_table(table: Table) -> str:
    headers, rows = table
    if not rows:
        return "<p><em>(none)</em></p>"
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{escape(c)}</td>' if _is_num(c)
                         else f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict[str, Any], maps: dict[str, OpinionMap] | None = None) -> str:
    parts: list[str] = []
    pending: str | None = None
    for b in document(report, maps):
        if b.kind in ("h1", "h2", "h3"):
            parts.append(f"<{b.kind}>{_inline(b.text)}</{b.kind}>")
        elif b.kind == "p":
            cls = ' class="note"' if b.text.startswith("Note: ") else ""
            parts.append(f"<p{cls}>{_inline(b.text)}</p>")
        elif b.kind == "table" and b.table is not None:
            parts.append(html_table(b.table))
        elif b.kind == "figure":
            pending = b.text
        elif b.kind == "caption" and pending is not None:
            parts.append(f"<figure>{pending}<figcaption>{escape(b.text)}</figcaption></figure>")
            pending = None
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>ccaic build report</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n" + "\n".join(parts)
            + "\n</main>\n</body>\n</html>\n")
