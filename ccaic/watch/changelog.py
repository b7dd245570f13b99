"""HISTORY.md: the history told for people, newest entry first.

Each entry names the statements that entered or left each assembly's selection, with their
score then (at the previous entry) and now, and what moved them: the votes on the statement,
the participants, the groups, and where the cut fell. Pure: the text is a function of the
entries' summaries alone, so rewriting it after any poll gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccaic.watch.summary import Summary, cut

TITLE = "# History\n\nThe constitution as votes arrived, newest first (`ccaic watch`).\n"
TEXT_CHARS = 90


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _moved(then: int | None, now: int) -> str:
    if then is None:
        return f"{now:,}"
    delta = now - then
    return f"{then:,} → {now:,} ({delta:+,})" if delta else f"{now:,}"


def _short(text: str) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= TEXT_CHARS else flat[: TEXT_CHARS - 1].rstrip() + "…"


def _groups(then: Summary | None, now: Summary) -> str:
    k_now = now["groups"]["k"]
    k_then = None if then is None else then["groups"]["k"]
    if k_then is None or k_then == k_now:
        return f"{k_now} groups" if k_now is not None else "no groups"
    return f"groups {k_then} → {k_now}"


def _statement(sid: str, then: Summary | None, now: Summary, method: str) -> str:
    """One statement that crossed the cut: its score then and now (each named by its method
    when the method changed), and its votes."""
    row = now["statements"].get(sid) or (then or {}).get("statements", {}).get(sid, {})
    before = None if then is None else then["statements"].get(sid)
    after = now["statements"].get(sid)
    score_then = "new" if before is None else _num(before["score"])
    score_now = "gone" if after is None else _num(after["score"])
    scores = (f"{method} {score_then} → {score_now}" if then is None
              or then["method"] == method
              else f"{then['method']} {score_then} → {method} {score_now}")
    if after is not None and after.get("reason"):  # why it left: a score can stay above the
        scores += f" ({after['reason']})"           # cut and leave (bridging's factor bar)
    votes = _moved(None if before is None else before["votes"],
                   0 if after is None else after["votes"])
    return f"- `{sid}` {_short(row.get('text', ''))!s} — {scores}; votes on it: {votes}"


def _rule(s: Summary) -> str:
    """The selection rule of one moment: a threshold, the top k, or both."""
    method, threshold = s["method"], s["threshold"]
    if s["top_k"] is None:
        return f"{method} ≥ {_num(threshold)}"
    above = "" if threshold is None else f" at ≥ {_num(threshold)}"
    return f"the top {s['top_k']} by {method}{above}"


def _cut_line(then: Summary | None, now: Summary) -> str:
    """The selection rule, as it changed (a statement can enter on a lowered threshold alone),
    and under top_k where its cut fell (a threshold beside top_k is named too: it said
    "gac ≥ 0.300" alone, hiding that only the top k were kept)."""
    rule = _rule(now) if then is None or _rule(then) == _rule(now) \
        else f"{_rule(then)} → {_rule(now)}"
    if now["top_k"] is None:
        return f"selected: {rule}"
    moved = _num(cut(now)) if then is None else f"{_num(cut(then))} → {_num(cut(now))}"
    return f"selected: {rule}; the cut at {moved}"


def _assembly(name: str, changes: dict[str, list[str]], then: Summary | None,
              now: Summary) -> list[str]:
    lines = [f"### Assembly `{name}`", "",
             f"{_moved(None if then is None else then['participants'], now['participants'])} "
             f"participants, {_moved(None if then is None else then['votes'], now['votes'])} "
             f"votes, {_groups(then, now)}; {_cut_line(then, now)}.", ""]
    for label, ids in (("Entered", changes["entered"]), ("Left", changes["left"])):
        if ids:
            lines += [f"{label}:", ""]
            lines += [_statement(sid, then, now, now["method"]) for sid in ids]
            lines.append("")
    if not changes["entered"] and not changes["left"]:
        lines += ["Its selection is unchanged.", ""]
    return lines


def render_history(entries: Sequence[dict[str, Any]]) -> str:
    """HISTORY.md for entries 1..n (their summary.json bodies, in order)."""
    out = [TITLE]
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        previous = entries[i - 1]["assemblies"] if i else {}
        n = entry["entry"]
        against = (f"the diff against entry {n - 1}: [history/{n}/diff.md](history/{n}/diff.md)"
                   if n > 1 else "the first entry")
        out += [f"## Entry {n} ({entry['time']})", "",
                f"Constitutions: {', '.join(entry['constitutions']) or 'none'}; {against}.", ""]
        for name, now in entry["assemblies"].items():
            out += _assembly(name, entry["changes"][name], previous.get(name), now)
    return "\n".join(out).rstrip() + "\n"
