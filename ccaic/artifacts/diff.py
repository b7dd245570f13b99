"""`ccaic diff --format json` (format 1.0, ccaic.diff.report.to_json): two constitutions'
principles paired by meaning (and, between two build folders, their report numbers), which CI
parses; history/<n>/diff.json holds one per constitution."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel


class SideOrigin(ArtifactModel):
    kind: Literal["assembly", "hand-written", "import"]
    source: str | None
    format: str | None


class Side(ArtifactModel):
    name: str
    origin: SideOrigin
    principles: int  # how many


class Counts(ArtifactModel):
    unchanged: int
    changed: int
    removed: int
    added: int
    overlap: float  # the share of principles kept or changed


class PrincipleRef(ArtifactModel):
    address: str
    id: str
    text: str


class Pairing(ArtifactModel):
    """One principle's fate: kept (no-op), reworded (update), removed (delete), new (create)."""

    action: Literal["no-op", "update", "delete", "create"]
    before: PrincipleRef | None
    after: PrincipleRef | None
    similarity: float | None  # None: nothing paired it
    changed: list[str]  # the fields an update changed


class Framing(ArtifactModel):
    adopt: int
    avoid: int


class FramingPair(ArtifactModel):
    a: Framing
    b: Framing


class Themes(ArtifactModel):
    source: Literal["tags", "keywords"]
    only_a: dict[str, int]
    only_b: dict[str, int]


class SelectedStatement(ArtifactModel):
    id: str
    text: str


class SelectionChange(ArtifactModel):
    """Both sides selected from an assembly, different statements: each side's method and
    the statements the change removed and added."""

    a: str
    b: str
    removed: list[SelectedStatement]
    added: list[SelectedStatement]


class MetricRow(ArtifactModel):
    section: str  # e.g. "assembly quickstart", "bbq public: Age"
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    a_interval: list[float] | None
    b_interval: list[float] | None
    overlap: bool | None  # whether the intervals overlap: a cue, not a test


class Metrics(ArtifactModel):
    """Two build folders' report numbers side by side (ccaic.report.compare.to_json)."""

    format_version: Literal["1.0"]
    a: str
    b: str
    notes: list[str]
    metrics: list[MetricRow]


class DiffArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    matcher: str
    threshold: float
    a: Side
    b: Side
    summary: Counts
    principles: list[Pairing]
    framing: FramingPair
    themes: Themes
    selection: SelectionChange | None = None  # absent when the selection did not change
    metrics: Metrics | None = None  # only when both sides are build folders with a report
