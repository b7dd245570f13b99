"""Compare the selections of assemblies built from one vote source with different consensus
methods: how many each selects, the pairwise overlaps, and the statements only one selects.

    python examples/consensus-methods/compare.py out/assemblies [--markdown]
"""

from __future__ import annotations

import argparse
import json
from itertools import combinations
from pathlib import Path
from typing import Any


def load(folder: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*.json"))}


def rule(a: dict[str, Any]) -> str:
    """The selection rule and the options that act: the artifact always records `smoothing`,
    which a GAC `prior` replaces and a non-GAC method does not read."""
    c = a["consensus"]
    extra = {k: v for k, v in c.items() if k not in ("score", "threshold", "top_k", "scores")}
    if "prior" in c or c["score"] not in ("gac", "gac_disagree"):
        extra.pop("smoothing", None)
    how = [f"{c['score']} >= {c['threshold']}" if c["threshold"] is not None else "",
           f"top {c['top_k']} by {c['score']}" if c["top_k"] is not None else ""]
    options = ", ".join(f"{k}={v}" for k, v in extra.items())
    return " ".join(p for p in (" and ".join(h for h in how if h), options) if p)


def report(builds: dict[str, dict[str, Any]]) -> list[str]:
    chosen = {n: set(a["selection"]) for n, a in builds.items()}
    texts = {s["id"]: s["text"] for a in builds.values() for s in a["statements"]}
    lines = ["| assembly | rule | statements in | selected |", "|---|---|---|---|"]
    lines += [f"| {n} | `{rule(a)}` | {a['statements_in']} | {len(chosen[n])} |"
              for n, a in builds.items()]
    lines += ["", "| pair | both | only first | only second | Jaccard |", "|---|---|---|---|---|"]
    for x, y in combinations(chosen, 2):
        both, union = chosen[x] & chosen[y], chosen[x] | chosen[y]
        lines.append(f"| {x} / {y} | {len(both)} | {len(chosen[x] - chosen[y])} | "
                     f"{len(chosen[y] - chosen[x])} | {len(both) / max(len(union), 1):.3f} |")
    for x, y in combinations(chosen, 2):
        for a, b in ((x, y), (y, x)):
            only = sorted(chosen[a] - chosen[b], key=lambda i: (len(i), i))
            if only and chosen[b]:
                lines += ["", f"{a} selects, {b} does not ({len(only)}):", ""]
                lines += [f"- {i}: {texts[i]}" for i in only]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the build's assemblies/ folder")
    print("\n".join(report(load(parser.parse_args().folder))))


if __name__ == "__main__":
    main()
