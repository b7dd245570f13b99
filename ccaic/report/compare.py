"""Metric deltas between two builds' report.json: the metrics half of `ccaic diff`.

The constitution half is ccaic.diff; this module pairs the two reports' sections and lists each
number side by side with its change and, where the report has them, each side's interval (BBQ
bootstrap intervals, HHH Wilson intervals). Sections present on one side only still show, with
the missing side as "—": a public constitution built from an assembly against a hand-written
standard one has assembly numbers on one side only.

Pairing: sections with the same name on both sides are paired; when each side has exactly one
section of a kind under different names (assembly `public` vs `standard`), those two are paired.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ccaic.canonical import canonical_json

METRICS_FORMAT_VERSION = "1.0"

ASSEMBLY_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("participants", ("participants",)),
    ("statements kept", ("statements", "kept")),
    ("statements scored", ("statements", "scored")),
    ("opinion groups", ("groups", "k")),
    ("silhouette", ("groups", "silhouette")),
    ("statements selected", ("selected", "n")),
    ("consensus mean", ("scores", "mean")),
    ("consensus median", ("scores", "median")),
    ("consensus min", ("scores", "min")),
    ("consensus max", ("scores", "max")),
    ("bootstrap frequency of selected (mean)", ("stability", "bootstrap", "mean_selected")),
)
CONSTITUTION_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("principles", ("principles",)),
    ("needing a hand edit", ("needs_hand_edit",)),
    ("edited by hand", ("edited",)),
    ("statements dropped", ("dropped",)),
)
BBQ_METRICS = ("bias_disambiguated", "bias_ambiguous", "accuracy_disambiguated",
               "accuracy_ambiguous")


@dataclass(frozen=True)
class MetricRow:
    section: str  # e.g. "assembly quickstart", "bbq public: Age"
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    a_interval: list[float] | None = None
    b_interval: list[float] | None = None

    @property
    def overlap(self) -> bool | None:
        """Whether the two intervals overlap (None without both): a cue, not a test."""
        if not self.a_interval or not self.b_interval:
            return None
        return self.a_interval[0] <= self.b_interval[1] and self.b_interval[0] <= self.a_interval[1]


@dataclass
class MetricsDiff:
    a_label: str
    b_label: str
    rows: list[MetricRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[MetricRow]:
        return [r for r in self.rows if r.delta not in (None, 0) or (r.a is None) != (r.b is None)]


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    return float(x) if isinstance(x, (int, float)) else None


def _row(section: str, metric: str, a: Any, b: Any, a_iv: Any = None,
         b_iv: Any = None) -> MetricRow:
    va, vb = _number(a), _number(b)
    delta = None if va is None or vb is None else round(vb - va, 6) + 0.0
    return MetricRow(section, metric, va, vb, delta, list(a_iv) if a_iv else None,
                     list(b_iv) if b_iv else None)


def pair(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(label, a's entry or None, b's entry or None) for every section name on either side."""
    if len(a) == 1 and len(b) == 1 and set(a) != set(b):
        (na, va), (nb, vb) = next(iter(a.items())), next(iter(b.items()))
        return [(f"{na} → {nb}", va, vb)]
    return [(n, a.get(n), b.get(n)) for n in sorted(set(a) | set(b))]


def _fixed(kind: str, a: dict[str, Any], b: dict[str, Any],
           metrics: tuple[tuple[str, tuple[str, ...]], ...]) -> list[MetricRow]:
    rows = []
    for name, ea, eb in pair(a, b):
        for metric, path in metrics:
            rows.append(_row(f"{kind} {name}", metric, _get(ea, path), _get(eb, path)))
    return rows


def _flat_numbers(prefix: str, data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat_numbers(f"{prefix}.{k}" if prefix else str(k), v))
        return out
    return {prefix: data} if _number(data) is not None else {}


def _training(a: dict[str, Any], b: dict[str, Any]) -> list[MetricRow]:
    rows = []
    for name, ea, eb in pair(a, b):
        ca = _flat_numbers("", (ea or {}).get("counts", {}))
        cb = _flat_numbers("", (eb or {}).get("counts", {}))
        for key in sorted(set(ca) | set(cb)):
            rows.append(_row(f"training {name}", key, ca.get(key), cb.get(key)))
        for stage in sorted(set((ea or {}).get("losses", {})) | set((eb or {}).get("losses", {}))):
            la = (ea or {}).get("losses", {}).get(stage) or []
            lb = (eb or {}).get("losses", {}).get(stage) or []
            rows.append(_row(f"training {name}", f"{stage} last loss",
                             la[-1][1] if la else None, lb[-1][1] if lb else None))
        never = [len(e["coverage"]["never_drawn"]) if e else None for e in (ea, eb)]
        rows.append(_row(f"training {name}", "principles never drawn", *never))
    return rows


