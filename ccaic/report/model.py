"""report.json: the build's numbers in one canonical, versioned document.

Everything the Markdown and HTML show is computed here once, so the three renderings agree and
`ccaic diff` can compare two builds from report.json alone. No timestamps, durations or
absolute paths go in: the same inputs give the same bytes. Floats are rounded to six decimals.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ccaic.registry.scores import SCORES
from ccaic.registry.steps import STORED_STEPS
from ccaic.report.inputs import ReportInputs, TrainingRun
from ccaic.report.timeline import timeline_section
from ccaic.report.topics import topic_section

REPORT_FORMAT_VERSION = "1.0"
HIST_BINS = 20
CURVE_STEPS = 50  # threshold-sensitivity curve: thresholds 0, 1/50, ..., 1
Z95 = 1.959964


def r6(x: float) -> float:
    return round(float(x), 6) + 0.0


def build_report(inputs: ReportInputs) -> dict[str, Any]:
    """The report body; sections without inputs are left out and a note says which."""
    notes: list[str] = []
    body: dict[str, Any] = {"format_version": REPORT_FORMAT_VERSION, "kind": "ccaic-report"}
    body["assemblies"] = {name: assembly_section(a, inputs.opinion_maps.get(name) is not None)
                          for name, a in sorted(inputs.assemblies.items())}
    for name in sorted(inputs.assemblies):
        if name in inputs.opinion_maps:
            m = inputs.opinion_maps[name]
            body["assemblies"][name]["opinion_map"] = {
                "participants": m.participants, "shown": m.shown, "groups": list(m.groups)}
        else:
            notes.append(f"assembly {name}: no participant projections were given, so the "
                         "opinion map is omitted")
    body["constitutions"] = {name: constitution_section(c, _selecting(c, inputs.assemblies))
                             for name, c in sorted(inputs.constitutions.items())}
    body["training"] = {name: training_section(run)
                        for name, run in sorted(inputs.training.items())}
    if not inputs.training:
        notes.append("no training run in this build: training losses, cleaning counts and "
                     "principle coverage are omitted")
    body["evaluation"] = evaluation_section(inputs.evaluations)
    if not body["evaluation"]["bbq"]:
        notes.append("no BBQ evaluation in this build: the bias figures are omitted")
    if not body["evaluation"]["hhh"]:
        notes.append("no HHH judge-accuracy evaluation in this build")
    if not inputs.assemblies:
        notes.append("no assembly in this build (a hand-written constitution): the assembly "
                     "figures are omitted")
    body["notes"] = notes
    if inputs.timeline:  # a watched build (ccaic watch)
        body["timeline"] = timeline_section(inputs.timeline)
    return body


# ---------------------------------------------------------------- assemblies


def _candidates(a: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements that competed for selection: not moderated out, with a score."""
    key = a.get("consensus", {}).get("score", "gac")
    out = []
    for s in a.get("statements", []):
        value = s.get(key)
        if not s.get("moderated_out") and value is not None and math.isfinite(value):
            out.append(s)
    return out


def _score(s: dict[str, Any], a: dict[str, Any]) -> float:
    return float(s[a.get("consensus", {}).get("score", "gac")])


def score_summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "mean": None, "median": None, "min": None, "max": None}
    return {"n": len(values), "mean": r6(statistics.fmean(values)),
            "median": r6(statistics.median(values)), "min": r6(min(values)),
            "max": r6(max(values))}


def score_range(a: dict[str, Any]) -> tuple[float, float]:
    """The values the selecting method can take (ccaic/registry/scores.py `range`; [0, 1] for
    GAC), the span of its histogram and threshold curve."""
    kind = a.get("consensus", {}).get("score", "gac")
    lo, hi = SCORES.entry(kind).meta["range"] if kind in SCORES else (0.0, 1.0)
    return float(lo), float(hi)


def histogram(values: list[float], bins: int = HIST_BINS, lo: float = 0.0, hi: float = 1.0
              ) -> dict[str, Any]:
    """Counts over [lo, hi] in equal bins (the last bin includes hi)."""
    counts = [0] * bins
    for v in values:
        counts[min(max(int((v - lo) / (hi - lo) * bins), 0), bins - 1)] += 1
    return {"edges": [r6(lo + (hi - lo) * i / bins) for i in range(bins + 1)], "counts": counts}


