"""plans/NAME/run.json (format 1.0): what ccaic.train.runner records of a training run."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from ccaic.artifacts import ArtifactModel


class Step(ArtifactModel):
    """One step address of the plan: its stage folder (None: the step is off), what the step
    counted (each counts its own things), and for `step.final` the stage it delivers."""

    dir: str | None
    counts: dict[str, JsonValue] | None = None
    from_: str | None = Field(default=None, alias="from")


class RunArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    plan: str  # the plan's address, plan.NAME
    plan_sha256: str
    stopped_after: str | None
    steps: dict[str, Step]  # step address -> its record
