"""Scale benchmark: `ccaic analyze` on a synthetic Polis CSV export on disk, as a user runs it.

Usage: python bench/scale.py VOTES PARTICIPANTS STATEMENTS [--runs N] [--dir FOLDER] [--zipf S]

1. A seeded synthetic conversation (two latent opinion axes, four camps, ~5% revotes, integer
   millisecond timestamps; ccaic.assembly.synthetic) is written as a Polis CSV export
   (comments.csv + votes.csv) under FOLDER (default: the temp folder), once per size and reused.
   With --zipf S, statement popularity is Zipf (statement j ∝ 1/(j+1)**S) with exactly 5%
   revotes, issue 15's export; the export's folder name ends in -zipfS. Generating and writing
   it are not timed.
2. Whole process, N runs (default 1): `python -m ccaic analyze EXPORT --format json` in a fresh
   subprocess, stdout to /dev/null; wall time and the child's peak RSS (os.wait4).
3. Beside it, one in-process run split into stages: parse (load_source: CSV reading, ids,
   latest-vote table), moderate, PCA, groups (in-conv, base and group k-means), stats, output
   (statement rows and the JSON text); peak RSS here includes the generator's arrays.

Prints one Markdown table row; add the load average (`uptime`) beside it when recording.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_export(folder: Path, n_votes: int, n_p: int, n_s: int, zipf: float | None) -> None:
    """comments.csv and votes.csv of the seeded conversation; a `done` file marks it complete
    (a folder left by an interrupted run has none and is rewritten)."""
    import numpy as np

    from ccaic.assembly.synthetic import synthetic_votes

    if (folder / "done").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    p, s, vote, ts = synthetic_votes(n_p, n_s, n_votes, seed=0, zipf=zipf)
    with open(folder / "comments.csv", "w", encoding="utf-8") as f:
        f.write("timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,"
                "comment-body\n")
        f.writelines(f"0,,{j},0,0,0,1,statement {j}\n" for j in range(n_s))
    order = np.argsort(ts, kind="stable")
    with open(folder / "votes.csv", "w", encoding="utf-8") as f:
        f.write("timestamp,datetime,comment-id,voter-id,vote\n")
        step = 1_000_000
        for start in range(0, n_votes, step):
            o = order[start:start + step]
            cols = zip(ts[o].astype(np.int64).tolist(), s[o].tolist(), p[o].tolist(),
                       vote[o].tolist(), strict=True)
            f.write("".join(f"{t},,{c},{v},{x}\n" for t, c, v, x in cols))
    (folder / "done").write_text("ok\n", encoding="utf-8")


def whole_process(folder: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS GB) of one `ccaic analyze` subprocess."""
    cmd = [sys.executable, "-m", "ccaic", "analyze", str(folder), "--format", "json"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"ccaic analyze exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024 ** 2


def stages(folder: Path) -> dict[str, float]:
    """Seconds per stage of the same analysis, in this process."""
    from ccaic.assembly.analysis import Analysis, statement_rows, summary
    from ccaic.assembly.groups import pca, polis_groups
    from ccaic.assembly.moderation import PolisModOut, apply_moderation
    from ccaic.assembly.sources import SourceOptions, load_source
    from ccaic.assembly.stats import statement_stats

    t = [time.perf_counter()]
    loaded = load_source("auto", folder, SourceOptions())
    t.append(time.perf_counter())
    mod = apply_moderation(loaded.table, [PolisModOut()])
    t.append(time.perf_counter())
    p = pca(mod.table, mod.statement_out)
    t.append(time.perf_counter())
    grouping = polis_groups(mod.table, mod.statement_out, pca_result=p)
    t.append(time.perf_counter())
    st = statement_stats(mod.table, grouping, {"smoothing": "polis"})
    t.append(time.perf_counter())
    a = Analysis(loaded, mod, grouping, st)
    text = json.dumps({"summary": summary(a), "statements": statement_rows(a)}, indent=2)
    t.append(time.perf_counter())
    names = ("parse", "moderate", "pca", "groups", "stats", "output")
    out = {n: t[i + 1] - t[i] for i, n in enumerate(names)}
    out["k"] = grouping.k
    out["bytes"] = len(text)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("votes", type=float)
    ap.add_argument("participants", type=float)
    ap.add_argument("statements", type=float)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "ccaic-scale")
    ap.add_argument("--zipf", type=float, default=None, metavar="S",
                    help="Zipf exponent of statement popularity (default: uniform)")
    args = ap.parse_args()
    n_votes, n_p, n_s = int(args.votes), int(args.participants), int(args.statements)
    folder = args.dir / (f"{n_votes}-{n_p}-{n_s}"
                         + ("" if args.zipf is None else f"-zipf{args.zipf:g}"))
    write_export(folder, n_votes, n_p, n_s, args.zipf)
    size = (folder / "votes.csv").stat().st_size / 1024 ** 2
    runs = [whole_process(folder) for _ in range(args.runs)]
    walls = sorted(w for w, _ in runs)
    wall, rss = walls[len(walls) // 2], max(r for _, r in runs)
    s = stages(folder)
    inproc = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    parts = " / ".join(f"{s[n]:.1f}" for n in ("parse", "moderate", "pca", "groups", "stats",
                                                "output"))
    print("| votes | participants × statements | votes.csv | `ccaic analyze` wall (median of "
          f"{args.runs}) | peak RSS | µs / vote | in-process parse / moderate / PCA / groups / "
          "stats / output s | k |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {n_votes:,} | {n_p:,} × {n_s:,} | {size:.0f} MB | {wall:.1f} s | {rss:.2f} GB | "
          f"{wall / n_votes * 1e6:.2f} | {parts} (peak {inproc:.2f} GB) | {s['k']} |")


if __name__ == "__main__":
    main()