def threshold_curve(values: list[float], top_k: int | None, lo: float = 0.0, hi: float = 1.0
                    ) -> list[list[float]]:
    """[threshold, selected by the threshold alone, selected with top_k applied too]."""
    rows = []
    for i in range(CURVE_STEPS + 1):
        t = lo + (hi - lo) * i / CURVE_STEPS
        n = sum(v >= t for v in values)
        rows.append([r6(t), n, n if top_k is None else min(n, top_k)])
    return rows


def _share(g: dict[str, int]) -> float:
    seen = g.get("agrees", 0) + g.get("disagrees", 0) + g.get("passes", 0)
    return r6(g.get("agrees", 0) / seen) if seen else 0.0


def selected_agreement(a: dict[str, Any]) -> list[dict[str, Any]]:
    """Per selected statement, in selection order: each group's share agreeing (of those who
    saw it) — the numbers behind group-aware consensus."""
    by_id = {s["id"]: s for s in a.get("statements", [])}
    rows = []
    for rank, sid in enumerate(a.get("selection", []), 1):
        s = by_id.get(sid)
        if s is None:
            continue
        rows.append({"rank": rank, "id": sid, "text": s.get("text", ""),
                     "score": r6(_score(s, a)),
                     "groups": {g: _share(v) for g, v in s.get("groups", {}).items()}})
    return rows


def stability_section(a: dict[str, Any]) -> dict[str, Any]:
    st = a.get("stability") or {}
    selected = a.get("selection", [])
    out: dict[str, Any] = {}
    boot = st.get("bootstrap")
    if boot:
        freq = boot.get("frequency", {})
        chosen = [freq.get(i, 0.0) for i in selected]
        out["bootstrap"] = {
            "resamples": boot.get("resamples"), "seed": boot.get("seed"),
            "selected": [[i, r6(freq.get(i, 0.0))] for i in selected],
            "mean_selected": r6(statistics.fmean(chosen)) if chosen else None,
            "unselected_above_half": sum(1 for i, f in freq.items()
                                         if i not in set(selected) and f >= 0.5)}
    if st.get("groupings"):
        out["groupings"] = st["groupings"]
    return out


def _shares(counts: dict[str, int]) -> dict[str, float]:
    """Agree and disagree shares of those who saw the statement (0 when nobody did)."""
    seen = counts.get("agrees", 0) + counts.get("disagrees", 0) + counts.get("passes", 0)
    return {"agree": r6(counts.get("agrees", 0) / seen) if seen else 0.0,
            "disagree": r6(counts.get("disagrees", 0) / seen) if seen else 0.0}


def _outside(groups: dict[str, dict[str, int]], gid: str) -> dict[str, int]:
    """Vote counts of every other group together (clustered participants only, as repness)."""
    return {k: sum(v.get(k, 0) for g, v in groups.items() if g != gid)
            for k in ("agrees", "disagrees", "passes")}


def polis_section(a: dict[str, Any]) -> dict[str, Any] | None:
    """Polis's report from the artifact's `polis` block: per group its size and
    representative statements with agree/disagree shares in and out of the group; the
    consensus statements with their shares over everyone. None for an older artifact."""
    polis = a.get("polis")
    if not isinstance(polis, dict):
        return None
    by_id = {s["id"]: s for s in a.get("statements", [])}
    groups = []
    for g in polis.get("groups", []):
        rows = []
        for e in g.get("repness", []):
            s = by_id.get(e["statement"], {})
            counts = s.get("groups", {})
            rows.append({"id": e["statement"], "text": s.get("text", ""),
                         "repful": e["repful"], "in": _shares(counts.get(g["id"], {})),
                         "out": _shares(_outside(counts, g["id"])),
                         "repness": r6(e["repness"])})
        groups.append({"id": g["id"], "size": g["size"], "statements": rows})
    consensus = {side: [{"id": e["statement"], "text": by_id.get(e["statement"], {}).get(
                            "text", ""), "share": r6(e["n_success"] / e["n_trials"])
                         if e["n_trials"] else 0.0, "seen": e["n_trials"]}
                        for e in polis.get("consensus", {}).get(side, [])]
                 for side in ("agree", "disagree")}
    return {"groups": groups, "consensus": consensus}


