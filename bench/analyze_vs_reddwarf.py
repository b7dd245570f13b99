"""Whole-process comparison: `ccaic analyze DIR --format json` vs red-dwarf's Polis pipeline.

Usage: python bench/analyze_vs_reddwarf.py [RUNS] [CONVERSATION ...]
(default 7 runs; default conversations: four opendata exports of increasing size).

red-dwarf must be installed in its own venv: `python -m venv bench/_peers/venv &&
bench/_peers/venv/bin/pip install red-dwarf` (bench/_peers/ is git-ignored). Each run is a
fresh subprocess (interpreter start, imports, CSV loading, PCA, clustering, GAC / repness /
consensus, JSON to stdout); the two tools alternate A, B, A, B, ... and the medians are
compared. Prints one Markdown table row per conversation.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "polis" / "opendata"
PEER = ROOT / "bench" / "_peers" / "venv" / "bin" / "python"
DEFAULT = ["london.youth.policing", "brexit-consensus", "canadian-electoral-reform",
           "ssis.land-bank-farmland.2rumnecbeh.2021-08-01"]


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 7
    names = args or DEFAULT
    print("| conversation | votes rows | ccaic median s | red-dwarf median s | ratio |")
    print("|---|---|---|---|---|")
    for name in names:
        folder = DATA / name
        ours = [sys.executable, "-m", "ccaic", "analyze", str(folder), "--format", "json"]
        peer = [str(PEER), str(ROOT / "bench" / "reddwarf_run.py"), str(folder)]
        _time(ours), _time(peer)  # warm the file cache once, not timed
        a: list[float] = []
        b: list[float] = []
        for _ in range(runs):
            a.append(_time(ours))
            b.append(_time(peer))
        with open(folder / "votes.csv", encoding="utf-8") as f:
            rows = sum(1 for _ in f) - 1
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"| {name} | {rows} | {ma:.2f} | {mb:.2f} | {mb / ma:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
