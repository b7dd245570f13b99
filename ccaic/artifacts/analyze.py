"""`ccaic analyze --format json` (format 1.1, ccaic.commands.analyze): one vote source's
groups and statement scores without a .ccai file, with Polis's report blocks at the top level
under their Polis names (the assembly artifact nests them in `polis`)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from ccaic.artifacts import ArtifactModel
from ccaic.artifacts.assembly import (
    GroupVotes,
    Participant,
    Pca,
    PolisConsensus,
    PolisGroup,
    Provenance,
)


class AnalyzeGroups(ArtifactModel):
    method: str
    k: int
    clustered: int
    silhouette: float | None
    sizes: dict[str, int]


class ModerationReport(ArtifactModel):
    """What one moderation rule removed (ccaic.assembly.moderation)."""

    rule: str
    kind: str  # "statements" or "participants"
    count: int
    ids: list[str]


class AnalyzeSummary(ArtifactModel):
    source: str
    kind: str  # the source format read
    participants: int
    statements: int
    statements_with_votes: int
    statements_moderated_out: int
    votes: int
    groups: AnalyzeGroups
    smoothing: str
    scores: list[str]  # the methods computed, the first ranking the rows
    moderation: list[ModerationReport]
    provenance: Provenance


class AnalyzeStatement(ArtifactModel):
    """One statement row; besides the named fields, one float column per score and its
    extras (gac, gac_disagree, ...), named as in the assembly artifact."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, float | None]

    id: str
    rank: int | None  # None: moderated out
    text: str
    scores: dict[str, float | None]  # each method asked for
    agrees: int
    disagrees: int
    passes: int
    groups: dict[str, GroupVotes]
    polarization: float
    adjusted_polarization: float
    moderated: int
    meta: bool
    moderated_out: bool


class AnalyzeArtifact(ArtifactModel):
    format_version: Literal["1.1"] = "1.1"
    summary: AnalyzeSummary
    statements: list[AnalyzeStatement]
    moderated_out: str
    groups: list[PolisGroup]
    consensus: PolisConsensus
    participants: list[Participant]
    pca: Pca
