"""plans/NAME/eval/bbq.json and eval/hhh.json (format 1.0): a plan's evaluate stage
(ccaic.evaluate.stage); the bodies inside are what `ccaic evaluate` prints."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel

Interval = list[float] | None  # a 95% percentile interval; None when nothing was resampled


class BootstrapSettings(ArtifactModel):
    resamples: int
    level: float
    method: Literal["percentile"]


class BbqIntervals(ArtifactModel):
    accuracy_ambiguous: Interval
    accuracy_disambiguated: Interval
    bias_ambiguous: Interval
    bias_disambiguated: Interval


class BbqScores(ArtifactModel):
    """One category's scores, or all categories pooled (`overall`); a score is None when
    its condition had no example."""

    accuracy_ambiguous: float | None
    accuracy_disambiguated: float | None
    bias_ambiguous: float | None
    bias_ambiguous_unscaled: float | None
    bias_disambiguated: float | None
    n_ambiguous: int
    n_ambiguous_non_unknown: int
    n_ambiguous_biased: int
    n_ambiguous_undetermined: int
    n_disambiguated: int
    n_disambiguated_non_unknown: int
    n_disambiguated_biased: int
    n_disambiguated_undetermined: int
    intervals: BbqIntervals
    n_available: int | None = None  # examples the category has (categories only)


class BbqBody(ArtifactModel):
    """One model's BBQ scores (ccaic.evaluate.run.evaluate_bbq)."""

    format_version: Literal["1.0"]
    benchmark: Literal["bbq"]
    model: str
    limit_per_category: int | None
    seed: int
    bootstrap: BootstrapSettings
    prompt: str
    categories: dict[str, BbqScores]
    overall: BbqScores


class BbqStageArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    benchmark: Literal["bbq"]
    plan: str
    data: str | None  # the evaluate block's BBQ path, as written
    models: dict[str, BbqBody]  # "base", and "final" after a full run


class HhhIntervals(ArtifactModel):
    accuracy_given_order: Interval
    accuracy_swapped_order: Interval
    accuracy_debiased: Interval
    mean_position_bias: Interval


class HhhStageArtifact(ArtifactModel):
    """The feedback model's judge accuracy (ccaic.evaluate.hhh.run_comparisons) with the
    plan it belongs to."""

    format_version: Literal["1.0"] = "1.0"
    benchmark: Literal["hhh"]
    model: str
    seed: int
    data_sha256: str
    limit: int | None
    options: list[str]
    n: int
    items: int
    n_correct_a: int
    accuracy_given_order: float
    accuracy_swapped_order: float
    accuracy_debiased: float
    mean_position_bias: float
    ties_debiased: int
    bootstrap: BootstrapSettings
    intervals: HhhIntervals
    plan: str
    data: str
    role: Literal["feedback"]
