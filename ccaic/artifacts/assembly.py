"""assemblies/NAME.json (format 1.0): what ccaic.assembly.stage.artifact writes for one assembly."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, JsonValue

from ccaic.artifacts import ArtifactModel


class Source(ArtifactModel):
    kind: str
    path: str | None = None  # relative to the .ccai file's folder; absent: a polis_api
    #                          source without a snapshot to start from
    as_of: int | None = None  # `ccaic build --as-of`, in ms: the votes up to then (absent: all)


class Provenance(ArtifactModel):
    files: list[str]
    rows_read: int
    rows_used: int
    dropped: dict[str, int]  # reason -> votes dropped
    notes: list[str]


class ModerationStep(ArtifactModel):
    rule: str
    because: str | None
    location: str  # FILE:LINE:COL of the rule, or "implicit"
    removed: int
    ids: list[str]
    duplicates: dict[str, JsonValue] | None = None  # a `duplicate_of` rule's decisions


class Groups(ArtifactModel):
    method: str
    k: int
    clustered: int
    silhouette: float | None
    sizes: dict[str, int]
    # `groups polis { warm_start = true }`: this build's base centers (the next one starts
    # there) and the sha256 of the centers this one started from (None: a cold start)
    base_centers: list[list[float]] | None = None
    warm_from: str | None = None


class Consensus(ArtifactModel):
    """Besides the named fields, each method attribute the block gives (prior, factors, ...:
    ccaic/registry/scores.py declares them)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, str | float | int]

    score: str  # the consensus method whose column ranks the statements
    smoothing: str
    threshold: float | None
    top_k: int | None
    scores: list[str] | None = None  # further methods computed beside `score`


class GroupVotes(ArtifactModel):
    agrees: int
    disagrees: int
    passes: int


class Statement(ArtifactModel):
    """One statement row; besides the named fields, one float column per score computed
    (gac, gac_disagree, ...: a new score adds its column without a model change)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, float | None]

    id: str
    rank: int | None
    text: str
    moderated: int
    meta: bool
    moderated_out: bool
    agrees: int
    disagrees: int
    passes: int
    polarization: float | None
    adjusted_polarization: float | None
    groups: dict[str, GroupVotes]
    selected: bool
    reason: str


class Bootstrap(ArtifactModel):
    resamples: int
    seed: int
    frequency: dict[str, float]  # statement id -> share of resamples selecting it
    score: str | None = None  # the score the resamples select by
    interval: dict[str, dict[str, list[float | None]]] | None = None  # score -> id -> 95%
    # each method of the block's `scores` -> id -> share of resamples with the statement among
    # that method's best (as many as the real selection)
    by_method: dict[str, dict[str, float]] | None = None


class GroupingComparison(ArtifactModel):
    k: dict[str, int]
    jaccard: dict[str, float]
    selected: dict[str, list[str]]


class Stability(ArtifactModel):
    bootstrap: Bootstrap | None = None
    groupings: GroupingComparison | None = None


class Repness(ArtifactModel):
    statement: str
    repful: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    best_agree: bool


class PolisGroup(ArtifactModel):
    id: str
    size: int
    repness: list[Repness]


class ConsensusEntry(ArtifactModel):
    statement: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


class PolisConsensus(ArtifactModel):
    agree: list[ConsensusEntry]
    disagree: list[ConsensusEntry]


class Participant(ArtifactModel):
    id: str
    group: str | None
    in_conv: bool
    votes: int
    x: float
    y: float


class Pca(ArtifactModel):
    center: list[float]
    components: list[list[float]]


class Polis(ArtifactModel):
    """Polis's report blocks, in the shapes the Polis math export uses (renamed keys)."""

    format_version: Literal["1.0"]
    moderated_out: str
    groups: list[PolisGroup]
    consensus: PolisConsensus
    participants: list[Participant]
    pca: Pca


class AssemblyArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    name: str
    description: str
    source: Source
    provenance: Provenance
    moderation: list[ModerationStep]
    participants: int
    statements_in: int
    groups: Groups
    consensus: Consensus
    selection: list[str]  # selected statement ids, in rank order
    statements: list[Statement]
    stability: Stability
    polis: Polis
