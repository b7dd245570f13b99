"""Typed, language-free assembly specs, lowered from a checked program by `lower_assembly`.

The assembly stage (resolve, analyze) reads these, never the AST, so "the math knows nothing
of the language": this module imports nothing of ccaic.syntax. Every spec keeps the span it
came from, so a data error found at build time can still point at the .ccai line that asked
for the data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ccaic.diagnostics import Span
from ccaic.lowering.conditions import Predicate


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceSpec(Spec):
    kind: str  # a ccaic.registry.sources language name (the checker refuses others)
    #: absolute; for a remote source, a snapshot to start from (docs/language.md), which it
    #: may go without (None)
    path: str | None = None
    options: dict[str, str] = {}
    #: a remote source's snapshot folder in the build folder (DIR/sources/<assembly>/<kind>),
    #: set by the assembly stage; None: the files are read at `path`
    snapshot: str | None = None
    span: Span

    @property
    def folder(self) -> str | None:
        """Where the source's files are read: its snapshot in the build folder, else `path`
        (None: a remote source run with no build folder and no `path`)."""
        return self.snapshot or self.path


class RuleSpec(Spec):
    """A moderation rule: a `where` predicate over the rows' fields, or listed ids."""

    action: Literal["keep", "drop"]
    subject: Literal["statements", "participants"]
    where: Predicate | None = None
    listed: list[str] | None = None  # ids, from a list literal or an id file
    listed_file: str | None = None
    because: str | None = None
    text: str  # the rule as written (fmt style), for reports
    span: Span
    # the moderation block's `duplicate_similarity` (None: the matcher's default), read by a
    # rule that tests `duplicate_of`
    duplicate_similarity: float | None = None


class GroupsSpec(Spec):
    kind: str = "polis"  # a ccaic.registry.groupings name (the checker refuses others)
    k_min: int = 2
    k_max: int = 5
    seed: int = 0
    min_votes: int = 7
    file: str | None = None  # export: participant -> group CSV
    column: str = "group-id"
    participant_column: str = "participant"
    warm_start: bool = False
    #: a registered grouping's other attributes, as the block gives them (its function reads
    #: GroupingRequest.options, defaults from its registry entry): no field here for a new one
    options: dict[str, str | float | int | bool] = {}
    warm_centers: list[list[float]] | None = None  # set by the assembly stage (warm_start)
    span: Span | None = None  # the groups block: where a grouping that cannot be made points


class ConsensusSpec(Spec):
    kind: str = "gac"  # a ccaic.registry.scores name (the checker refuses others)
    threshold: float | None = None
    top_k: int | None = None
    options: dict[str, str | float | int] = {}  # method attributes the block gives (defaults:
    #                                              the registry entry of each method)
    scores: tuple[str, ...] = ()  # further methods computed and reported beside `kind`
    span: Span | None = None  # the threshold (else the block): where an empty selection points

    @property
    def smoothing(self) -> str:
        """The GAC pair's smoothing: both are computed in every build."""
        return str(self.options.get("smoothing", "polis"))


class StabilitySpec(Spec):
    bootstrap: int = 0
    seed: int = 0
    groupings: list[str] = []
    span: Span | None = None  # `groupings` (else the block): where a failed grouping points


class AssemblySpec(Spec):
    name: str
    description: str = ""
    source: SourceSpec
    moderation: list[RuleSpec] = []
    groups: GroupsSpec = GroupsSpec()
    consensus: ConsensusSpec = ConsensusSpec(threshold=0.5)
    stability: StabilitySpec = StabilitySpec()
    span: Span
