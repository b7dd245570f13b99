"""What a diff says beyond pairs: framing (adopt vs avoid), themes only one side has, and
the statements a change of selection (e.g. of consensus method) adds and removes.

Framing rule: a principle is phrased as behaviour to *avoid* when its text contains one of
AVOID_MARKERS as a whole word ("least", "less", "not", "n't", "no", "never", "avoid", "refuse",
"refrain", "reject", "without", and their -s/-ing forms); otherwise it describes behaviour to
*adopt*. The CCAI paper found the public's principles lean to adopt ("most X") where the
standard ones lean to avoid ("least X").

Themes: when both constitutions tag their principles, themes are the tags. Otherwise each
principle gets every theme of THEMES whose keyword stems appear in its text (a fixed list, so
results never depend on the corpus).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ccaic.constitution.model import Principle, Selection

AVOID_MARKERS = ("least", "less", "not", "n't", "no", "never", "avoid", "avoids", "avoiding",
                 "refuse", "refuses", "refusing", "refrain", "refrains", "refraining", "reject",
                 "rejects", "rejecting", "without")
_AVOID = re.compile(r"(?:\b(?:" + "|".join(m for m in AVOID_MARKERS if m != "n't")
                    + r")\b|n't\b)", re.IGNORECASE)

THEMES: dict[str, tuple[str, ...]] = {
    "harm": ("harm", "danger", "violen", "toxic", "weapon", "attack"),
    "legality": ("illegal", "crim", "law", "fraud", "unethical"),
    "honesty": ("honest", "truth", "mislead", "lie", "falsehood", "accura", "know"),
    "fairness": ("racis", "sexis", "discriminat", "bias", "stereotyp", "misogyn", "equal"),
    "privacy": ("privacy", "private", "personal information", "surveil", "track"),
    "children": ("child", "age-appropriate", "family-friendly"),
    "rights": ("rights", "freedom", "dignity", "liberty"),
    "perspectives": ("western", "culture", "tradition", "political", "balanced", "belief"),
    "respect": ("respect", "polite", "courteous", "considerate", "offen", "insensitive"),
    "helpfulness": ("helpful", "answer", "useful", "preachy", "condescend"),
    "empathy": ("empath", "thoughtful", "caring", "kind", "friend"),
    "autonomy": ("manipulat", "autonomy", "judgement", "judgment", "choice"),
    "disability": ("disab", "accessib"),
    "professional advice": ("doctor", "lawyer", "medical", "legal advice", "financial"),
    "self-description": ("body", "feelings", "personal history", "identity", "human"),
}


def framing(text: str) -> str:
    """"avoid" or "adopt" (see the module docstring for the rule)."""
    return "avoid" if _AVOID.search(text) else "adopt"


def framing_counts(principles: Sequence[Principle]) -> dict[str, int]:
    counts = Counter(framing(p.text) for p in principles)
    return {"adopt": counts["adopt"], "avoid": counts["avoid"]}


def keyword_themes(text: str) -> list[str]:
    lowered = text.lower()
    return [theme for theme, stems in THEMES.items()
            if any(re.search(r"\b" + re.escape(stem), lowered) for stem in stems)]


def theme_counts(principles: Sequence[Principle], use_tags: bool) -> Counter[str]:
    counts: Counter[str] = Counter()
    for p in principles:
        counts.update(set(p.tags) if use_tags else set(keyword_themes(p.text)))
    return counts


def one_sided_themes(a: Sequence[Principle], b: Sequence[Principle]
                     ) -> tuple[str, dict[str, int], dict[str, int]]:
    """(source, themes only in A with counts, themes only in B), sorted by name."""
    use_tags = any(p.tags for p in a) and any(p.tags for p in b)
    ca, cb = theme_counts(a, use_tags), theme_counts(b, use_tags)
    only_a = {t: ca[t] for t in sorted(ca) if t not in cb}
    only_b = {t: cb[t] for t in sorted(cb) if t not in ca}
    return ("tags" if use_tags else "keywords"), only_a, only_b


def selection_change(a: Selection | None, b: Selection | None) -> dict[str, Any] | None:
    """The statements a change of selection (a method, a threshold, the votes) adds and
    removes, with each side's method line; None unless both sides were selected from an
    assembly and the selected sets differ."""
    if a is None or b is None:
        return None
    ids_a = {s.id for s in a.statements}
    ids_b = {s.id for s in b.statements}
    if ids_a == ids_b:
        return None
    return {"a": a.method, "b": b.method,
            "removed": [{"id": s.id, "text": s.text} for s in a.statements if s.id not in ids_b],
            "added": [{"id": s.id, "text": s.text} for s in b.statements if s.id not in ids_a]}


def selection_lines(change: dict[str, Any]) -> list[str]:
    """`ccaic diff` text: the two methods, then each statement the change removed or added."""
    return [f"Selection: {change['a']} -> {change['b']}: {len(change['removed'])} statements "
            f"removed, {len(change['added'])} added",
            *(f"  - {s['id']}: {s['text']}" for s in change["removed"]),
            *(f"  + {s['id']}: {s['text']}" for s in change["added"])]
