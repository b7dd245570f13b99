"""The BBQ evaluation end to end: load, select, predict, score; and loading `--model`.

Kept apart from the command so a build's evaluate stage can call `evaluate_bbq` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.evaluate.bbq import Dataset, Example, select
from ccaic.evaluate.scoring import Scorer, predict
from ccaic.models.ref import BUILTIN_MODELS, ModelRef
from ccaic.models.scorer import HFScorer

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


def scorer_ref(spec: str, revision: str | None = None) -> ModelRef:
    """`--model` as a ModelRef: `builtin:tiny`, a folder (one that exists, or a path), else a
    Hub id used as given (`org/name@rev` pins a revision, as a plan's model does; `revision`,
    when given, is the pin)."""
    if spec.startswith("builtin:"):
        name = spec.split(":", 1)[1]
        if name not in BUILTIN_MODELS:
            raise DiagnosticError([error("CCAI494", f"unknown builtin model: {spec}",
                                         help="the built-in model is builtin:tiny")])
        return ModelRef(ref=spec, kind="builtin", name=name)
    if Path(spec).exists():
        return ModelRef(ref=spec, kind="local", name=str(Path(spec).resolve()))
    if spec.startswith(("/", ".", "~")):
        return ModelRef(ref=spec, kind="local", name=spec)
    name, _, pinned = spec.partition("@")
    return ModelRef(ref=spec, kind="hf", name=name, revision=revision or pinned or None)


def check_hub_model(ref: ModelRef) -> None:
    """CCAI494 in seconds for a Hub model that is neither in the local cache nor
    downloadable here (transformers would retry for about a minute first)."""
    if ref.kind != "hf":
        return
    from ccaic.models.load import hub_problem

    problem = hub_problem(ref.name, ref.revision)
    if problem is not None:
        raise DiagnosticError([error(
            "CCAI494", f"cannot load model: {problem}",
            help="download it where there is network into the Hugging Face cache this "
            "machine reads, or pass a local folder saved with save_pretrained")])


def load_scorer(spec: str, seed: int, batch_size: int = 16,
                revision: str | None = None) -> HFScorer:
    """An HFScorer for `--model` (at a Hub `revision` when one is pinned); a diagnostic (not
    a traceback) when it cannot be loaded."""
    from ccaic.models.load import load_causal_lm, model_location, model_revision

    ref = scorer_ref(spec, revision)
    check_hub_model(ref)
    try:
        model, tokenizer = load_causal_lm(model_location(ref, None, seed), model_revision(ref))
    except (OSError, ValueError, ImportError) as exc:
        raise DiagnosticError([error(
            "CCAI494", f"cannot load model {ref.ref}: "
            f"{str(exc).splitlines()[0] if str(exc) else exc}",
            help="pass builtin:tiny, a local folder saved with save_pretrained, or a Hugging "
                 "Face id already in the local cache (there may be no network)")]) from None
    return HFScorer(model, tokenizer, batch_size=batch_size)
