"""Log-likelihood scoring: the scripted path, and HFScorer against a by-hand forward pass."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from bbq_rows import row

from ccaic.evaluate import bbq
from ccaic.evaluate.scoring import ScriptedScorer, predict
from ccaic.models.scorer import HFScorer


def _examples(n: int) -> list[bbq.Example]:
    return [bbq.parse_row(json.dumps(row(i, label=i % 3 if i % 2 else 2)), "Age", "t")
            for i in range(n)]


def test_predict_takes_the_argmax_lowest_index_on_ties() -> None:
    class Fixed:
        def score(self, prompts: Sequence[str], conts: Sequence[str]) -> list[float]:
            return [-1.0, -0.5, -0.5, -3.0, -2.0, -1.0][: len(prompts)]

    assert predict(Fixed(), _examples(2)) == [1, 2]


def test_scripted_scorer_replays_its_rule() -> None:
    examples = _examples(5)
    assert predict(ScriptedScorer(examples, lambda ex: ex.label), examples) == \
        [ex.label for ex in examples]
    with pytest.raises(ValueError):
        predict(ScriptedScorer(examples, lambda ex: 0), examples[:2])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> HFScorer:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    tiny_mod = pytest.importorskip("ccaic.models.tiny")
    from ccaic.models.load import load_causal_lm

    folder = tiny_mod.tiny_path(0, root=tmp_path_factory.mktemp("cache"))
    model, tokenizer = load_causal_lm(str(folder))
    return HFScorer(model, tokenizer, batch_size=4, device="cpu")


def test_hf_scorer_matches_a_manual_forward_pass(tiny: HFScorer) -> None:
    import torch

    context, continuation = "Who was it?\nAnswer:", " The grandson"
    head, tail = tiny.encode_pair(context, continuation)
    assert head + tail == tiny._encode(context + continuation)
    ids = torch.tensor([head + tail])
    with torch.inference_mode():
        logprobs = torch.log_softmax(tiny.model(input_ids=ids).logits.float(), dim=-1)[0]
    expected = sum(float(logprobs[len(head) + j - 1, t]) for j, t in enumerate(tail))
    assert tiny.score([context], [continuation])[0] == pytest.approx(expected, abs=1e-4)


def test_hf_scorer_is_batch_invariant_and_deterministic(tiny: HFScorer) -> None:
    examples = _examples(4)
    prompts = [bbq.prompt(ex) + "x" * i for i, ex in enumerate(examples) for _ in range(3)]
    conts = [c for ex in examples for c in bbq.continuations(ex)]
    batched = tiny.score(prompts, conts)
    tiny.batch_size = 1
    try:
        single = tiny.score(prompts, conts)
    finally:
        tiny.batch_size = 4
    assert batched == pytest.approx(single, abs=1e-4)
    assert tiny.score(prompts, conts) == batched
    assert all(s < 0 for s in batched)


def test_trailing_prompt_space_moves_into_the_continuation(tiny: HFScorer) -> None:
    assert tiny.encode_pair("Answer: ", "yes") == tiny.encode_pair("Answer:", " yes")


def test_tiny_on_real_rows(shared: Path, tiny: HFScorer) -> None:
    data = bbq.load(shared / "data" / "bbq")
    examples = bbq.select(data.examples["Religion"], 8, 0)
    predictions = predict(tiny, examples)
    assert len(predictions) == 8 and set(predictions) <= {0, 1, 2}
    assert predictions == predict(tiny, examples)
