"""Unit tests: principle sampling, position debiasing, clamping, post-processing, soft DPO loss."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from ccaic.models.labels import clamp, comparison_prompt, debiased, p_first
from ccaic.train.postprocess import clean_revision, clean_text, strip_prefix
from ccaic.train.sampling import draw_principle


def test_principle_sampling_matches_weights_chi_square() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    ids = ["a", "b", "c", "d"]
    weights = [1.0, 2.0, 3.0, 4.0]
    n = 20000
    counts = Counter(draw_principle(ids, weights, 7, "sl_cai", f"red_team:{i:05d}", r)
                     for i in range(n // 4) for r in range(4))
    observed = [counts[i] for i in ids]
    expected = [n * w / sum(weights) for w in weights]
    stat, p = scipy_stats.chisquare(observed, expected)
    assert p > 0.001, (observed, expected, stat)
    # with replacement: the same prompt sees repeated principles across rounds sometimes
    rounds = [[draw_principle(ids, weights, 7, "sl_cai", i, r) for r in range(4)]
              for i in range(200)]
    assert any(len(set(r)) < 4 for r in rounds)


def test_principle_sampling_is_seeded_and_order_free() -> None:
    ids, w = ["x", "y", "z"], [1.0, 1.0, 1.0]
    a = [draw_principle(ids, w, 1, "label", i) for i in range(50)]
    b = [draw_principle(ids, w, 1, "label", i) for i in reversed(range(50))][::-1]
    assert a == b
    assert a != [draw_principle(ids, w, 2, "label", i) for i in range(50)]


def test_option_probabilities_and_position_debiasing() -> None:
    assert p_first(math.log(0.3), math.log(0.1)) == pytest.approx(0.75)
    # a labeller that always answers (A) with probability 0.9, whatever the order: no signal
    assert debiased(0.9, 0.9) == pytest.approx(0.5)
    # a real preference for response 1 plus a pull towards (A) of +1 logit in both orders
    def p_a(logit_first_better: float) -> float:
        return 1 / (1 + math.exp(-(logit_first_better + 1.0)))
    p_ab = p_a(2.0)   # response 1 shown as (A)
    p_ba = p_a(-2.0)  # response 2 shown as (A)
    p1 = debiased(p_ab, p_ba)
    unbiased = 1 / (1 + math.exp(-2.0))
    assert abs(p1 - unbiased) < abs(p_ab - unbiased)
    # swapping which response is "1" gives the complement exactly
    assert debiased(p_ba, p_ab) == pytest.approx(1 - p1)


def test_cot_clamp() -> None:
    assert clamp(0.99, 0.1) == pytest.approx(0.6)
    assert clamp(0.01, 0.1) == pytest.approx(0.4)
    assert clamp(0.55, 0.1) == 0.55


def test_comparison_prompt_layout_matches_anthropic() -> None:
    text = comparison_prompt([{"role": "user", "content": "Hi?"}],
                             "Please choose the response that is most helpful.", "one", "two")
    assert text == ("\n\nConsider the following conversation between a human and an assistant:"
                    "\n\nHuman: Hi?\n\nPlease choose the response that is most helpful. Options:"
                    "\n (A) [[[one]]]\n (B) [[[two]]]\n\nThe answer is:")


@pytest.mark.parametrize("raw, finish, previous, expected, reason", [
    ("Revised response: I can't help with that.", "stop", "x", "I can't help with that.", None),
    ("Sure, here is a revised response: Be kind.", "stop", "x", "Be kind.", None),
    ("Be kind.\nHuman: and now", "length", "x", "Be kind.", None),  # stop string => not cut off
    ("", "stop", "x", "", "empty"),
    ("Revision:   ", "stop", "x", "", "empty"),
    ("Human: what?", "stop", "x", "Human: what?", "role_tag"),
    ("Half a sent", "length", "x", "Half a sent", "truncated"),
    ("Same  answer", "stop", "same answer", "Same  answer", "unchanged"),
])
def test_revision_post_processing(raw: str, finish: str, previous: str, expected: str,
                                  reason: str | None) -> None:
    assert clean_revision(raw, finish, previous) == (expected, reason)


def test_truncated_can_be_kept() -> None:
    assert clean_revision("Half", "length", "x", drop_truncated=False) == ("Half", None)
    assert clean_text("ok<|im_end|>junk") == "ok"
    assert strip_prefix("Critique: fine") == "fine"


def test_soft_dpo_loss_hand_computed() -> None:
    torch = pytest.importorskip("torch")
    from ccaic.train.losses import soft_dpo_loss

    chosen = torch.tensor([1.0, -0.5, 0.0])
    rejected = torch.tensor([0.0, 0.5, 0.0])
    p = torch.tensor([0.8, 1.0, 0.5])
    beta = 0.5
    got = soft_dpo_loss(chosen, rejected, p, beta)

    def sig(x: float) -> float:
        return 1 / (1 + math.exp(-x))
    # row 0: delta = 1, beta*delta = 0.5
    want0 = -(0.8 * math.log(sig(0.5)) + 0.2 * math.log(sig(-0.5)))
    # row 1: delta = -1, p = 1 -> plain DPO: -log sigma(-0.5)
    want1 = -math.log(sig(-0.5))
    # row 2: delta = 0 -> log 2 whatever p
    want2 = math.log(2)
    assert got.tolist() == pytest.approx([want0, want1, want2], rel=1e-6)
    assert want0 == pytest.approx(0.574076, rel=1e-5)  # the number, worked by hand
