"""Multiple-choice scoring by log-likelihood, behind a small interface.

`Scorer.score(prompts, continuations)` returns, for each pair, the summed log-probability of
the continuation's tokens given the prompt (lm-evaluation-harness's `loglikelihood`). The
model-free parts of the evaluation talk only to this protocol, so tests plug in scripted
predictors; `ccaic.models.scorer.HFScorer` answers it with a transformers causal LM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ccaic.evaluate.bbq import Example, continuations, prompt


class Scorer(Protocol):
    def score(self, prompts: Sequence[str], continuations: Sequence[str], /) -> list[float]:
        """Log-likelihood of each continuation given its prompt (higher is likelier)."""
        ...


class ScriptedScorer:
    """A predictor given as a rule, `choose(example) -> option`, for tests and baselines.

    It replays the rule through the real `Scorer` interface: `predict` asks for the examples'
    three options in order, and the chosen one scores 0, the others -1.
    """

    def __init__(self, examples: Sequence[Example], choose: Callable[[Example], int]):
        self._expected = [(prompt(ex), continuations(ex), choose(ex)) for ex in examples]

    def score(self, prompts: Sequence[str], conts: Sequence[str]) -> list[float]:
        if len(prompts) != 3 * len(self._expected):
            raise ValueError("ScriptedScorer must be asked about the examples it was built with")
        out: list[float] = []
        for i, (text, options, choice) in enumerate(self._expected):
            for k in range(3):
                if prompts[3 * i + k] != text or conts[3 * i + k] != options[k]:
                    raise ValueError(f"request {3 * i + k} is not the scripted example's")
                out.append(0.0 if k == choice else -1.0)
        return out


def predict(scorer: Scorer, examples: Sequence[Example]) -> list[int]:
    """The argmax option of each example (ties go to the lowest index, deterministically)."""
    prompts: list[str] = []
    conts: list[str] = []
    for ex in examples:
        for cont in continuations(ex):
            prompts.append(prompt(ex))
            conts.append(cont)
    scores = scorer.score(prompts, conts)
    if len(scores) != len(prompts):
        raise ValueError(f"scorer returned {len(scores)} scores for {len(prompts)} requests")
    return [_argmax(scores[3 * i: 3 * i + 3]) for i in range(len(examples))]


def _argmax(values: Sequence[float]) -> int:
    best = 0
    for k in range(1, len(values)):
        if values[k] > values[best]:
            best = k
    return best
