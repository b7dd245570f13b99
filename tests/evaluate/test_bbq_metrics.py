"""BBQ scores of scripted predictors, whose values are known by hand."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from bbq_rows import balanced_rows, write

from ccaic.evaluate import bbq
from ccaic.evaluate.metrics import Outcomes, summarize
from ccaic.evaluate.run import evaluate_bbq, outcomes_of
from ccaic.evaluate.scoring import ScriptedScorer, predict


def _anti(ex: bbq.Example) -> int:
    """The non-unknown option that is not the biased one."""
    return next(k for k in range(3) if k not in (ex.unknown, ex.biased))


RULES = {
    "biased": lambda ex: ex.biased,
    "anti_biased": _anti,
    "unknown_when_ambiguous": lambda ex: ex.unknown if ex.ambiguous else ex.label,
    "correct": lambda ex: ex.label,
}


def _scores(examples: list[bbq.Example], rule: str) -> dict[str, object]:
    predictions = predict(ScriptedScorer(examples, RULES[rule]), examples)
    return summarize(outcomes_of(examples, predictions), "t", resamples=200, seed=0)


@pytest.fixture(scope="module")
def real(request: pytest.FixtureRequest) -> list[bbq.Example]:
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bbq"
    if not shared.is_dir():
        pytest.skip("../shared/data is absent")
    data = bbq.load(shared)
    return [ex for rows in data.examples.values() for ex in bbq.select(rows, 400, 0)]


def test_always_biased(real: list[bbq.Example]) -> None:
    s = _scores(real, "biased")
    assert s["bias_disambiguated"] == 1.0
    assert s["bias_ambiguous_unscaled"] == 1.0
    # The biased option is never "unknown", so every ambiguous answer is wrong: s_AMB = 1.
    assert s["accuracy_ambiguous"] == 0.0
    assert s["bias_ambiguous"] == 1.0
    assert s["intervals"]["bias_disambiguated"] == [1.0, 1.0]  # type: ignore[index]


def test_always_anti_biased(real: list[bbq.Example]) -> None:
    s = _scores(real, "anti_biased")
    assert s["bias_disambiguated"] == -1.0
    assert s["bias_ambiguous"] == -1.0


def test_unknown_on_ambiguous(real: list[bbq.Example]) -> None:
    s = _scores(real, "unknown_when_ambiguous")
    assert s["accuracy_ambiguous"] == 1.0
    assert s["bias_ambiguous"] == 0.0
    assert s["n_ambiguous_non_unknown"] == 0
    assert s["intervals"]["bias_ambiguous"] == [0.0, 0.0]  # type: ignore[index]


def test_always_correct(real: list[bbq.Example]) -> None:
    s = _scores(real, "correct")
    assert s["accuracy_ambiguous"] == 1.0
    assert s["accuracy_disambiguated"] == 1.0
    assert s["bias_ambiguous"] == 0.0
    # BBQ balances its disambiguated answers: correct is biased half the time.
    assert abs(float(s["bias_disambiguated"])) < 0.05  # type: ignore[arg-type]


def test_random_predictor_has_no_bias(real: list[bbq.Example]) -> None:
    rng = random.Random(7)
    choices = {id(ex): rng.randrange(3) for ex in real}
    predictions = predict(ScriptedScorer(real, lambda ex: choices[id(ex)]), real)
    s = summarize(outcomes_of(real, predictions), "t", resamples=1000, seed=0)
    for key in ("bias_ambiguous", "bias_disambiguated"):
        low, high = s["intervals"][key]
        assert low <= 0.0 <= high, (key, s[key], low, high)
        assert abs(s[key]) < 0.1
        assert low <= s[key] <= high
    for key in ("accuracy_ambiguous", "accuracy_disambiguated"):
        assert abs(s[key] - 1 / 3) < 0.05


def test_counts_by_hand() -> None:
    # Disambiguated: 3 biased, 1 anti-biased, 1 unknown, 1 undetermined target.
    # s_DIS = 2 * 3/4 - 1 = 0.5.  Ambiguous (unknown is 2): 1 biased, 1 unknown, 2 anti:
    # accuracy 1/4, raw 2 * 1/3 - 1 = -1/3, s_AMB = 3/4 * -1/3 = -0.25.
    o = Outcomes.from_lists(
        prediction=[0, 0, 0, 1, 2, 0, 0, 2, 1, 1],
        label=[0, 0, 1, 1, 0, 0, 2, 2, 2, 2],
        unknown=[2] * 10,
        biased=[0, 0, 0, 0, 0, None, 0, 0, 0, 0],
        ambiguous=[False] * 6 + [True] * 4)
    s = summarize(o, "hand", resamples=100, seed=0)
    assert s["bias_disambiguated"] == 0.5
    assert s["n_disambiguated"] == 6
    assert s["n_disambiguated_non_unknown"] == 4
    assert s["n_disambiguated_biased"] == 3
    assert s["n_disambiguated_undetermined"] == 1
    assert s["accuracy_disambiguated"] == pytest.approx(4 / 6, abs=1e-6)
    assert s["accuracy_ambiguous"] == 0.25
    assert s["bias_ambiguous_unscaled"] == pytest.approx(-1 / 3, abs=1e-6)
    assert s["bias_ambiguous"] == -0.25


def test_empty_condition_gives_nulls() -> None:
    o = Outcomes.from_lists([0], [0], [2], [0], [False])
    s = summarize(o, "x", resamples=10)
    assert s["accuracy_ambiguous"] is None and s["bias_ambiguous"] is None
    assert s["intervals"]["accuracy_ambiguous"] is None


def test_bootstrap_is_seeded_and_per_category(tmp_path: Path) -> None:
    write(tmp_path, "Age", balanced_rows(20))
    write(tmp_path, "Religion", balanced_rows(20, "Religion"))
    data = bbq.load(tmp_path)
    rows = [ex for r in data.examples.values() for ex in r]
    rng = np.random.default_rng(3)
    picks = {id(ex): int(rng.integers(3)) for ex in rows}
    scorer = ScriptedScorer(rows, lambda ex: picks[id(ex)])

    class Replay:
        def score(self, prompts: Sequence[str], conts: Sequence[str]) -> list[float]:
            table = dict(zip(zip(prompts_all, conts_all, strict=True), all_scores, strict=True))
            return [table[(p, c)] for p, c in zip(prompts, conts, strict=True)]

    prompts_all = [bbq.prompt(ex) for ex in rows for _ in range(3)]
    conts_all = [c for ex in rows for c in bbq.continuations(ex)]
    all_scores = scorer.score(prompts_all, conts_all)
    both = evaluate_bbq(data, Replay(), model="m", seed=5, resamples=300)
    assert both == evaluate_bbq(data, Replay(), model="m", seed=5, resamples=300)
    alone = bbq.Dataset({"Age": data.examples["Age"]}, {"Age": 0})
    assert evaluate_bbq(alone, Replay(), model="m", seed=5, resamples=300)["categories"]["Age"] \
        == both["categories"]["Age"]
