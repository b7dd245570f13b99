"""What `ccaic watch` keeps in history/ (ccaic.watch): watch.json (format 1.0), the last good
poll and its timeline, and per entry summary.json and diff.json. An entry's files carry no
format_version of their own: they are of the watch.json format they sit beside."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel
from ccaic.artifacts.diff import DiffArtifact


class TimelineAssembly(ArtifactModel):
    """One assembly at one poll (ccaic.watch.poll.timeline_point): what the report draws."""

    participants: int
    votes: int
    method: str
    cut: float | None  # the score a statement had to reach
    threshold: float | None
    selected: list[str]
    scores: dict[str, float | None]  # statement id -> score


class TimelinePoint(ArtifactModel):
    poll: int
    time: str
    assemblies: dict[str, TimelineAssembly]


class WatchStateArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    entries: int
    polls: int
    fingerprint: str | None
    data_key: str | None
    base: int | None  # history/.base-<base>/ holds the last good poll's assemblies
    sources: str | None
    timeline: list[TimelinePoint]


class SummaryGroups(ArtifactModel):
    k: int | None
    sizes: dict[str, int]


class StatementSummary(ArtifactModel):
    text: str
    score: float | None
    votes: int
    selected: bool
    # why it is out (the artifact's reason: below threshold, beyond top k, the method's own
    # bar); absent when selected, and in entries written before it was recorded
    reason: str | None = None


class AssemblySummary(ArtifactModel):
    """One assembly reduced to what the history compares (ccaic.watch.summary)."""

    participants: int
    votes: int
    statements_in: int
    groups: SummaryGroups
    method: str
    threshold: float | None
    top_k: int | None
    statements: dict[str, StatementSummary]


class Crossing(ArtifactModel):
    entered: list[str]  # statement ids that entered the selection since the previous entry
    left: list[str]


class HistorySummaryArtifact(ArtifactModel):
    entry: int
    time: str
    assemblies: dict[str, AssemblySummary]
    changes: dict[str, Crossing]
    constitutions: list[str]


class HistoryDiffArtifact(ArtifactModel):
    entry: int
    constitutions: dict[str, DiffArtifact]  # against entry n-1; a new constitution has none
