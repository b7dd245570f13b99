"""The groupings ccaic.registry.groupings names: `(GroupingRequest) -> Grouping` each.

One request type carries everything any grouping may read (the table, the assembly's one PCA,
the source, the groups block's attributes; a new grouping's own ones by name in `options`), so
a new grouping is a function here plus its registry entry, and neither the assembly stage, the
lowering nor `ccaic analyze` changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ccaic.assembly.groups import Grouping, Pca, export_groups, pca, polis_groups
from ccaic.assembly.polis_report import in_conv_mask
from ccaic.assembly.sources import LoadedSource
from ccaic.assembly.sources.id_files import groups_file_coverage, read_groups_file
from ccaic.assembly.votes import VoteTable
from ccaic.diagnostics import DiagnosticError, error
from ccaic.registry.groupings import GROUPINGS


@dataclass(frozen=True)
class GroupingRequest:
    """What a grouping is given: the moderated table, its statements moderated out, the source
    (its own groups, its in-conv list), the PCA when the caller has it, and the groups block's
    attributes (`k` as a range; `k_min == k_max` forces k)."""

    table: VoteTable
    mod_out: np.ndarray
    loaded: LoadedSource | None = None
    pca: Pca | None = None
    k: tuple[int, int] = (2, 5)
    file: str | None = None
    column: str = "group-id"
    participant_column: str = "participant"
    warm: np.ndarray | None = None  # the last build's base centers (`warm_start`), or cold
    seed: int = 0  # where k-means starts: 0 is Polis's first distinct points
    min_votes: int = 7  # votes a participant needs to be clustered (Polis's 7)
    #: the block's other attributes by name (a new grouping's own; see `option`)
    options: Mapping[str, object] = field(default_factory=dict)

    def option(self, grouping: str, name: str) -> object:
        """A grouping's own attribute: as the block gives it, else its registry default."""
        return self.options.get(name, GROUPINGS.entry(grouping).attrs[name].default)


def polis(req: GroupingRequest) -> Grouping:
    """Polis's pipeline (cold, or warm from `req.warm`); k chosen by silhouette in the range,
    or forced by a single k."""
    low, high = req.k
    return polis_groups(req.table, req.mod_out, k=high if low == high else None,
                        pca_result=req.pca, k_range=req.k, in_conv_mask=_clustered(req),
                        warm=req.warm, seed=req.seed)


def kmeans(req: GroupingRequest) -> Grouping:
    """The Polis pipeline with k forced to the top of `k` (`kmeans:K`)."""
    return polis_groups(req.table, req.mod_out, k=req.k[1], pca_result=req.pca,
                        in_conv_mask=_clustered(req), seed=req.seed)


def export(req: GroupingRequest) -> Grouping:
    """The groups of `file` when given (CCAI433 when some participants have none), else the
    source's own (CCAI414 when it carries none)."""
    if req.file is not None:
        mapping = read_groups_file(req.file, req.participant_column, req.column)
        if req.loaded is not None:
            req.loaded.warnings.extend(groups_file_coverage(
                req.table.participants, mapping, req.file, req.loaded.table.participants))
        return export_groups(req.table, mapping, req.pca)
    loaded = req.loaded
    if not loaded or not loaded.export_groups:
        raise DiagnosticError([error(
            "CCAI414", f"{loaded.path if loaded else 'source'} carries no groups",
            None, help="export groups need participants-votes.csv with group-id or "
            "math-pca2.json; use Polis's own grouping instead (`groups polis` in a "
            "spec, `--groups polis` for analyze)")])
    return export_groups(req.table, loaded.export_groups,
                         pca(req.table, req.mod_out) if req.pca is None else req.pca)


def _clustered(req: GroupingRequest) -> np.ndarray:
    """Who the clustering groupings cluster: Polis's in-conv rule with `min_votes` in place of
    its 7, plus the server's in-conv list where the source carries one."""
    server = req.loaded.in_conv if req.loaded is not None else None
    return in_conv_mask(req.table, server, threshold=req.min_votes)
