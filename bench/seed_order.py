"""Cold `polis` grouping: which seeding order of base k-means best reproduces the server?

Usage: python bench/seed_order.py   (prints a Markdown table; docs/polis-report.md has it)

Every shared conversation with server groups: the three polis-math fixtures (math-pca2.json),
the twelve opendata exports and the CCAI 2023 export (participants-votes.csv group-id). For
each, the cold pipeline (ccaic.assembly.groups.polis_groups, Polis's implicit mod-out, the
in-conv rule plus the server's in-conv list where the source has one) is run with base k-means
seeded in three point orders: entry time (when a participant reached min(7, n) votes), first
vote, and participant id (natural order); a last column drops the server's in-conv list (the
rule alone, entry-time order), to show what that list changes. The figure is the adjusted Rand
index between the cold groups and the server's, over participants both cluster; k is the number
of groups found (server k in brackets). Deterministic: no sampling, no timing.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POLIS = ROOT.parent / "shared" / "data" / "polis"

from ccaic.assembly.groups import pca, polis_groups, polis_mod_out  # noqa: E402
from ccaic.assembly.polis_report import in_conv_mask  # noqa: E402
from ccaic.assembly.sources import load_source  # noqa: E402
from ccaic.assembly.votes import VoteTable, natural_key  # noqa: E402

ORDERS = ("entry time", "first vote", "id")


def order_rows(table: VoteTable, order: str) -> np.ndarray:
    """Row permutation for a seeding order; tables are stored in first-vote order."""
    n = table.shape[0]
    if order == "entry time" and table.entry_times is not None:
        return np.argsort(table.entry_times, kind="stable")
    if order == "id":
        return np.array(sorted(range(n), key=lambda i: natural_key(table.participants[i])),
                        dtype=np.int64)
    return np.arange(n)


def ari(table: VoteTable, server: dict[str, str], in_conv: frozenset[str] | None, order: str
        ) -> tuple[float, int]:
    rows = order_rows(table, order)
    t = table.subset(rows=rows)
    t = VoteTable(t.participants, t.statements, t.codes, t.provenance, None)  # row order seeds
    out = polis_mod_out(t)
    g = polis_groups(t, out, in_conv_mask=in_conv_mask(t, in_conv), pca_result=pca(t, out))
    both = [i for i, p in enumerate(t.participants) if p in server and g.labels[i] >= 0]
    score = adjusted_rand_score([server[t.participants[i]] for i in both], g.labels[both])
    return float(score), g.k


def conversations() -> list[Path]:
    return ([p for p in sorted((POLIS / "polis-math").iterdir()) if p.is_dir()]
            + [p for p in sorted((POLIS / "opendata").iterdir()) if p.is_dir()]
            + [POLIS.parent / "ccai-2023"])


def main() -> None:
    print("| conversation | participants | server k | " + " | ".join(ORDERS)
          + " | entry time, rule-only in-conv |")
    print("|---|---|---|" + "---|" * (len(ORDERS) + 1))
    scores: dict[str, list[float]] = {o: [] for o in ORDERS}
    for folder in conversations():
        loaded = load_source("auto", str(folder))
        server = loaded.export_groups
        if not server:
            continue
        cells = []
        for o in ORDERS:
            s, k = ari(loaded.table, server, loaded.in_conv, o)
            scores[o].append(s)
            cells.append(f"{s:.3f} (k={k})")
        if loaded.in_conv:
            s, k = ari(loaded.table, server, None, ORDERS[0])
            cells.append(f"{s:.3f} (k={k})")
        else:
            cells.append("(no list)")
        print(f"| {folder.name} | {loaded.table.shape[0]} | {len(set(server.values()))} | "
              + " | ".join(cells) + " |")
    print("| **mean** | | | " + " | ".join(f"**{statistics.fmean(scores[o]):.4f}**"
                                          for o in ORDERS) + " | |")
    print("| **minimum** | | | " + " | ".join(f"**{min(scores[o]):.3f}**" for o in ORDERS)
          + " | |")


if __name__ == "__main__":
    main()
