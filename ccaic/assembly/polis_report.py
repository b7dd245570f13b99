"""Polis's report as data: groups with representative statements, consensus, participants, PCA.

One versioned block, `polis`, shared by `ccaic analyze --format json` and the build's assembly
artifact, so that other tools read the same names in both (docs/polis-report.md). Statements
moderated out (Polis's own mod-out and every moderation rule) are left out of repness and
consensus, as Polis's report leaves them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ccaic.assembly.groups import Grouping, Pca, in_conv
from ccaic.assembly.stats import consensus, repness
from ccaic.assembly.votes import VoteTable

POLIS_FORMAT_VERSION = "1.0"

#: stats.repness/consensus keys (Polis's spelling) -> the names of the `polis` block
_KEYS = {"tid": "statement", "repful-for": "repful", "n-success": "n_success",
         "n-trials": "n_trials", "p-success": "p_success", "p-test": "p_test",
         "repness": "repness", "repness-test": "repness_test"}


def in_conv_mask(table: VoteTable, server: frozenset[str] | None, threshold: int = 7
                 ) -> np.ndarray:
    """Polis's in-conv rule over `table` (`threshold` votes: a groups block's `min_votes`),
    plus the server's in-conv list where the source carries one: Polis keeps a member in-conv
    ("sticky") even while under the threshold."""
    n_cmts = int((table.statement_vote_counts() > 0).sum())
    mask = in_conv(table, n_cmts, threshold=threshold)
    if server:
        mask |= np.array([p in server for p in table.participants], dtype=bool)
    return mask


def _renamed(entry: dict[str, Any]) -> dict[str, Any]:
    return {_KEYS[k]: v for k, v in entry.items() if k in _KEYS}


def groups_block(table: VoteTable, grouping: Grouping, mod_out: np.ndarray
                 ) -> list[dict[str, Any]]:
    """Each group's size and representative statements, in Polis's order."""
    rep = repness(table, grouping, mod_out)
    return [{"id": name, "size": size,
             "repness": [{**_renamed(e), "best_agree": bool(e.get("best-agree", False))}
                         for e in rep[name]]}
            for name, size in zip(grouping.names, grouping.sizes, strict=True)]


def consensus_block(table: VoteTable, mod_out: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    """Polis's overall consensus statements, top 5 agree and top 5 disagree."""
    return {side: [_renamed(e) for e in entries]
            for side, entries in consensus(table, mod_out).items()}


def participants_block(table: VoteTable, grouping: Grouping, mask: np.ndarray, p: Pca
                       ) -> list[dict[str, Any]]:
    """Per participant (table order): group (None when unclustered), in-conv, votes, x, y."""
    counts = table.vote_counts()
    return [{"id": pid,
             "group": grouping.names[g] if g >= 0 else None,
             "in_conv": bool(mask[i]), "votes": int(counts[i]),
             "x": float(p.projections[i, 0]) + 0.0, "y": float(p.projections[i, 1]) + 0.0}
            for i, (pid, g) in enumerate(zip(table.participants, grouping.labels.tolist(),
                                             strict=True))]


def pca_block(p: Pca, order: Sequence[int]) -> dict[str, Any]:
    """Center and the two components over the table columns `order` (the output's
    `statements` order), in export sign (agree = +1; math-pca2.json's center is negated)."""
    pos = {int(c): i for i, c in enumerate(p.columns)}
    cols = [pos.get(j) for j in order]
    def at(values: np.ndarray) -> list[float]:
        return [float(values[c]) + 0.0 if c is not None else 0.0 for c in cols]  # no -0.0

    return {"center": at(p.center), "components": [at(comp) for comp in p.comps]}


def polis_blocks(table: VoteTable, grouping: Grouping, mod_out: np.ndarray, mask: np.ndarray,
                 p: Pca, order: Sequence[int]) -> dict[str, Any]:
    """The `polis` block: format_version, groups, consensus, participants, pca."""
    return {"format_version": POLIS_FORMAT_VERSION,
            "moderated_out": "left out of repness and consensus",
            "groups": groups_block(table, grouping, mod_out),
            "consensus": consensus_block(table, mod_out),
            "participants": participants_block(table, grouping, mask, p),
            "pca": pca_block(p, order)}


def rounded(value: Any, digits: int = 12) -> Any:
    """`value` with every float rounded, for the canonical build artifact."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value
