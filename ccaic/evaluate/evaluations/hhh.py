"""HHH in a build: the judge accuracy of the plan's feedback model, the model that labels its
preference pairs, scored on the plan's pinned HHH file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ccaic.evaluate.evaluations.base import Body, EvalJob, Evaluation
from ccaic.models.identity import model_identity

HEADLINE = ("model", "n", "accuracy_given_order", "accuracy_swapped_order", "accuracy_debiased",
            "mean_position_bias")


def pin(path: Path) -> str | None:
    """The file's sha256 (what the lowering pinned), None without it."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def run(job: EvalJob) -> Body:
    """The ccaic.evaluate.hhh body with the plan and data it was scored for; reused while the
    data, seed, judge and its batch size are unchanged."""
    plan = job.plan
    inputs = {"hhh": job.data.model_dump(mode="json"), "seed": plan.seed,
              "judge": model_identity(plan.feedback, job.base, plan.seed),
              "batch_size": plan.stages.label.batch_size}
    return job.reuse(inputs, "hhh judge accuracy of the feedback model", lambda: _scores(job))


def _scores(job: EvalJob) -> Body:
    from ccaic.evaluate.data import load_comparisons
    from ccaic.evaluate.hhh import free_judge, judge_for_ref, run_comparisons

    plan = job.plan
    comparisons = load_comparisons(job.path)
    judge = judge_for_ref(plan.feedback, plan.seed, plan.stages.label.batch_size, job.base)
    try:
        body = run_comparisons(comparisons, judge, model=plan.feedback.ref, seed=plan.seed,
                               data_sha256=job.data.sha256)
    finally:
        free_judge(judge)
    return {**body, "plan": plan.address, "data": job.data.path, "role": "feedback"}


def headline(body: Body) -> dict[str, Any]:
    """The judge's accuracies and position bias."""
    return {k: body[k] for k in HEADLINE}


def report_bodies(plan_name: str, body: Body) -> dict[str, Body]:
    """`<plan>-judge`: the body as ccaic.report reads HHH judge accuracy."""
    return {f"{plan_name}-judge": body}


HHH = Evaluation(pin=pin, run=run, headline=headline, report_bodies=report_bodies)
