"""The opinion map's points: each participant's 2-D PCA projection and group.

The build hands the points to the report in memory (the artifact's `polis.participants` has
them too, rounded, since the Polis report block). `opinion_map` takes what
`ccaic.assembly.stage.run_assembly` returns; large assemblies are subsampled deterministically
so the HTML stays small and every build of the same inputs draws the same dots.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 5000
UNGROUPED = "unclustered"


@dataclass(frozen=True)
class OpinionMap:
    """Points to draw: (x, y, group name); `participants` counts all of them, before sampling."""

    points: tuple[tuple[float, float, str], ...]
    participants: int
    groups: tuple[str, ...]

    @property
    def shown(self) -> int:
        return len(self.points)


def _keep(participant: str, n: int, limit: int) -> bool:
    """A stable hash decides, so the same participant is kept in every build and the sample
    does not depend on row order or on numpy's random generator."""
    if n <= limit:
        return True
    h = int.from_bytes(hashlib.sha256(participant.encode("utf-8")).digest()[:8], "big")
    return h / 2**64 < limit / n


def opinion_map_from_arrays(participants: list[str], projections: Any, labels: Any,
                            names: tuple[str, ...], limit: int = MAX_POINTS) -> OpinionMap:
    """Points from parallel arrays: ids, (P, 2) projections, group index per row (-1 = none)."""
    n = len(participants)
    points: list[tuple[float, float, str]] = []
    for i, pid in enumerate(participants):
        if not _keep(str(pid), n, limit):
            continue
        x, y = float(projections[i][0]), float(projections[i][1])
        g = int(labels[i])
        points.append((round(x, 6) + 0.0, round(y, 6) + 0.0, names[g] if g >= 0 else UNGROUPED))
    return OpinionMap(points=tuple(points), participants=n, groups=tuple(names))


def opinion_map(result: Any, limit: int = MAX_POINTS) -> OpinionMap | None:
    """From an `AssemblyResult`; None when its grouping has no PCA (nothing to draw)."""
    grouping = result.grouping
    if grouping.pca is None:
        return None
    return opinion_map_from_arrays(list(result.table.participants), grouping.pca.projections,
                                   grouping.labels, tuple(grouping.names), limit)