def _bbq(a: dict[str, Any], b: dict[str, Any]) -> list[MetricRow]:
    rows = []
    for name, ea, eb in pair(a, b):
        cats_a = {**(ea or {}).get("categories", {}), "overall": (ea or {}).get("overall")}
        cats_b = {**(eb or {}).get("categories", {}), "overall": (eb or {}).get("overall")}
        names = [*sorted(c for c in set(cats_a) | set(cats_b) if c != "overall"), "overall"]
        for cat in names:
            xa, xb = cats_a.get(cat) or {}, cats_b.get(cat) or {}
            if not xa and not xb:
                continue
            for metric in BBQ_METRICS:
                rows.append(_row(f"bbq {name}: {cat}", metric, xa.get(metric), xb.get(metric),
                                 _get(xa, ("intervals", metric)), _get(xb, ("intervals", metric))))
    return rows


def _hhh(a: dict[str, Any], b: dict[str, Any]) -> list[MetricRow]:
    return [_row(f"hhh {name}", "judge accuracy", _get(ea, ("accuracy",)),
                 _get(eb, ("accuracy",)), _get(ea, ("interval",)), _get(eb, ("interval",)))
            for name, ea, eb in pair(a, b)]


def _method_notes(a: dict[str, Any], b: dict[str, Any], a_label: str, b_label: str
                  ) -> list[str]:
    """A paired assembly scored by another method on each side: its consensus numbers then
    compare two scales (a bridging intercept and a GAC product), which the deltas alone hide."""
    notes = []
    for name, ea, eb in pair(a, b):
        ma, mb = _get(ea, ("consensus", "score")), _get(eb, ("consensus", "score"))
        if ma and mb and ma != mb:
            notes.append(f"assembly {name}: scored by {ma} in {a_label} and by {mb} in "
                         f"{b_label}; its consensus mean, median, min and max compare two "
                         "methods")
    return notes


def compare_reports(a: dict[str, Any], b: dict[str, Any], a_label: str = "A",
                    b_label: str = "B") -> MetricsDiff:
    """Every number of two report.json bodies side by side, with B - A."""
    out = MetricsDiff(a_label, b_label)
    for side, r in (("A", a), ("B", b)):
        if r.get("format_version") != "1.0":
            out.notes.append(f"{side} has report format {r.get('format_version')!r}; "
                             "this ccaic reads 1.0")
    out.rows += _fixed("assembly", a.get("assemblies", {}), b.get("assemblies", {}),
                       ASSEMBLY_METRICS)
    out.notes += _method_notes(a.get("assemblies", {}), b.get("assemblies", {}), a_label,
                               b_label)
    out.rows += _fixed("constitution", a.get("constitutions", {}), b.get("constitutions", {}),
                       CONSTITUTION_METRICS)
    out.rows += _training(a.get("training", {}), b.get("training", {}))
    ev_a, ev_b = a.get("evaluation", {}), b.get("evaluation", {})
    out.rows += _bbq(ev_a.get("bbq", {}), ev_b.get("bbq", {}))
    out.rows += _hhh(ev_a.get("hhh", {}), ev_b.get("hhh", {}))
    if not ev_a.get("bbq") and not ev_b.get("bbq"):
        out.notes.append("neither build has a BBQ evaluation")
    return out


# ---------------------------------------------------------------- renderings


