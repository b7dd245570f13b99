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


def main() -> None:
    n_votes, n_p, n_s = (int(float(x)) for x in sys.argv[1:4])
    from ccaic.assembly.groups import polis_groups
    from ccaic.assembly.stats import statement_stats
    from ccaic.assembly.synthetic import synthetic_votes
    from ccaic.assembly.votes import Statement, build_table

    t0 = time.perf_counter()
    p, s, vote, ts = synthetic_votes(n_p, n_s, n_votes, seed=0)
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
