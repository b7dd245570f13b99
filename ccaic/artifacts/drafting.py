"""principles.lock.json (format 1.0): the reviewed drafts beside a .ccai file
(ccaic.constitution.drafting.lock_text), which a person reviews, edits and commits."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel


class LockDraft(ArtifactModel):
    """One principle's draft: the key it was drafted under, the statements it came from, the
    text a reviewer left, and the checks' verdict on it."""

    key: str  # sha256 of the drafting settings and the source statements' texts
    sources: list[str]  # statement ids
    text: str
    needs_hand_edit: bool
    reason: str | None  # why a check failed
    similarity: list[float]  # to each source, in order
    entailed: bool | None  # None: no judge
    accepted: bool
    drafted: str | None  # the model's own text
    checked: str | None  # sha256 of the text the checks last ran on


class LockTopics(ArtifactModel):
    """One constitution's topic names (ccaic.report.topics key -> name) and their model."""

    model: str
    names: dict[str, str]


class PrinciplesLockArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    constitutions: dict[str, dict[str, LockDraft]]  # constitution -> principle id -> draft
    topics: dict[str, LockTopics] | None = None  # absent until a report names topics
