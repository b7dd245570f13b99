"""Group-aware consensus of disagreement: GAC with D in place of A (every variant of gac)."""

from __future__ import annotations

from ccaic.assembly.scores import Scored, ScoreInputs, ScoreMethod
from ccaic.assembly.scores.gac import describe, group_aware, prior_of


def score(inputs: ScoreInputs, /, smoothing: str = "polis", prior: str | None = None,
          agreement: str = "agree", combine: str = "product") -> Scored:
    a, d, p = inputs.group_counts
    return Scored(group_aware(d, a, a + d + p, prior_of(smoothing, prior), agreement, combine))


GAC_DISAGREE = ScoreMethod(score, describe)