def _v(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{int(x):,}" if float(x).is_integer() and abs(x) >= 1 else f"{x:.3f}"


def _d(row: MetricRow) -> str:
    if row.delta is None:
        return "—" if row.a is None or row.b is None else ""
    if row.delta == 0:
        return "0"
    return ("+" if row.delta > 0 else "") + _v(row.delta)


def _iv(iv: list[float] | None) -> str:
    return f" [{iv[0]:.3f}, {iv[1]:.3f}]" if iv else ""


def _sections(diff: MetricsDiff, all_rows: bool) -> dict[str, list[MetricRow]]:
    rows = diff.rows if all_rows else diff.changed
    out: dict[str, list[MetricRow]] = {}
    for r in rows:
        out.setdefault(r.section, []).append(r)
    return out


def to_json(diff: MetricsDiff) -> str:
    body = {"format_version": METRICS_FORMAT_VERSION, "a": diff.a_label, "b": diff.b_label,
            "notes": diff.notes,
            "metrics": [{**asdict(r), "overlap": r.overlap} for r in diff.rows]}
    return canonical_json(body)


def to_text(diff: MetricsDiff, all_rows: bool = False) -> str:
    lines = [f"Metrics: {diff.a_label} -> {diff.b_label}"
             + ("" if all_rows else " (changed only)")]
    lines += [f"  note: {n}" for n in diff.notes]
    for section, rows in _sections(diff, all_rows).items():
        lines.append(f"  {section}")
        for r in rows:
            lines.append(f"    {r.metric}: {_v(r.a)}{_iv(r.a_interval)} -> {_v(r.b)}"
                         f"{_iv(r.b_interval)}  ({_d(r)})")
    if len(lines) == 1 + len(diff.notes):
        lines.append("  no metric changed")
    return "\n".join(lines) + "\n"


def to_markdown(diff: MetricsDiff, all_rows: bool = False) -> str:
    """A table per section, ready to paste into a pull request."""
    parts = [f"### Metrics: {diff.a_label} → {diff.b_label}\n"]
    parts += [f"> {n}\n" for n in diff.notes]
    sections = _sections(diff, all_rows)
    if not sections:
        parts.append("No metric changed.\n")
    for section, rows in sections.items():
        with_iv = any(r.a_interval or r.b_interval for r in rows)
        head = ["metric", diff.a_label, diff.b_label, "Δ"]
        if with_iv:
            head += [f"{diff.a_label} 95% CI", f"{diff.b_label} 95% CI", "CIs overlap"]
        lines = [f"**{section}**\n", "| " + " | ".join(head) + " |",
                 "|" + "|".join("---" for _ in head) + "|"]
        for r in rows:
            cells = [r.metric, _v(r.a), _v(r.b), _d(r)]
            if with_iv:
                ov = {True: "yes", False: "**no**", None: ""}[r.overlap]
                cells += [_iv(r.a_interval).strip(), _iv(r.b_interval).strip(), ov]
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


# ---------------------------------------------------------------- diff sides


def build_side(spec: str) -> tuple[str, dict[str, Any] | None]:
    """A `ccaic diff` argument that names a build: a build folder (`DIR` or `DIR#name`) or a
    report.json inside one. Returns (the constitution JSON to diff, the report body or None);
    any other argument is returned unchanged with no report, for ccaic.diff.load to handle."""
    from pathlib import Path

    from ccaic.diagnostics import DiagnosticError, error

    try:  # a name too long or a symlink loop: ccaic.diff.load reports it (CCAI470)
        path, _, name = spec.partition("#") if not Path(spec).exists() else (spec, "", "")
        p = Path(path)
        if p.is_file() and p.name == "report.json":
            root = p.parent
        elif p.is_dir() and ((p / "report.json").is_file() or (p / "constitutions").is_dir()):
            root = p
        else:
            return spec, None
    except OSError:
        return spec, None
    report = None
    if (root / "report.json").is_file():
        report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    found = sorted((root / "constitutions").glob("*.json"))
    if name:
        found = [f for f in found if f.stem == name]
    if len(found) == 1:
        return str(found[0]), report
    if not found:
        raise DiagnosticError([error(
            "CCAI474", f"{root} has no constitution{f' `{name}`' if name else ''} in "
            "constitutions/", help="build it first with `ccaic build FILE -o "
            f"{root}`, or name one of its constitutions with {root}#NAME")])
    choices = ", ".join(f"{root}#{f.stem}" for f in found)
    raise DiagnosticError([error("CCAI475", f"{root} has {len(found)} constitutions; say which "
                                 "one to diff", help=f"write one of: {choices}")])


def render(diff: MetricsDiff, fmt: str, all_rows: bool = False) -> str:
    """The metrics section in `ccaic diff`'s --format (json: the body to nest as "metrics")."""
    if fmt == "json":
        return to_json(diff)
    return to_markdown(diff, all_rows) if fmt == "markdown" else to_text(diff, all_rows)
