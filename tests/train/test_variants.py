"""Plan variants end to end: the HF recipe's judge-free mode, LoRA, chain-of-thought labels."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")

HEAD = """\
constitution "c" {
  principle "harm" {
    text = "Choose the response that is least harmful."
  }
}
plan "p" {
  constitution = constitution.c
  model        = "builtin:tiny"
  prompts      = "red.jsonl"
  initial {
    max_new_tokens = 10
  }
  sl_cai {
    drop_truncated = false
  }
"""


def _write(tmp: Path, body: str) -> Path:
    (tmp / "red.jsonl").write_text("".join(f'{{"prompt": "Bad idea {i}?"}}\n' for i in range(4)))
    (tmp / "p.ccai").write_text(HEAD + body + "}\n")
    return tmp / "p.ccai"


def test_revision_pairs_without_sft_or_judge(tiny_cache: Path, tmp_path: Path,
                                             plan_files) -> None:  # type: ignore[no-untyped-def]
    from ccaic.store import read_jsonl
    from ccaic.train.runner import run_plan

    _, compiled = plan_files
    plan = compiled(_write(tmp_path, '  sft {\n    enabled = false\n  }\n'
                           '  rlaif {\n    method = "revision_pairs"\n    max_steps = 1\n'
                           '    batch_size = 2\n  }\n'))
    result = run_plan(plan, tmp_path / "out")
    status = {a: s["status"] for a, s in result.steps.items()}
    assert status["step.sft"] == "off" and status["step.label"] == "off"
    assert status["step.dpo"] == "ran" and status["step.final"] == "ran"
    rows = read_jsonl(next((tmp_path / "out" / "stages").glob("dpo-*")) / "pairs.jsonl")
    assert rows and all(r["kind"] == "revision_pair" and r["p_chosen"] == 1.0 for r in rows)


def test_lora_and_chain_of_thought_labels(tiny_cache: Path, tmp_path: Path,
                                          plan_files) -> None:  # type: ignore[no-untyped-def]
    from ccaic.store import read_jsonl
    from ccaic.train.runner import run_plan

    _, compiled = plan_files
    plan = compiled(_write(tmp_path, '  sft {\n    max_steps = 1\n    batch_size = 2\n'
                           '    lora {\n      r = 4\n      alpha = 8\n    }\n  }\n'
                           '  pairs {\n    max_new_tokens = 8\n  }\n'
                           '  label {\n    chain_of_thought = true\n  }\n'
                           '  rlaif {\n    max_steps = 1\n    batch_size = 2\n'
                           '    lora {\n      r = 4\n    }\n  }\n'))
    result = run_plan(plan, tmp_path / "out")
    assert all(s["status"] == "ran" for s in result.steps.values()), result.steps
    labels = read_jsonl(next((tmp_path / "out" / "stages").glob("label-*"))
                        / "pairs_labelled.jsonl")
    assert labels and all(0.4 - 1e-9 <= r["p_ab"] <= 0.6 + 1e-9 for r in labels)
    assert all(0.5 <= r["p_chosen"] <= 0.6 + 1e-9 for r in labels)
    assert list((tmp_path / "out" / "stages").glob("sft-*/model/adapter/adapter_config.json"))
    assert (tmp_path / "out" / "final" / "model.safetensors").is_file()
