"""Whole-process comparison: `ccaic analyze DIR --format json` vs red-dwarf's Polis pipeline.

Usage: python bench/analyze_vs_reddwarf.py [RUNS] [CONVERSATION ...]
(default 3 pairs; default conversations: all 12 shared opendata exports and the CCAI 2023
export, smallest first; a name is a folder under ../shared/data/polis/opendata or a path).

red-dwarf must be installed in its own venv: `python -m venv bench/_peers/venv &&
bench/_peers/venv/bin/pip install red-dwarf==0.4.0` (bench/_peers/ is git-ignored). Each run
is a fresh subprocess (interpreter start, imports, CSV loading, PCA, clustering, GAC /
repness / consensus, JSON to stdout). Runs are paired, A then B, RUNS times, after one untimed
warm-up of each; the row gives both medians and the median of the per-pair ratios
(red-dwarf / ccaic: above 1 means ccaic is faster), with the 1-minute load average at the end
of the row, since on a shared machine that moves every figure.
"""

from __future__ import annotations

import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DATA = SHARED / "polis" / "opendata"
PEER = ROOT / "bench" / "_peers" / "venv" / "bin" / "python"


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd=ROOT)
    return time.perf_counter() - t0


def votes(folder: Path) -> int:
    """Vote rows: votes.csv lines, else non-blank statement cells of participants-votes.csv."""
    if (folder / "votes.csv").is_file():
        with open(folder / "votes.csv", encoding="utf-8") as f:
            return sum(1 for _ in f) - 1
    with open(folder / "participants-votes.csv", newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        first = next(rows).index("n-disagree") + 1
        return sum(1 for row in rows for cell in row[first:] if cell.strip())


def conversations(names: list[str]) -> list[tuple[Path, int]]:
    """(folder, vote rows) per conversation: those named, else every default one, fewest
    votes first (each folder's votes counted once)."""
    if names:
        folders = [Path(n) if Path(n).is_dir() else DATA / n for n in names]
        return [(f, votes(f)) for f in folders]
    found = [p for p in DATA.iterdir() if (p / "votes.csv").is_file()] + [SHARED / "ccai-2023"]
    return sorted(((f, votes(f)) for f in found), key=lambda fv: fv[1])


def main() -> None:
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 3
    print("| conversation | votes | ccaic median s | red-dwarf median s | median ratio "
          "(red-dwarf / ccaic) | load |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for folder, n_votes in conversations(args):
        ours = [sys.executable, "-m", "ccaic", "analyze", str(folder), "--format", "json"]
        peer = [str(PEER), str(ROOT / "bench" / "reddwarf_run.py"), str(folder)]
        _time(ours), _time(peer)  # warm the file cache once, not timed
        pairs = [(_time(ours), _time(peer)) for _ in range(runs)]
        a = statistics.median(x for x, _ in pairs)
        b = statistics.median(y for _, y in pairs)
        r = statistics.median(y / x for x, y in pairs)
        ratios.append(r)
        print(f"| {folder.name} | {n_votes:,} | {a:.2f} | {b:.2f} | {r:.2f}x | "
              f"{os.getloadavg()[0]:.1f} |", flush=True)
    print(f"\nmedian over conversations: {statistics.median(ratios):.2f}x, "
          f"lowest {min(ratios):.2f}x")


if __name__ == "__main__":
    main()