def score_comparison(a: dict[str, Any]) -> dict[str, Any] | None:
    """The selecting method's score against a second computed one, per competing statement:
    the first of the block's `scores` other than itself, else GAC for a method other than the
    GAC pair (None for a GAC build that asked for nothing more)."""
    c = a.get("consensus", {})
    x = c.get("score", "gac")
    y = next((name for name in c.get("scores") or () if name != x), None)
    if y is None and x not in ("gac", "gac_disagree"):
        y = "gac"
    if y is None or y == x:
        return None
    chosen = set(a.get("selection", []))
    points = [[r6(s[x]), r6(s[y]), s["id"] in chosen] for s in _candidates(a)
              if s.get(y) is not None]
    return {"x": x, "y": y, "points": points}


def assembly_section(a: dict[str, Any], has_map: bool = False) -> dict[str, Any]:
    cands = _candidates(a)
    values = [_score(s, a) for s in cands]
    consensus = a.get("consensus", {})
    groups = a.get("groups", {})
    lo, hi = score_range(a)
    comparison = score_comparison(a)
    return {
        "description": a.get("description"),
        "participants": a.get("participants"),
        "statements": {"total": len(a.get("statements", [])),
                       "kept": a.get("statements_in"), "scored": len(cands)},
        "votes": {k: a.get("provenance", {}).get(k)
                  for k in ("rows_read", "rows_used")},
        "votes_dropped": a.get("provenance", {}).get("dropped", {}),
        "moderation": [{"rule": m.get("rule"), "because": m.get("because"),
                        "location": m.get("location"), "removed": m.get("removed"),
                        **({"duplicates": m["duplicates"]} if m.get("duplicates") else {})}
                       for m in a.get("moderation", [])],
        "groups": {"method": groups.get("method"), "k": groups.get("k"),
                   "clustered": groups.get("clustered"),
                   "silhouette": groups.get("silhouette"), "sizes": groups.get("sizes", {})},
        "consensus": consensus,
        "selected": {"n": len(a.get("selection", [])), "ids": list(a.get("selection", []))},
        "scores": score_summary(values),
        "histogram": histogram(values, lo=lo, hi=hi),
        "threshold_curve": threshold_curve(values, consensus.get("top_k"), lo, hi),
        "selected_agreement": selected_agreement(a),
        "stability": stability_section(a),
        "polis_report": polis_section(a),
        **({"comparison": comparison} if comparison else {}),
    }


# ---------------------------------------------------------------- constitutions


def _selecting(c: dict[str, Any], assemblies: dict[str, Any]) -> str | None:
    """The method that selected a constitution's statements (its assembly's), when not GAC."""
    source = str((c.get("origin") or {}).get("source"))
    method = (assemblies.get(source) or {}).get("consensus", {}).get("score", "gac")
    return None if method == "gac" else str(method)


def _source_score(s: dict[str, Any], method: str) -> float | None:
    """A source statement's score by `method` (gac_disagree beside gac, others in scores)."""
    value = s.get(method) if method == "gac_disagree" else (s.get("scores") or {}).get(method)
    return None if value is None else r6(value)


def constitution_section(c: dict[str, Any], method: str | None = None) -> dict[str, Any]:
    """The constitution's counts and table; with `method` (a non-GAC selecting method) each
    row also has its sources' scores by it, which the table shows (it showed GAC alone)."""
    principles = c.get("principles", [])
    table = [{
        "id": p.get("id"), "address": p.get("address"), "text": p.get("text"),
        "statements": [s.get("id") for s in p.get("sources", [])],
        "gac": [None if s.get("gac") is None else r6(s["gac"]) for s in p.get("sources", [])],
        **({} if method is None else
           {"score": [_source_score(s, method) for s in p.get("sources", [])]}),
        "edits": [e.get("kind") for e in p.get("edits", [])],
        "needs_hand_edit": bool(p.get("needs_hand_edit")),
    } for p in principles]
    selection = c.get("selection") or {}
    topics = topic_section(principles, (c.get("drafts") or {}).get("topic_names"))
    return {
        "origin": c.get("origin", {}),
        "principles": len(principles),
        "needs_hand_edit": sum(1 for p in principles if p.get("needs_hand_edit")),
        "edited": sum(1 for p in principles if p.get("edits")),
        "dropped": len(c.get("dropped", [])),
        "selection_method": selection.get("method"),
        **({} if method is None else {"score": method}),
        "table": table,
        **({"topics": topics} if topics else {}),
    }


# ---------------------------------------------------------------- training


