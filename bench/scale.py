"""Scale benchmark: synthetic conversations through the vote table, Polis groups and statistics.

Usage: python bench/scale.py VOTES PARTICIPANTS STATEMENTS  (one size per process, so peak RSS
is that size's). Votes are drawn with two latent opinion axes (four camps), ~5% revotes
(same cell twice), integer millisecond timestamps over 30 days, seeded.
Prints one line: votes, participants, statements, seconds per stage, total, peak RSS (GB).
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np


def main() -> None:
    n_votes, n_p, n_s = (int(float(x)) for x in sys.argv[1:4])
    from ccaic.assembly.groups import polis_groups
    from ccaic.assembly.stats import statement_stats
    from ccaic.assembly.votes import Statement, build_table

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    p = rng.integers(0, n_p, n_votes)
    s = rng.integers(0, n_s, n_votes)
    # two opinion axes (Polis's PCA is 2-D): a third of the statements are consensus, a third
    # split participants by axis 1, a third by axis 2
    camp = np.where(s % 3 == 1, (p % 2) * 2 - 1, ((p // 2) % 2) * 2 - 1)
    lean = np.where(s % 3 == 0, 1, camp * np.where(s % 2 == 0, 1, -1))
    r = rng.random(n_votes)
    vote = np.where(r < 0.15, 0, np.where(r < 0.75, lean, -lean)).astype(np.int8)
    # Polis timestamps are integer milliseconds: 30 days of activity (collisions happen)
    ts = rng.integers(1_700_000_000_000, 1_700_000_000_000 + 30 * 86_400_000, n_votes
                      ).astype(np.float64)
    del r, camp, lean
    gen = time.perf_counter() - t0
    t1 = time.perf_counter()
    table = build_table(p, s, vote, [str(i) for i in range(n_p)],
                        [Statement(str(j)) for j in range(n_s)], ts)
    del p, s, vote, ts
    t2 = time.perf_counter()
    grouping = polis_groups(table)
    t3 = time.perf_counter()
    stats = statement_stats(table, grouping)
    t4 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"votes={n_votes} participants={n_p} statements={n_s} gen={gen:.1f}s "
          f"table={t2 - t1:.1f}s groups={t3 - t2:.1f}s (k={grouping.k}) "
          f"stats={t4 - t3:.1f}s total(excl. gen)={t4 - t1:.1f}s peak_rss={rss:.2f}GB "
          f"gac_max={stats.gac.max():.3f}")


if __name__ == "__main__":
    main()
