"""Hand-written SVG: scales, axes and marks with fixed number formatting.

Why not matplotlib: it is not a dependency, its SVG embeds ids and dates that change between
runs, and it needs a font cache. These few primitives give byte-identical, accessible figures
(every chart has a <title> and <desc>, axes are labelled) that a browser draws offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
MUTED = "#8c8c8c"
INK = "#222222"
GRID = "#e3e3e3"


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def num(x: float) -> str:
    """Coordinates with two decimals and no '-0.00': stable bytes across platforms."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def label(x: float) -> str:
    """Tick labels: short, no trailing zeros."""
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 5 x 10^n steps)."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


@dataclass(frozen=True)
class Scale:
    """Linear map from a data interval to a pixel interval."""

    d0: float
    d1: float
    p0: float
    p1: float

    def __call__(self, x: float) -> float:
        if self.d1 == self.d0:
            return (self.p0 + self.p1) / 2
        return self.p0 + (x - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)


def padded(lo: float, hi: float, pad: float = 0.05) -> tuple[float, float]:
    """A data range with a margin, never empty."""
    if hi <= lo:
        return lo - 1.0, hi + 1.0
    span = hi - lo
    return lo - span * pad, hi + span * pad


@dataclass
class Chart:
    """One figure: a plot area with axes, marks appended as SVG strings, and a legend."""

    ident: str
    title: str
    desc: str
    x: Scale
    y: Scale
    width: int = 640
    height: int = 360
    marks: list[str] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)

    def add(self, mark: str) -> None:
        self.marks.append(mark)


MARGIN = (40, 20, 56, 64)  # top, right, bottom, left


def chart(ident: str, title: str, desc: str, xdom: tuple[float, float],
          ydom: tuple[float, float], width: int = 640, height: int = 360,
          bottom: int = MARGIN[2]) -> Chart:
    """A chart; `bottom` makes room for long (rotated) category labels."""
    top, right, _, left = MARGIN
    return Chart(ident, title, desc, Scale(xdom[0], xdom[1], left, width - right),
                 Scale(ydom[0], ydom[1], height - bottom, top), width, height)


def axes(c: Chart, xlabel: str, ylabel: str, xticks: Sequence[float] | None = None,
         yticks: Sequence[float] | None = None,
         xtick_labels: Sequence[tuple[float, str]] | None = None, rotate: bool = False) -> None:
    """Grid lines, tick labels and axis titles; `rotate` slants long category labels."""
    xs = nice_ticks(c.x.d0, c.x.d1) if xticks is None else list(xticks)
    ys = nice_ticks(c.y.d0, c.y.d1) if yticks is None else list(yticks)
    left, right = c.x.p0, c.x.p1
    bottom, top = c.y.p0, c.y.p1
    parts = ['<g class="axes" aria-hidden="true">']
    for t in ys:
        y = num(c.y(t))
        parts.append(f'<line x1="{num(left)}" y1="{y}" x2="{num(right)}" y2="{y}" '
                     f'stroke="{GRID}"/>')
        parts.append(f'<text x="{num(left - 6)}" y="{y}" text-anchor="end" '
                     f'dominant-baseline="middle">{label(t)}</text>')
    ticks = xtick_labels if xtick_labels is not None else [(t, label(t)) for t in xs]
    for t, text in ticks:
        x = num(c.x(t))
        parts.append(f'<line x1="{x}" y1="{num(bottom)}" x2="{x}" y2="{num(bottom + 4)}" '
                     f'stroke="{INK}"/>')
        if rotate:
            parts.append(f'<text x="{x}" y="{num(bottom + 12)}" text-anchor="end" '
                         f'transform="rotate(-35 {x} {num(bottom + 12)})">{escape(text)}</text>')
        else:
            parts.append(f'<text x="{x}" y="{num(bottom + 16)}" text-anchor="middle">'
                         f'{escape(text)}</text>')
    parts.append(f'<line x1="{num(left)}" y1="{num(bottom)}" x2="{num(right)}" '
                 f'y2="{num(bottom)}" stroke="{INK}"/>')
    parts.append(f'<line x1="{num(left)}" y1="{num(bottom)}" x2="{num(left)}" y2="{num(top)}" '
                 f'stroke="{INK}"/>')
    parts.append(f'<text class="axis-title" x="{num((left + right) / 2)}" '
                 f'y="{num(c.height - 14)}" text-anchor="middle">{escape(xlabel)}</text>')
    cy = num((top + bottom) / 2)
    parts.append(f'<text class="axis-title" x="16" y="{cy}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {cy})">{escape(ylabel)}</text>')
    parts.append("</g>")
    c.marks.insert(0, "".join(parts))


