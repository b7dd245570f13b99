"""BBQ in a build: the base policy model and, when the plan trains, the final model (the
comparison the CCAI paper reports), scored on the plan's pinned BBQ folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccaic.evaluate.data import pin_bbq_folder
from ccaic.evaluate.evaluations.base import Body, EvalJob, Evaluation
from ccaic.models.identity import model_files_digest, model_identity

FORMAT_VERSION = "1.0"
HEADLINE = ("accuracy_ambiguous", "accuracy_disambiguated", "bias_ambiguous",
            "bias_disambiguated")


def pin(folder: Path) -> str | None:
    """The folder's category files' sha256 (what the lowering pinned), None without it."""
    return pin_bbq_folder(folder)[0] if folder.is_dir() else None


def run(job: EvalJob) -> Body:
    """Each model's body is exactly `ccaic evaluate bbq --format json`'s, so the report and
    `ccaic diff` read either; reused while the data, limit, seed and both models are unchanged."""
    plan = job.plan
    limit = plan.evaluate.limit if plan.evaluate is not None else None
    inputs = {"bbq": job.data.model_dump(mode="json"), "limit": limit, "seed": plan.seed,
              "base": model_identity(plan.policy, job.base, plan.seed),
              "final": model_files_digest(job.final) if job.final is not None else None}
    what = "bbq on the base" + (" and final models" if job.final is not None else " model")
    return job.reuse(inputs, what, lambda: _scores(job, limit))


def _scores(job: EvalJob, limit: int | None) -> Body:
    from ccaic.evaluate import bbq
    from ccaic.evaluate.run import evaluate_bbq, load_scorer
    from ccaic.models.load import model_location, model_revision

    plan = job.plan
    dataset = bbq.load(job.path)
    targets = [("base", model_location(plan.policy, str(job.base), plan.seed), plan.policy.ref,
                model_revision(plan.policy))]
    if job.final is not None:
        targets.append(("final", str(job.final), "final", None))
    models: dict[str, Any] = {}
    for name, location, label, revision in targets:
        scorer = load_scorer(location, plan.seed, batch_size=job.batch_size, revision=revision)
        try:
            models[name] = evaluate_bbq(dataset, scorer, model=label, limit=limit,
                                        seed=plan.seed)
        finally:
            _release(scorer)
    return {"format_version": FORMAT_VERSION, "benchmark": "bbq", "plan": plan.address,
            "data": job.data.path, "models": models}


def _release(scorer: Any) -> None:
    """Drop a scorer's model before the next one loads (two models never share the GPU)."""
    scorer.model = None
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def headline(body: Body) -> dict[str, Any]:
    """Overall accuracy and bias per model."""
    return {name: {k: model["overall"].get(k) for k in HEADLINE}
            for name, model in sorted(body["models"].items())}


def report_bodies(plan_name: str, body: Body) -> dict[str, Body]:
    """`<plan>-base` and `<plan>-final`: one `ccaic evaluate bbq` body per model."""
    return {f"{plan_name}-{name}": model for name, model in body["models"].items()}


BBQ = Evaluation(pin=pin, run=run, headline=headline, report_bodies=report_bodies)
