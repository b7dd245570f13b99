"""What one evaluation is to the build's evaluate stage: the targets of the evaluations registry.

An evaluation reads the data its `evaluate` attribute pinned, scores the plan's models, and
returns one JSON body, eval/<name>.json. The stage owns reuse: `EvalJob.reuse` returns the
stored body when the evaluation's inputs are unchanged and otherwise computes and stores it, so
an evaluation says only what its output depends on and how to compute it. A new evaluation is
an `Evaluation` in its module here and one line in ccaic/registry/evaluations.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccaic.plan.model import EvalData, TrainingPlan

Body = dict[str, Any]
# reuse(inputs, what, compute): the body for these inputs, computed (and `what` logged) only
# when no stored body has them
Reuse = Callable[[dict[str, Any], str, Callable[[], Body]], Body]


@dataclass(frozen=True)
class EvalJob:
    """One evaluation of one plan, as the stage hands it over once every input is checked."""

    plan: TrainingPlan
    data: EvalData  # the evaluate block's pinned input for this evaluation
    path: Path  # that input on disk, still matching its pin
    base: Path  # the .ccai file's folder: relative model paths resolve against it
    final: Path | None  # the trained model, when the plan trains one
    batch_size: int  # examples per forward pass of a scorer
    reuse: Reuse


@dataclass(frozen=True)
class Evaluation:
    """How the stage runs an evaluation and shows its body."""

    pin: Callable[[Path], str | None]  # the sha256 its data at a path has now (None: missing)
    run: Callable[[EvalJob], Body]  # the body, through job.reuse
    headline: Callable[[Body], Any]  # the numbers `evaluate_plan`'s summary shows
    report_bodies: Callable[[str, Body], dict[str, Body]]  # label -> body, for ccaic.report
