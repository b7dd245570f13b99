"""plans/NAME/final/source.json: which trainer step's stage folder step.final delivered
(ccaic.train.steps.final), beside the model it copied. Versioned with run.json (format 1.0),
whose `step.final` record names the same stage."""

from __future__ import annotations

from pydantic import Field

from ccaic.artifacts import ArtifactModel


class FinalSourceArtifact(ArtifactModel):
    from_: str = Field(alias="from")  # the stage folder's name under stages/
    step: str  # the step address that trained it, step.NAME
