"""The diff itself: entries per principle, a summary, and three renderings.

Actions follow Terraform: `no-op` (unchanged), `update` (matched, something differs),
`delete` (only in A), `create` (only in B). A matched pair is unchanged only when its text,
critique and revision are all equal. Overlap = matched / union, where matched = unchanged +
changed and union = |A| + |B| - matched (a Jaccard index over principles, with matched pairs
counted once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ccaic.canonical import canonical_json
from ccaic.constitution.model import Constitution, Principle
from ccaic.diff.analysis import (
    framing_counts,
    one_sided_themes,
    selection_change,
    selection_lines,
)
from ccaic.diff.match import THRESHOLDS, match

DIFF_FORMAT_VERSION = "1.0"
COMPARED_FIELDS = ("text", "critique", "revision")
MARKERS = {"no-op": " ", "update": "~", "delete": "-", "create": "+"}
LEGEND = {"update": "~ changed (matched by meaning; text or prompts differ)",
          "delete": "- removed (only in A)", "create": "+ added (only in B)",
          "no-op": "  unchanged"}
DETAILS_AFTER = 10  # markdown: longer lists fold into <details>


@dataclass(frozen=True)
class Entry:
    action: str
    before: Principle | None
    after: Principle | None
    similarity: float | None = None
    changed: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        p = self.before or self.after
        assert p is not None
        return p.address


@dataclass
class DiffResult:
    a: Constitution
    b: Constitution
    matcher: str
    threshold: float
    entries: list[Entry] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(e.action == action for e in self.entries)

    @property
    def overlap(self) -> float:
        matched = self.count("no-op") + self.count("update")
        union = len(self.a.principles) + len(self.b.principles) - matched
        return matched / union if union else 1.0

    @property
    def has_changes(self) -> bool:
        return any(e.action != "no-op" for e in self.entries)

    def summary(self) -> dict[str, Any]:
        return {"unchanged": self.count("no-op"), "changed": self.count("update"),
                "removed": self.count("delete"), "added": self.count("create"),
                "overlap": round(self.overlap, 4)}

    def summary_line(self) -> str:
        s = self.summary()
        return (f"{s['unchanged']} unchanged, {s['changed']} changed, {s['removed']} removed, "
                f"{s['added']} added (overlap {round(100 * self.overlap)}%)")


def _by_address(c: Constitution) -> list[Principle]:
    return sorted(c.principles, key=lambda p: p.address)


def diff_constitutions(a: Constitution, b: Constitution, matcher: str = "tfidf",
                       threshold: float | None = None) -> DiffResult:
    """Pair principles by meaning and classify each; deterministic, address-ordered."""
    pa, pb = _by_address(a), _by_address(b)
    limit = THRESHOLDS[matcher] if threshold is None else threshold
    pairs = match([p.text for p in pa], [p.text for p in pb], matcher, limit)
    result = DiffResult(a=a, b=b, matcher=matcher, threshold=limit)
    paired_b = {pair.b for pair in pairs}
    by_a = {pair.a: pair for pair in pairs}
    for i, p in enumerate(pa):
        pair = by_a.get(i)
        if pair is None:
            result.entries.append(Entry("delete", p, None))
            continue
        q = pb[pair.b]
        changed = tuple(f for f in COMPARED_FIELDS if getattr(p, f) != getattr(q, f))
        result.entries.append(Entry("update" if changed else "no-op", p, q,
                                    round(pair.similarity, 4), changed))
    result.entries.extend(Entry("create", None, q) for j, q in enumerate(pb)
                          if j not in paired_b)
    return result


# ---------------------------------------------------------------- JSON


def _ref(p: Principle | None) -> dict[str, str] | None:
    return None if p is None else {"address": p.address, "id": p.id, "text": p.text}


def _side(c: Constitution) -> dict[str, Any]:
    return {"name": c.name, "origin": c.origin.model_dump(mode="json"),
            "principles": len(c.principles)}


def to_json(r: DiffResult) -> str:
    source, only_a, only_b = one_sided_themes(r.a.principles, r.b.principles)
    body = {
        "format_version": DIFF_FORMAT_VERSION,
        "matcher": r.matcher, "threshold": r.threshold,
        "a": _side(r.a), "b": _side(r.b),
        "summary": r.summary(),
        "principles": [{"action": e.action, "before": _ref(e.before), "after": _ref(e.after),
                        "similarity": e.similarity, "changed": list(e.changed)}
                       for e in r.entries],
        "framing": {"a": framing_counts(r.a.principles), "b": framing_counts(r.b.principles)},
        "themes": {"source": source, "only_a": only_a, "only_b": only_b},
    }
    change = selection_change(r.a.selection, r.b.selection)
    if change:  # both from assemblies, different statements selected
        body["selection"] = change
    return canonical_json(body)


# ---------------------------------------------------------------- text


def _entry_lines(e: Entry) -> list[str]:
    mark = MARKERS[e.action]
    if e.action == "update":
        assert e.before is not None and e.after is not None
        head = f"  ~ {e.before.address} -> {e.after.address} (similarity {e.similarity:.2f})"
        lines = [head]
        for f in e.changed or ("text",):
            lines += [f"      {f}:", f"        - {getattr(e.before, f)}",
                      f"        + {getattr(e.after, f)}"]
        if "text" not in e.changed:
            lines.insert(1, f"      {e.before.text}")
        return lines
    p = e.before or e.after
    assert p is not None
    if e.action == "no-op":
        assert e.after is not None
        return [f"    {p.address} = {e.after.address}", f"      {p.text}"]
    return [f"  {mark} {p.address}", f"      {p.text}"]


def _framing_line(r: DiffResult) -> str:
    fa, fb = framing_counts(r.a.principles), framing_counts(r.b.principles)
    return (f"Framing (adopt / avoid): {r.a.name} {fa['adopt']} / {fa['avoid']}; "
            f"{r.b.name} {fb['adopt']} / {fb['avoid']}")


def _themes_lines(r: DiffResult) -> list[str]:
    source, only_a, only_b = one_sided_themes(r.a.principles, r.b.principles)

    def fmt(d: dict[str, int]) -> str:
        return ", ".join(f"{t} ({n})" for t, n in d.items()) or "none"

    return [f"Themes only in {r.a.name} ({source}): {fmt(only_a)}",
            f"Themes only in {r.b.name} ({source}): {fmt(only_b)}"]


def _legend(r: DiffResult, show_unchanged: bool) -> list[str]:
    used = [a for a in ("update", "delete", "create", "no-op")
            if r.count(a) and (a != "no-op" or show_unchanged)]
    return [LEGEND[a] for a in used]


def to_text(r: DiffResult, show_unchanged: bool = False) -> str:
    lines = [r.summary_line(), f"{r.a.name} -> {r.b.name}, matched by {r.matcher} "
             f"(threshold {r.threshold:g})", ""]
    legend = _legend(r, show_unchanged)
    if legend:
        lines += ["Legend:", *(f"  {item}" for item in legend), ""]
    for e in r.entries:
        if e.action == "no-op" and not show_unchanged:
            continue
        lines += _entry_lines(e)
    hidden = r.count("no-op")
    if hidden and not show_unchanged:
        noun = "principle" if hidden == 1 else "principles"
        lines.append(f"  ({hidden} unchanged {noun} hidden; --show-unchanged)")
    lines += ["", _framing_line(r), *_themes_lines(r)]
    change = selection_change(r.a.selection, r.b.selection)
    lines += ["", *selection_lines(change)] if change else []
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_section(title: str, rows: Sequence[str], header: str) -> list[str]:
    if not rows:
        return []
    table = [header, "| " + " | ".join("---" for _ in header.split("|")[1:-1]) + " |", *rows]
    if len(rows) > DETAILS_AFTER:
        return [f"<details><summary>{title} ({len(rows)})</summary>", "", *table, "",
                "</details>", ""]
    return [f"#### {title} ({len(rows)})", "", *table, ""]


def to_markdown(r: DiffResult, show_unchanged: bool = False) -> str:
    """For a PR comment or $GITHUB_STEP_SUMMARY: summary first, long lists folded."""
    lines = [f"### Constitution diff: `{r.a.name}` → `{r.b.name}`", "",
             f"**{r.summary_line()}**", "",
             f"Matched by {r.matcher} (threshold {r.threshold:g}).", ""]
    changed = [f"| `{e.before.address}` → `{e.after.address}` | {e.similarity:.2f} | "
               f"{_md(e.before.text)} | {_md(e.after.text)} |"
               for e in r.entries if e.action == "update" and e.before and e.after]
    lines += _md_section("~ Changed", changed, "| principle | similarity | before | after |")
    for action, title in (("delete", "- Removed"), ("create", "+ Added")):
        shown = [e.before or e.after for e in r.entries if e.action == action]
        rows = [f"| `{p.address}` | {_md(p.text)} |" for p in shown if p is not None]
        lines += _md_section(title, rows, "| principle | text |")
    if show_unchanged:
        rows = [f"| `{e.before.address}` | {_md(e.before.text)} |"
                for e in r.entries if e.action == "no-op" and e.before]
        lines += _md_section("Unchanged", rows, "| principle | text |")
    elif r.count("no-op"):
        n = r.count("no-op")  # one principle, as the text view says it
        lines += [f"_{n} unchanged principle{'' if n == 1 else 's'} hidden._", ""]
    lines += [_framing_line(r), "", *(f"{t}  " for t in _themes_lines(r))]
    change = selection_change(r.a.selection, r.b.selection)
    if change:
        lines += ["", f"Selection: `{_md(change['a'])}` → `{_md(change['b'])}`", ""]
        for key, title in (("removed", "- Statements no longer selected"),
                           ("added", "+ Statements newly selected")):
            rows = [f"| {s['id']} | {_md(s['text'])} |" for s in change[key]]
            lines += _md_section(title, rows, "| statement | text |")
    return "\n".join(lines).rstrip() + "\n"
