"""Per-statement statistics: counts, the registered scores, polarization, repness, consensus.

Formulas follow docs/polis-math.md §5-8 and the CCAI paper (ccai-facts.md). Counts are sparse
matrix products (groups^T @ agree), never loops over votes; the repness/consensus *selection*
walks statements per group, as Polis does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ccaic.assembly.groups import Grouping
from ccaic.assembly.scores import Scored, ScoreInputs, compute, group_counts
from ccaic.assembly.votes import VoteTable
from ccaic.registry.scores import ALWAYS

#: Polis's 90% one-sided z threshold: the literal 1.2816, not norm.ppf(0.9).
Z90 = 1.2816


@dataclass(frozen=True)
class StatementStats:
    """Arrays over the table's columns; group arrays are (k, C). `scored` holds every
    computed method by its registry name (ccaic.registry.scores)."""

    ids: list[str]
    agrees: np.ndarray
    disagrees: np.ndarray
    passes: np.ndarray
    group_agrees: np.ndarray
    group_disagrees: np.ndarray
    group_passes: np.ndarray
    pi: np.ndarray
    adjusted_pi: np.ndarray
    scored: Mapping[str, Scored]

    @property
    def scores(self) -> dict[str, np.ndarray]:
        return {name: s.values for name, s in self.scored.items()}

    def extras(self) -> dict[str, np.ndarray]:
        """What methods report beside their scores, as `<method>_<name>` (bridging_factor)."""
        return {f"{name}_{key}": v for name, s in self.scored.items()
                for key, v in s.extras.items()}

    @property
    def seen(self) -> np.ndarray:
        return np.asarray(self.agrees + self.disagrees + self.passes)

    @property
    def group_seen(self) -> np.ndarray:
        return np.asarray(self.group_agrees + self.group_disagrees + self.group_passes)


def _colsum(m: sp.csr_matrix) -> np.ndarray:
    return np.asarray(m.sum(axis=0)).ravel().astype(np.int64)


def polarization(agrees: np.ndarray, disagrees: np.ndarray, passes: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """CCAI paper: PI = 1 - |A-D|/(A+D+P); adjusted PI = PI * (A+D)/(A+D+P); 0 with no votes."""
    a, d, p = (np.asarray(x, dtype=np.float64) for x in (agrees, disagrees, passes))
    n = a + d + p
    pi = np.where(n > 0, 1.0 - np.abs(a - d) / np.maximum(n, 1), 0.0)
    adj = np.where(n > 0, pi * (a + d) / np.maximum(n, 1), 0.0)
    return pi, adj


def statement_stats(table: VoteTable, grouping: Grouping,
                    options: Mapping[str, Any] | None = None,
                    scores: Sequence[str] = ALWAYS, moderated_out: np.ndarray | None = None
                    ) -> StatementStats:
    """Totals over every participant in the table; per-group counts over clustered ones;
    each method of `scores` with the consensus options it declares."""
    inputs = ScoreInputs(table, grouping, None, moderated_out)
    ga, gd, gp = inputs.group_counts
    a, d, p = (_colsum(m) for m in (table.agree(), table.disagree(), table.passed()))
    pi, adj = polarization(a, d, p)
    return StatementStats(table.statement_ids, a, d, p, ga, gd, gp, pi, adj,
                          compute(inputs, scores, options or {}))


# ---------------------------------------------------------------- Polis repness (§7)


def prop_test(succ: np.ndarray, n: np.ndarray) -> np.ndarray:
    return 2.0 * np.sqrt(n + 1.0) * ((succ + 1.0) / (n + 1.0) - 0.5)


def two_prop_test(s1: np.ndarray, s2: np.ndarray, n1: np.ndarray, n2: np.ndarray
                  ) -> np.ndarray:
    s1, s2, n1, n2 = (np.asarray(x, dtype=np.float64) + 1.0 for x in (s1, s2, n1, n2))
    p1, p2 = s1 / n1, s2 / n2
    pi = (s1 + s2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(pi * (1.0 - pi) * (1.0 / n1 + 1.0 / n2))
    return np.where(pi == 1.0, 0.0, z)


def _entry(tid: Any, side: str, v: dict[str, np.ndarray], j: int) -> dict[str, Any]:
    a = side == "agree"
    return {"tid": tid,
            "n-success": int(v["na"][j] if a else v["nd"][j]),
            "n-trials": int(v["ns"][j]),
            "p-success": float(v["pa"][j] if a else v["pd"][j]),
            "p-test": float(v["pat"][j] if a else v["pdt"][j]),
            "repness": float(v["ra"][j] if a else v["rd"][j]),
            "repness-test": float(np.float32(v["rat"][j] if a else v["rdt"][j])),
            "repful-for": side}


def _finalize(tid: Any, v: dict[str, np.ndarray], j: int) -> dict[str, Any]:
    return _entry(tid, "agree" if v["rat"][j] > v["rdt"][j] else "disagree", v, j)


def repness(table: VoteTable, grouping: Grouping, mod_out: np.ndarray,
            tid: Any = None) -> dict[str, list[dict[str, Any]]]:
    """Polis's representative statements per group (exact port of §7).

    Columns with >= 1 vote, in table order, mod-out ones skipped. `tid` maps a statement id to
    the value put in entries (default: the id string).
    """
    tid = tid or (lambda x: x)
    ga, gd, gp = group_counts(table, grouping)
    gs = ga + gd + gp
    cols = [int(j) for j in np.flatnonzero(table.statement_vote_counts() > 0)
            if not mod_out[j]]
    ids = table.statement_ids
    out: dict[str, list[dict[str, Any]]] = {}
    for g, name in enumerate(grouping.names):
        na, nd, ns = ga[g].astype(float), gd[g].astype(float), gs[g].astype(float)
        oa, od, os_ = (x.sum(axis=0) - x[g] for x in (ga, gd, gs))
        pa, pd = (na + 1) / (ns + 2), (nd + 1) / (ns + 2)
        v = {"na": na, "nd": nd, "ns": ns, "pa": pa, "pd": pd,
             "pat": prop_test(na, ns), "pdt": prop_test(nd, ns),
             "ra": pa / ((oa + 1.0) / (os_ + 2.0)), "rd": pd / ((od + 1.0) / (os_ + 2.0)),
             "rat": two_prop_test(na, oa, ns, os_), "rdt": two_prop_test(nd, od, ns, os_)}
        sufficient: list[int] = []
        best: int | None = None
        best_agree: int | None = None
        for j in cols:
            if (v["rat"][j] > Z90 and v["pat"][j] > Z90) or (
                    v["rdt"][j] > Z90 and v["pdt"][j] > Z90):
                sufficient.append(j)
            if not sufficient and (best is None or max(v["rat"][j], v["rdt"][j]) > float(
                    np.float32(max(v["rat"][best], v["rdt"][best])))):
                best = j
            if na[j] == 0 and nd[j] == 0:
                continue
            if best_agree is not None and v["ra"][best_agree] > 1:
                b = best_agree
                if (v["ra"][j] * v["rat"][j] * pa[j] * v["pat"][j]
                        > v["ra"][b] * v["rat"][b] * pa[b] * v["pat"][b]):
                    best_agree = j
            elif best_agree is not None:
                b = best_agree
                if pa[j] * v["pat"][j] > pa[b] * v["pat"][b]:
                    best_agree = j
            elif v["pat"][j] > Z90 or (v["ra"][j] > 1 and pa[j] > 0.5):
                best_agree = j
        ba = None
        if best_agree is not None:
            ba = _finalize(tid(ids[best_agree]), v, best_agree)
            ba["n-agree"] = int(na[best_agree])
            ba["best-agree"] = True
        if not sufficient:
            chosen = [ba] if ba else ([_finalize(tid(ids[best]), v, best)]
                                      if best is not None else [])
        else:
            rest = [_finalize(tid(ids[j]), v, j) for j in sufficient if j != best_agree]
            rest.sort(key=lambda e: -(e["repness"] * e["repness-test"] * e["p-success"]
                                      * e["p-test"]))
            chosen = ([ba] if ba else []) + rest
            chosen = chosen[:5]
            chosen = ([e for e in chosen if e["repful-for"] == "agree"]
                      + [e for e in chosen if e["repful-for"] != "agree"])
        out[name] = chosen
    return out


def consensus(table: VoteTable, mod_out: np.ndarray, tid: Any = None
              ) -> dict[str, list[dict[str, Any]]]:
    """Polis's overall consensus lists (§8): all participants, mod-out dropped, top 5 each."""
    tid = tid or (lambda x: x)
    a, d = _colsum(table.agree()), _colsum(table.disagree())
    ns = _colsum(table.seen()).astype(float)
    cols = [j for j in np.flatnonzero(ns > 0) if not mod_out[j]]
    ids = table.statement_ids
    result: dict[str, list[dict[str, Any]]] = {}
    for side, n in (("agree", a.astype(float)), ("disagree", d.astype(float))):
        p = (n + 1) / (ns + 2)
        t = prop_test(n, ns)
        keep = [j for j in cols if p[j] > 0.5 and t[j] > Z90]
        keep.sort(key=lambda j: -(p[j] * t[j]))
        result[side] = [{"tid": tid(ids[j]), "n-success": int(n[j]), "n-trials": int(ns[j]),
                         "p-success": float(p[j]), "p-test": float(t[j])} for j in keep[:5]]
    return result
