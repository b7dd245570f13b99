"""The BBQ evaluation end to end: load, select, predict, score; and loading `--model`.

Kept apart from the command so a build's evaluate stage can call `evaluate_bbq` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.evaluate.bbq import Dataset, Example, select
from ccaic.evaluate.scoring import HFScorer, Scorer, predict

FORMAT_VERSION = "1.0"


def evaluate_bbq(dataset: Dataset, scorer: Scorer, *, model: str, limit: int | None = None,
                 seed: int = 0, resamples: int = 1000, level: float = 0.95) -> dict[str, Any]:
    """Scores per category and pooled overall, as the versioned JSON body."""
    from ccaic.evaluate.metrics import Outcomes, summarize

    categories: dict[str, Any] = {}
    pooled: Outcomes | None = None
    for name in sorted(dataset.examples):
        chosen = select(dataset.examples[name], limit, seed)
        outcomes = outcomes_of(chosen, predict(scorer, chosen))
        categories[name] = {**summarize(outcomes, name, resamples, seed, level),
                            "n_available": len(dataset.examples[name])}
        pooled = outcomes if pooled is None else pooled.concat(outcomes)
    assert pooled is not None  # load() guarantees at least one category
    return {
        "format_version": FORMAT_VERSION,
        "benchmark": "bbq",
        "model": model,
        "limit_per_category": limit,
        "seed": seed,
        "bootstrap": {"resamples": resamples, "level": level, "method": "percentile"},
        "prompt": "{context} {question}\\nAnswer:",
        "categories": categories,
        "overall": summarize(pooled, "overall", resamples, seed, level),
    }


def outcomes_of(examples: Sequence[Example], predictions: Sequence[int]) -> Any:
    """Metric inputs from examples and the model's chosen options."""
    from ccaic.evaluate.metrics import Outcomes

    return Outcomes.from_lists(
        prediction=predictions, label=[ex.label for ex in examples],
        unknown=[ex.unknown for ex in examples], biased=[ex.biased for ex in examples],
        ambiguous=[ex.ambiguous for ex in examples])


def model_location(spec: str, seed: int) -> str:
    """`builtin:tiny`, a local folder, or a Hugging Face id (used as given)."""
    if spec.startswith("builtin:"):
        name = spec.split(":", 1)[1]
        if name != "tiny":
            raise DiagnosticError([error("CCAI494", f"unknown builtin model: {spec}",
                                         help="the built-in model is builtin:tiny")])
        from ccaic.models.tiny import tiny_path

        return str(tiny_path(seed))
    return str(Path(spec).resolve()) if Path(spec).exists() else spec


def load_scorer(spec: str, seed: int, batch_size: int = 16,
                revision: str | None = None) -> HFScorer:
    """An HFScorer for `--model` (at a Hub `revision` when one is pinned); a diagnostic (not
    a traceback) when it cannot be loaded."""
    location = model_location(spec, seed)
    if location == spec and not spec.startswith(("builtin:", "/", ".", "~")):  # a Hub id
        if revision is None and "@" in spec:  # org/name@rev, as a plan's model names it
            spec, _, revision = spec.partition("@")
            location = spec
        from ccaic.models.load import hub_problem

        problem = hub_problem(spec, revision)
        if problem is not None:
            raise DiagnosticError([error(
                "CCAI494", f"cannot load model: {problem}",
                help="download it where there is network into the Hugging Face cache this "
                "machine reads, or pass a local folder saved with save_pretrained")])
    try:
        from ccaic.models.load import load_causal_lm

        model, tokenizer = load_causal_lm(location, revision)
    except (OSError, ValueError, ImportError) as exc:
        raise DiagnosticError([error(
            "CCAI494", f"cannot load model {spec}: {str(exc).splitlines()[0] if str(exc) else exc}",
            help="pass builtin:tiny, a local folder saved with save_pretrained, or a Hugging "
                 "Face id already in the local cache (there may be no network)")]) from None
    return HFScorer(model, tokenizer, batch_size=batch_size)
