"""Groupings: `groups <name> { ... }` in the language, how participants become opinion groups.

`target` is `(GroupingRequest) -> Grouping` (ccaic.assembly.groupings); `attrs` the groups block
attributes the grouping takes, with their defaults. The checker's `groups` block takes the
union of every entry's attributes, in entry order, and warns (CCAI217) at one the labelled
grouping does not take (`meta["ignores"]` says why, for its hint), and at one that
`meta["with"]` says acts only beside another the block does not set. Other meta it reads:
`"needs"`, groups of attributes the block must set one of, each with an example (CCAI209), and
`"forced_k"`: the grouping is named `<name>:K` in `stability { groupings }` and
`ccaic analyze --groups` (K groups, in `k`'s range), never bare.

A new grouping: its function (in ccaic/assembly/groupings.py or a module of its own) plus one
Entry here (plus docs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ccaic.registry import Attr, Entry, Registry

K = Attr("int_or_range", "number of groups, or a range searched by silhouette", minimum=2,
         maximum=50, default=(2, 5))
SEED = Attr("int", "where k-means starts: 0 is Polis's start (the first distinct points), "
            "another value draws the starting points with that seed", minimum=0, default=0)

GROUPINGS: Registry[Callable[..., Any]] = Registry("grouping", [
    Entry("polis", "ccaic.assembly.groupings:polis",
          "Polis's cold pipeline: PCA, 100 base clusters, k chosen by silhouette in `k`",
          attrs={"k": K, "seed": SEED,
                 "min_votes": Attr("int", "polis: votes a participant needs to be "
                                   "clustered (default 7, Polis's; the server's in-conv list "
                                   "still counts)", minimum=0, default=7),
                 "warm_start": Attr("bool", "polis: start from the last build's clusters in "
                                    "the output folder, as Polis does (default false)",
                                    default=False)},
          meta={"ignores": "polis groups cluster the votes"}),
    Entry("export", "ccaic.assembly.groupings:export",
          "the groups the source carries (participants-votes.csv group-id, math-pca2.json), "
          "or those of a CSV file",
          attrs={"file": Attr("path", "export: a CSV assigning participants to groups "
                              "(default: the source's own group-id)"),
                 "column": Attr("string", "export: the group column of `file` "
                                "(default group-id)", default="group-id"),
                 "participant_column": Attr("string", "export: the participant column of "
                                            "`file` (default participant)",
                                            default="participant")},
          meta={"ignores": "export groups come from the export itself",
                "with": {"column": "file", "participant_column": "file"}}),
    Entry("kmeans", "ccaic.assembly.groupings:kmeans",
          "Polis's pipeline with the group count forced to `k` (the top of a range)",
          attrs={"k": K, "seed": SEED},
          meta={"ignores": "kmeans groups cluster the votes",
                "needs": ((("k",), "`k = 2` (or a range such as 2..5)"),), "forced_k": True}),
])


def forced_k() -> tuple[str, ...]:
    """The groupings named `<name>:K` (k forced) in stability and `ccaic analyze --groups`."""
    return tuple(e.name for e in GROUPINGS if e.meta.get("forced_k"))


def spellings() -> tuple[str, ...]:
    """Each grouping as stability and `ccaic analyze --groups` name it, in registry order:
    `<name>:K` for one that forces k, the bare name otherwise."""
    forced = forced_k()
    return tuple(f"{name}:K" if name in forced else name for name in GROUPINGS.names())