def line(c: Chart, points: Sequence[tuple[float, float]], stroke: str, width: float = 2,
         dash: str | None = None, name: str | None = None) -> None:
    if not points:
        return
    d = " ".join(f"{num(c.x(x))},{num(c.y(y))}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    title = f"<title>{escape(name)}</title>" if name else ""
    c.add(f'<polyline fill="none" stroke="{stroke}" stroke-width="{num(width)}"{extra} '
          f'points="{d}">{title}</polyline>')


def vline(c: Chart, x: float, stroke: str, text: str) -> None:
    """A labelled vertical reference line (the consensus threshold)."""
    px = num(c.x(x))
    c.add(f'<g class="ref"><line x1="{px}" y1="{num(c.y.p0)}" x2="{px}" y2="{num(c.y.p1)}" '
          f'stroke="{stroke}" stroke-width="2" stroke-dasharray="6 4"/>'
          f'<text x="{num(c.x(x) + 4)}" y="{num(c.y.p1 - 4)}" fill="{stroke}">{escape(text)}'
          f'</text></g>')


def hline(c: Chart, y: float, stroke: str, dash: str = "4 3") -> None:
    py = num(c.y(y))
    c.add(f'<line x1="{num(c.x.p0)}" y1="{py}" x2="{num(c.x.p1)}" y2="{py}" stroke="{stroke}" '
          f'stroke-dasharray="{dash}"/>')


def rect(c: Chart, x0: float, x1: float, y0: float, y1: float, fill: str,
         name: str | None = None) -> None:
    """A bar between data coordinates (x0..x1, y0..y1), with a hover title."""
    px0, px1 = sorted((c.x(x0), c.x(x1)))
    py0, py1 = sorted((c.y(y0), c.y(y1)))
    title = f"<title>{escape(name)}</title>" if name else ""
    c.add(f'<rect x="{num(px0)}" y="{num(py0)}" width="{num(max(px1 - px0, 0.5))}" '
          f'height="{num(max(py1 - py0, 0))}" fill="{fill}">{title}</rect>')


def errorbar(c: Chart, x: float, lo: float, hi: float, stroke: str = INK) -> None:
    px, ylo, yhi = num(c.x(x)), num(c.y(lo)), num(c.y(hi))
    c.add(f'<g stroke="{stroke}"><line x1="{px}" y1="{ylo}" x2="{px}" y2="{yhi}"/>'
          f'<line x1="{num(c.x(x) - 3)}" y1="{ylo}" x2="{num(c.x(x) + 3)}" y2="{ylo}"/>'
          f'<line x1="{num(c.x(x) - 3)}" y1="{yhi}" x2="{num(c.x(x) + 3)}" y2="{yhi}"/></g>')


def dots(c: Chart, points: Sequence[tuple[float, float]], fill: str, r: float = 2.5,
         name: str | None = None) -> None:
    """Many points as one <path> of tiny circles: small and fast for thousands of points."""
    if not points:
        return
    rr = num(r)
    d = "".join(f"M{num(c.x(x) - r)},{num(c.y(y))}a{rr},{rr} 0 1,0 {num(2 * r)},0"
                f"a{rr},{rr} 0 1,0 {num(-2 * r)},0" for x, y in points)
    title = f"<title>{escape(name)}</title>" if name else ""
    c.add(f'<path fill="{fill}" fill-opacity="0.7" d="{d}">{title}</path>')


def render(c: Chart) -> str:
    """The figure as an <svg> element labelled by its title and description."""
    legend = _legend(c)
    return (f'<svg id="{c.ident}" role="img" '
            f'viewBox="0 0 {c.width} {c.height}" width="{c.width}" height="{c.height}" '
            f'aria-labelledby="{c.ident}-title {c.ident}-desc">'
            f'<title id="{c.ident}-title">{escape(c.title)}</title>'
            f'<desc id="{c.ident}-desc">{escape(c.desc)}</desc>'
            f'<text class="chart-title" x="{MARGIN[3]}" y="22">{escape(c.title)}</text>'
            + "".join(c.marks) + legend + "</svg>")


def _legend(c: Chart) -> str:
    if not c.legend:
        return ""
    x = c.x.p1 - 150
    parts = [f'<g class="legend" transform="translate({num(x)} {MARGIN[0] + 4})">'
             f'<rect x="-4" y="-3" width="150" height="{len(c.legend) * 16 + 2}" fill="#ffffff" '
             'fill-opacity="0.85"/>']
    for i, (name, fill) in enumerate(c.legend):
        y = i * 16
        parts.append(f'<rect x="0" y="{y}" width="10" height="10" fill="{fill}"/>'
                     f'<text x="16" y="{y + 9}">{escape(name)}</text>')
    parts.append("</g>")
    return "".join(parts)
