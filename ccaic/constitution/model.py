"""The Constitution: principles with stable addresses, training prompts and provenance.

This is the artifact `ccaic build --until constitution` writes (canonical JSON) and what
`ccaic diff` compares. It holds no timestamps or absolute paths, so the same inputs give the
same bytes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

CONSTITUTION_FORMAT_VERSION = "1.0"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatementRef(Model):
    """A statement that asked for a principle, with the numbers that selected it."""

    id: str
    text: str
    gac: float | None = None
    gac_disagree: float | None = None
    agrees: int | None = None
    disagrees: int | None = None
    passes: int | None = None
    groups: dict[str, float] = Field(default_factory=dict)  # group id -> share agreeing
    rank: int | None = None
    # every other computed score by method name (bridging, bridging_factor, ...); the GAC pair
    # keeps its own fields above
    scores: dict[str, float | None] = Field(default_factory=dict)

    @model_serializer(mode="wrap")
    def _omit_no_scores(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No `scores` key when there are none: a GAC build's constitution keeps its bytes."""
        data: dict[str, Any] = handler(self)
        if not data.get("scores"):
            data.pop("scores", None)
        return data


class Edit(Model):
    """A hand edit applied in the spec, kept so provenance survives it."""

    kind: Literal["override", "merge", "drop"]
    because: str | None = None
    location: str | None = None  # file:line of the edit in the .ccai source
    before: str | None = None


class Principle(Model):
    address: str  # e.g. principle.public.p07, principle.standard.harm
    id: str
    text: str  # the comparison instruction: "Choose the response that ..."
    critique: str
    revision: str
    weight: float = 1.0
    tags: tuple[str, ...] = ()
    sources: tuple[StatementRef, ...] = ()
    edits: tuple[Edit, ...] = ()
    needs_hand_edit: bool = False


class DroppedStatement(Model):
    id: str
    text: str
    because: str | None = None


class Selection(Model):
    """Which statements were selected, how, and each one's scores."""

    method: str  # e.g. "gac >= 0.723" or "top 20 by gac"
    threshold: float | None = None
    top_k: int | None = None
    statements: tuple[StatementRef, ...] = ()


class Origin(Model):
    kind: Literal["assembly", "hand-written", "import"]
    source: str | None = None  # assembly name, .ccai file (relative) or imported file name
    format: str | None = None  # for imports: "hf-recipe", "anthropic-cai", "ccaic"


class DraftLock(Model):
    """The reviewed lock file a constitution's drafts came from (ccaic.constitution.drafting):
    the sha256 of its bytes, so a changed review is a changed artifact, and the topic names the
    drafting model gave there (ccaic.report.topics key -> name), so the report needs no model."""

    file: str  # beside the .ccai file: principles.lock.json
    sha256: str
    topic_names: dict[str, str] = Field(default_factory=dict)


class Constitution(Model):
    format_version: str = CONSTITUTION_FORMAT_VERSION
    name: str
    description: str = ""
    origin: Origin
    principles: tuple[Principle, ...]
    selection: Selection | None = None
    dropped: tuple[DroppedStatement, ...] = ()
    system_chat: tuple[dict[str, str], ...] = ()  # few-shot chat kept from HF-format imports
    # messages per conversation when an import grouped system_chat ([[...], [...]]); () = flat
    system_chat_turns: tuple[int, ...] = ()
    drafts: DraftLock | None = None  # a constitution with a `draft` block

    @model_serializer(mode="wrap")
    def _omit_no_drafts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No `drafts` key without a `draft` block: every other constitution keeps its bytes."""
        data: dict[str, Any] = handler(self)
        if data.get("drafts") is None:
            data.pop("drafts", None)
        return data