def coverage(run: TrainingRun) -> dict[str, Any]:
    """How often each principle was drawn: the paper could not tell whether training prompts
    exercised every principle; this answers it per build."""
    ids = list(run.principles) or sorted(set(run.critiques) | set(run.comparisons))
    extra = sorted((set(run.critiques) | set(run.comparisons)) - set(ids))
    table = {pid: {"critiques": run.critiques.get(pid, 0),
                   "comparisons": run.comparisons.get(pid, 0)} for pid in ids + extra}
    return {"principles": table,
            "order": ids + extra,
            "never_drawn": [p for p, v in table.items()
                            if v["critiques"] == 0 and v["comparisons"] == 0],
            "critiques": sum(run.critiques.values()),
            "comparisons": sum(run.comparisons.values())}


def _round_all(data: Any) -> Any:
    if isinstance(data, float):
        return r6(data)
    if isinstance(data, dict):
        return {k: _round_all(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_round_all(v) for v in data]
    return data


def training_section(run: TrainingRun) -> dict[str, Any]:
    counts = {stage: _round_all({k: v for k, v in c.items() if k != "principles"})
              for stage, c in run.counts.items()}
    steps = {a: "off" if s.get("dir") is None else "done"
             for a, s in sorted(run.run.get("steps", {}).items())}
    return {
        "plan": run.run.get("plan"),
        "plan_sha256": run.run.get("plan_sha256"),
        "stopped_after": run.run.get("stopped_after"),
        "steps": steps,
        "counts": counts,
        "losses": {s: [[int(step), r6(loss)] for step, loss in pts]
                   for s, pts in run.losses.items()},
        "coverage": coverage(run),
    }


# ---------------------------------------------------------------- evaluation

STAGE_ORDER = STORED_STEPS  # the steps with a stages/ folder, in the order they run


def pipeline_order(names: list[str]) -> list[str]:
    """Stages in the order they run (unknown ones last, by name): how readers scan them."""
    rank = {s: i for i, s in enumerate(STAGE_ORDER)}
    return sorted(names, key=lambda s: (rank.get(s, len(rank)), s))


BBQ_KEYS = ("accuracy_ambiguous", "accuracy_disambiguated", "bias_ambiguous",
            "bias_disambiguated", "n_ambiguous", "n_disambiguated", "intervals")


def _bbq_scores(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: _round_all(entry[k]) for k in BBQ_KEYS if k in entry}


def wilson(right: float, n: int) -> list[float] | None:
    """95% Wilson interval of a proportion: HHH bodies carry no interval of their own."""
    if n <= 0:
        return None
    p = right / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return [r6(max(0.0, centre - half)), r6(min(1.0, centre + half))]


def hhh_entry(body: dict[str, Any]) -> dict[str, Any]:
    """Judge accuracy with both orders averaged; the body's bootstrap interval when it has one
    (ccaic.evaluate.hhh), else a Wilson interval from the item count (bench/hhh_accuracy.py)."""
    n = int(body.get("items", body.get("n", 0)))
    acc = float(body.get("accuracy_debiased", body.get("accuracy", 0.0)))
    boot = (body.get("intervals") or {}).get("accuracy_debiased")
    return {"model": body.get("model"), "seed": body.get("seed"), "items": n,
            "accuracy": r6(acc),
            "accuracy_given_order": _round_all(body.get("accuracy_given_order")),
            "accuracy_swapped_order": _round_all(body.get("accuracy_swapped_order")),
            "position_bias": _round_all(body.get("mean_position_bias")),
            "interval": _round_all(list(boot)) if boot else wilson(acc * n, n),
            "interval_method": "bootstrap percentile" if boot else "wilson"}


def evaluation_section(evaluations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """BBQ per category for each model, and HHH judge accuracy; label = the file's stem."""
    bbq: dict[str, Any] = {}
    hhh: dict[str, Any] = {}
    for label, body in sorted(evaluations.items()):
        if body.get("benchmark") == "bbq" or "categories" in body:
            bbq[label] = {
                "model": body.get("model"), "seed": body.get("seed"),
                "limit_per_category": body.get("limit_per_category"),
                "categories": {c: _bbq_scores(v)
                               for c, v in sorted(body.get("categories", {}).items())},
                "overall": _bbq_scores(body.get("overall", {}))}
        elif "accuracy_debiased" in body or body.get("benchmark") == "hhh":
            hhh[label] = hhh_entry(body)
    return {"bbq": bbq, "hhh": hhh}
