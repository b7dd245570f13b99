"""report.json (format 1.0): the build's numbers (ccaic.report.model.build_report).

The report reads artifacts leniently (an older or hand-made one may lack a field), so a value
copied from an input artifact may be None here even where that artifact's model requires it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from ccaic.artifacts import ArtifactModel
from ccaic.artifacts.evaluation import BbqIntervals

Interval = list[float] | None


class StatementCounts(ArtifactModel):
    total: int
    kept: int | None
    scored: int


class Votes(ArtifactModel):
    rows_read: int | None
    rows_used: int | None


class Moderation(ArtifactModel):
    rule: str | None
    because: str | None
    location: str | None
    removed: int | None
    duplicates: dict[str, JsonValue] | None = None  # a `duplicate_of` rule's decisions


class Groups(ArtifactModel):
    method: str | None
    k: int | None
    clustered: int | None
    silhouette: float | None
    sizes: dict[str, int]


class Selected(ArtifactModel):
    n: int
    ids: list[str]


class ScoreSummary(ArtifactModel):
    n: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None


class Histogram(ArtifactModel):
    edges: list[float]
    counts: list[int]


class SelectedAgreement(ArtifactModel):
    rank: int
    id: str
    text: str
    score: float
    groups: dict[str, float]  # group -> share agreeing of those who saw it


class BootstrapSummary(ArtifactModel):
    resamples: int | None
    seed: int | None
    selected: list[tuple[str, float]]  # [id, frequency] in selection order
    mean_selected: float | None
    unselected_above_half: int


class Stability(ArtifactModel):
    bootstrap: BootstrapSummary | None = None
    groupings: dict[str, JsonValue] | None = None  # the assembly artifact's, as it is


class Shares(ArtifactModel):
    agree: float
    disagree: float


class RepStatement(ArtifactModel):
    id: str
    text: str
    repful: str
    in_: Shares = Field(alias="in")  # the group's shares
    out: Shares  # every other group's together
    repness: float


class PolisGroup(ArtifactModel):
    id: str
    size: int
    statements: list[RepStatement]


class ConsensusStatement(ArtifactModel):
    id: str
    text: str
    share: float
    seen: int


class PolisConsensus(ArtifactModel):
    agree: list[ConsensusStatement]
    disagree: list[ConsensusStatement]


class PolisReport(ArtifactModel):
    groups: list[PolisGroup]
    consensus: PolisConsensus


class OpinionMap(ArtifactModel):
    participants: int
    shown: int
    groups: list[str]


class AssemblySection(ArtifactModel):
    description: str | None
    participants: int | None
    statements: StatementCounts
    votes: Votes
    votes_dropped: dict[str, int]
    moderation: list[Moderation]
    groups: Groups
    consensus: dict[str, JsonValue]  # the assembly artifact's consensus block
    selected: Selected
    scores: ScoreSummary
    histogram: Histogram
    threshold_curve: list[tuple[float, int, int]]  # threshold, selected, with top_k
    selected_agreement: list[SelectedAgreement]
    stability: Stability
    polis_report: PolisReport | None
    opinion_map: OpinionMap | None = None  # when the build computed the projections
    # the selecting method against a second computed score: {"x", "y", "points": [[x, y,
    # selected], ...]}; absent for a GAC build that computes nothing more
    comparison: dict[str, JsonValue] | None = None


class PrincipleRow(ArtifactModel):
    id: str | None
    address: str | None
    text: str | None
    statements: list[str | None]
    gac: list[float | None]
    # each source's score by the selecting method, when that is not GAC (bridging, ...)
    score: list[float | None] | None = None
    edits: list[str | None]
    needs_hand_edit: bool


class Topic(ArtifactModel):
    name: str  # its keywords, joined, or (named) the drafting model's name
    keywords: list[str]
    principles: list[str]  # principle ids
    named: bool | None = None  # true: named by the drafting model (principles.lock.json)


class Topics(ArtifactModel):
    """ccaic.report.topics: principles grouped by meaning (constitutions of 6 or more)."""

    matcher: str  # embedding or tfidf
    topics: list[Topic]


class ConstitutionSection(ArtifactModel):
    origin: dict[str, JsonValue]
    principles: int
    needs_hand_edit: int
    edited: int
    dropped: int
    selection_method: str | None
    score: str | None = None  # the selecting method, when not GAC: PrincipleRow.score's
    table: list[PrincipleRow]
    topics: Topics | None = None


class PrincipleDraws(ArtifactModel):
    critiques: int
    comparisons: int


class Coverage(ArtifactModel):
    principles: dict[str, PrincipleDraws]
    order: list[str]
    never_drawn: list[str]
    critiques: int
    comparisons: int


class TrainingSection(ArtifactModel):
    plan: str | None
    plan_sha256: str | None
    stopped_after: str | None
    steps: dict[str, Literal["done", "off"]]
    counts: dict[str, dict[str, JsonValue]]  # stage -> its manifest counts
    losses: dict[str, list[tuple[int, float]]]  # stage -> [step, loss]
    coverage: Coverage


class BbqScores(ArtifactModel):
    accuracy_ambiguous: float | None = None
    accuracy_disambiguated: float | None = None
    bias_ambiguous: float | None = None
    bias_disambiguated: float | None = None
    n_ambiguous: int | None = None
    n_disambiguated: int | None = None
    intervals: BbqIntervals | None = None


class BbqEntry(ArtifactModel):
    model: str | None
    seed: int | None
    limit_per_category: int | None
    categories: dict[str, BbqScores]
    overall: BbqScores


class HhhEntry(ArtifactModel):
    model: str | None
    seed: int | None
    items: int
    accuracy: float
    accuracy_given_order: float | None
    accuracy_swapped_order: float | None
    position_bias: float | None
    interval: Interval
    interval_method: Literal["bootstrap percentile", "wilson"]


class Evaluation(ArtifactModel):
    bbq: dict[str, BbqEntry]  # label (<plan>-base, <plan>-final, a file stem) -> scores
    hhh: dict[str, HhhEntry]


class TimelinePoint(ArtifactModel):
    poll: int
    time: str  # UTC, to the second
    participants: int
    votes: int
    cut: float | None  # the threshold, or the lowest selected score under top_k alone


class Timeline(ArtifactModel):
    """ccaic.report.timeline: a watched build's assembly over its polls."""

    method: str
    threshold: float | None
    points: list[TimelinePoint]
    trajectories: dict[str, list[float | None]]  # statement id -> its score at each point


class ReportArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    kind: Literal["ccaic-report"]
    assemblies: dict[str, AssemblySection]
    constitutions: dict[str, ConstitutionSection]
    training: dict[str, TrainingSection]
    evaluation: Evaluation
    notes: list[str]
    timeline: dict[str, Timeline] | None = None  # a watched build (ccaic watch) only
