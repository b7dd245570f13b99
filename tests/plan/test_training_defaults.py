"""Training defaults that suit the method: LoRA learning rates, scheduler, warmup, eval split,
precision; plan.json keeps its bytes when none of them is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_fixtures import compile_source

from ccaic.plan.model import plan_json

BASE = """\
constitution "c" {
  principle "harm" { text = "Choose the response that is least harmful." }
}
plan "p" {
  constitution = constitution.c
  prompts      = "red.jsonl"
  sft {
SFT
  }
  rlaif {
DPO
  }
}
"""


def _compile(tmp_path: Path, sft: str = "", dpo: str = ""):  # type: ignore[no-untyped-def]
    (tmp_path / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n')
    path = tmp_path / "plan.ccai"
    path.write_text(BASE.replace("SFT", sft).replace("DPO", dpo))
    plans, diags, _ = compile_source(path)
    return plans, diags


def test_lora_gets_lora_learning_rates(tmp_path: Path) -> None:
    [plan], _ = _compile(tmp_path)
    assert plan.stages.sft.training.learning_rate == 2e-5  # full fine-tuning: unchanged
    assert plan.stages.dpo.training.learning_rate == 5e-7
    [plan], _ = _compile(tmp_path, "    lora { r = 8 }", "    lora { r = 8 }")
    assert plan.stages.sft.training.learning_rate == 1e-4  # ~10x full FT (TRL PEFT guide)
    assert plan.stages.dpo.training.learning_rate == 5e-6  # the handbook's LoRA DPO
    [plan], _ = _compile(tmp_path, "    learning_rate = 3e-4\n    lora { r = 8 }")
    assert plan.stages.sft.training.learning_rate == 3e-4  # a written rate wins


def test_scheduler_warmup_eval_and_precision_reach_the_trainer(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from ccaic.train.trainers import _common_args

    [plan], diags = _compile(tmp_path, '    lr_scheduler  = "cosine"\n    warmup_ratio  = 0.1\n'
                             '    eval_fraction = 0.2\n    precision     = "fp32"')
    assert not diags
    t = plan.stages.sft.training
    args = _common_args(t, tmp_path, 0)
    assert args["lr_scheduler_type"] == "cosine" and args["warmup_steps"] == 0.1
    assert args["eval_strategy"] == "steps" and args["bf16"] is False
    [plain], _ = _compile(tmp_path)
    args = _common_args(plain.stages.sft.training, tmp_path, 0)
    assert "lr_scheduler_type" not in args and "warmup_steps" not in args
    assert "eval_strategy" not in args


def test_new_attributes_at_their_defaults_leave_plan_json_alone(tmp_path: Path) -> None:
    [plan], _ = _compile(tmp_path)
    text = plan_json(plan)
    for key in ("precision", "lr_scheduler", "warmup_ratio", "eval_fraction", "split",
                "helpful_fraction", "chat_template", "preferences", '"helpful"'):
        assert key not in text, key
    [written], _ = _compile(tmp_path, '    precision = "mixed"')
    assert plan_json(written) == text  # the default, written out, is the same plan


def test_pure_bf16_full_fine_tuning_is_a_warning(tmp_path: Path) -> None:
    _, diags = _compile(tmp_path, dpo='    precision = "bf16"')
    # `ccaic check` and the compiler both find it (the build prints it once)
    assert {(d.code, d.is_error) for d in diags} == {("CCAI532", False)}
    _, diags = _compile(tmp_path, dpo='    precision = "bf16"\n    lora { r = 8 }')
    assert not diags
