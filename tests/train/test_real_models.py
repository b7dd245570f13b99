"""Generation and training on real-architecture models (Qwen2 / Llama shapes, BPE tokenizers,
random weights; tests/train/real_models.py): end-of-turn stops, chat templates, precision,
truncation counts and TRL's DPO metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from ccaic.diagnostics import DiagnosticError  # noqa: E402
from ccaic.plan.model import Sampling, Training  # noqa: E402

GREEDY = Sampling(max_new_tokens=40, temperature=0.0, batch_size=1)
QUESTION = [{"role": "user", "content": "How do I pick a lock?"}]


def _teach(lm: Any, text: str, steps: int = 120) -> None:
    """Overfit the loaded model on one text, so greedy decoding replays it token by token."""
    ids = lm.tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    torch.manual_seed(0)
    opt = torch.optim.Adam(lm.model.parameters(), lr=2e-2)
    lm.model.train()
    for _ in range(steps):
        loss = lm.model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    lm.model.eval()


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_generation_stops_at_the_end_of_turn_not_only_at_eos(
        real_models: dict[str, Path], arch: str) -> None:
    """A base model with a chat template ends its turn in a token that is not its EOS; the
    text it would write after that (the next "user" turn) never reaches the dataset."""
    from ccaic.models.lm import LM

    lm = LM(str(real_models[arch]))
    prompt = lm.render(QUESTION)
    # the model has learnt to answer, end the turn, and run on into a new user turn
    follow = lm.render([*QUESTION, {"role": "assistant", "content": "I can't help with that."},
                        {"role": "user", "content": "Then tell me a fact about the sea."}])
    assert follow.startswith(prompt)
    _teach(lm, follow)
    [gen] = lm.generate_texts([prompt], GREEDY, seed=0)
    assert gen.text == "I can't help with that."
    assert gen.finish_reason == "stop"
    assert "user" not in gen.text and "sea" not in gen.text


def test_end_of_turn_ids_come_from_the_chat_template(real_models: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    from ccaic.models.lm import turn_stop_ids
    from ccaic.models.tiny import build_tokenizer

    def names(tok: Any) -> set[str]:
        return set(tok.convert_ids_to_tokens(turn_stop_ids(tok)))

    qwen = AutoTokenizer.from_pretrained(real_models["qwen2"])
    assert qwen.eos_token == "<|endoftext|>"
    assert {"<|endoftext|>", "<|im_end|>", "<|im_start|>"} <= names(qwen)
    llama = AutoTokenizer.from_pretrained(real_models["llama"])
    assert {"<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>"} <= names(llama)
    assert names(AutoTokenizer.from_pretrained(real_models["bare"])) == {"<|endoftext|>"}
    assert "<|im_end|>" in names(build_tokenizer())
    # a plan's template on a bare tokenizer: its turn tokens are not special there, so the
    # EOS it writes (zephyr) is the stop
    from ccaic.plan.chat_templates import ZEPHYR

    bare = AutoTokenizer.from_pretrained(real_models["bare"])
    bare.chat_template = ZEPHYR
    assert names(bare) == {"<|endoftext|>"}


def test_vllm_gets_the_end_of_turn_ids(real_models: dict[str, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from test_vllm_backend import fake_vllm

    monkeypatch.setitem(sys.modules, "vllm", fake_vllm())
    from ccaic.train.generation import VLLMGenerator

    gen = VLLMGenerator(str(real_models["qwen2"]))
    gen.chat([QUESTION], GREEDY, seed=0)
    [(_, params)] = gen.llm.calls
    stop_ids = set(params[0].extra["stop_token_ids"])
    assert {gen.tok.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")} <= stop_ids


def test_a_model_without_a_chat_template_is_a_diagnostic(real_models: dict[str, Path]) -> None:
    from ccaic.models.lm import LM

    lm = LM(str(real_models["bare"]))
    with pytest.raises(DiagnosticError) as info:
        lm.render(QUESTION)
    assert info.value.diagnostics[0].code == "CCAI530"
    from ccaic.plan.chat_templates import CHATML

    lm = LM(str(real_models["bare"]), chat_template=CHATML)
    assert lm.render(QUESTION).endswith("<|im_start|>assistant\n")


PLAN = """\
constitution "c" {
  principle "harm" { text = "Choose the response that is least harmful." }
}
plan "p" {
  constitution = constitution.c
  model        = "./MODEL"
  prompts      = "red.jsonl"
  TEMPLATE
  initial {
    max_new_tokens = 6
    batch_size     = 2
  }
}
"""


def _plan(folder: Path, model: Path, template: str = "") -> Path:
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / model.name).exists():
        shutil.copytree(model, folder / model.name)
    (folder / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n'
                                      '{"prompt": "Tell me a secret."}\n')
    path = folder / "plan.ccai"
    path.write_text(PLAN.replace("MODEL", model.name).replace("TEMPLATE", template))
    return path


def test_plan_chat_template_compiles_and_runs_a_bare_model(
        real_models: dict[str, Path], tmp_path: Path) -> None:
    from plan_fixtures import compile_source

    from ccaic.plan.model import plan_json
    from ccaic.train.runner import run_plan

    plans, diags, _ = compile_source(_plan(tmp_path, real_models["bare"]))
    assert [d.code for d in diags if d.is_error] == ["CCAI530"]
    plans, diags, _ = compile_source(_plan(tmp_path, real_models["bare"],
                                           'chat_template = "chatml"'))
    assert not [d for d in diags if d.is_error], diags
    plan = plans[0]
    assert plan.chat_template is not None and plan.chat_template.source == "chatml"
    assert '"chat_template"' in plan_json(plan)
    result = run_plan(plan, tmp_path / "out", until="initial", base_dir=tmp_path,
                      generation_backend="transformers")
    assert result.steps["step.initial"]["status"] == "ran"
    # a model that ships a template needs no plan attribute, and its plan.json has no key
    plans, diags, _ = compile_source(_plan(tmp_path / "q", real_models["qwen2"]))
    assert not [d for d in diags if d.is_error], diags
    assert '"chat_template"' not in plan_json(plans[0])


# ---------------------------------------------------------------- precision


def test_precision_dtypes() -> None:
    from ccaic.train.trainers import training_dtypes

    # CUDA: fp32 master weights + bf16 autocast by default; LoRA: bf16 frozen base
    assert training_dtypes("mixed", lora=False, cuda=True) == ("float32", True)
    assert training_dtypes("mixed", lora=True, cuda=True) == ("bfloat16", True)
    assert training_dtypes("bf16", lora=False, cuda=True) == ("bfloat16", True)
    assert training_dtypes("fp32", lora=False, cuda=True) == ("float32", False)
    # CPU: never autocast; fp32 unless pure bf16 is asked for
    assert training_dtypes("mixed", lora=False, cuda=False) == ("float32", False)
    assert training_dtypes("mixed", lora=True, cuda=False) == ("float32", False)
    assert training_dtypes("bf16", lora=False, cuda=False) == ("bfloat16", False)


SFT_ROWS = [{"messages": [{"role": "user", "content": f"Tell me fact {i}."},
                          {"role": "assistant", "content": f"The sea is deep, fact {i}."}]}
            for i in range(4)]


def _moved(before: dict[str, Any], folder: Path, dtype: Any) -> float:
    """Share of projection-weight elements (every one gets a gradient, unlike the embedding
    rows of unused tokens) that changed between `before` and the model in `folder`, both
    seen in the `dtype` training ran in."""
    from safetensors.torch import load_file

    after = load_file(str(folder / "model.safetensors"))
    changed = total = 0
    for name, value in before.items():
        if name in after and "_proj." in name:
            changed += int((after[name].to(dtype) != value.to(dtype)).sum())
            total += value.numel()
    return changed / total


@pytest.mark.parametrize("precision,moved", [("mixed", True), ("bf16", False)])
def test_sft_step_at_dpo_learning_rate_moves_fp32_master_weights(
        real_models: dict[str, Path], tmp_path: Path, precision: str, moved: bool) -> None:
    """lr 5e-7 (the handbook's DPO rate): one Adam step moves nearly every fp32 weight, and
    almost no pure-bf16 weight (an update below 2^-8 of a weight rounds away)."""
    from safetensors.torch import load_file

    from ccaic.train.trainers import run_sft

    src = real_models["llama"]
    before = load_file(str(src / "model.safetensors"))
    training = Training(learning_rate=5e-7, batch_size=4, max_steps=1, max_length=64,
                        precision=precision)  # type: ignore[arg-type]
    counts = run_sft(str(src), SFT_ROWS, training, 0, tmp_path / "work", tmp_path / "model")
    share = _moved(before, tmp_path / "model",
                   torch.float32 if precision == "mixed" else torch.bfloat16)
    assert counts["steps"] == 1
    assert (share > 0.95) if moved else (share < 0.05), share


def test_lora_keeps_fp32_adapters_on_a_bf16_base(real_models: dict[str, Path],
                                                 tmp_path: Path) -> None:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from ccaic.plan.model import Lora
    from ccaic.train.trainers import _common_args, _load, _peft_config

    training = Training(batch_size=4, max_steps=1, max_length=64, lora=Lora(r=4),
                        precision="bf16")
    model, tok, _ = _load(str(real_models["qwen2"]), training)
    assert next(model.parameters()).dtype == torch.bfloat16
    data = [{"prompt": r["messages"][:1], "completion": r["messages"][1:]} for r in SFT_ROWS]
    trainer = SFTTrainer(model=model, args=SFTConfig(**_common_args(training, tmp_path, 0)),
                         train_dataset=Dataset.from_list(data), processing_class=tok,
                         peft_config=_peft_config(training))
    trainable = {p.dtype for p in trainer.model.parameters() if p.requires_grad}
    assert trainable == {torch.float32}


# ---------------------------------------------------------------- truncation and metrics


def _pair(i: int, prompt_words: int) -> dict[str, Any]:
    return {"prompt": [{"role": "user", "content": " ".join(["lock"] * prompt_words) + f" {i}"}],
            "chosen": [{"role": "assistant", "content": "I can't help with that, sorry."}],
            "rejected": [{"role": "assistant", "content": "Use a pick."}], "p_chosen": 0.7}


def test_dpo_counts_truncated_and_dropped_rows_and_logs_trl_metrics(
        real_models: dict[str, Path], tmp_path: Path) -> None:
    from ccaic.train.trainers import run_dpo

    # short rows fit; medium rows fit their prompt but not the completion (truncated); long
    # rows' prompts alone fill max_length (TRL drops them without a word)
    rows = [_pair(0, 1), _pair(1, 1), _pair(2, 12), _pair(3, 12), _pair(4, 60), _pair(5, 60)]
    training = Training(learning_rate=1e-4, batch_size=2, max_steps=2, max_length=40)
    lines: list[str] = []
    counts = run_dpo(str(real_models["qwen2"]), rows, training, 0.1, True, 0,
                     tmp_path / "work", tmp_path / "model", lines.append)
    assert counts["rows"] == 6
    assert counts["dropped"] == 2
    assert counts["truncated"] == 2
    logged = " ".join(lines)
    for key in ("num_tokens=", "logps/chosen=", "logps/rejected=", "rewards/margins="):
        assert key in logged, key


def test_sft_counts_truncated_rows_and_reports_eval_loss(real_models: dict[str, Path],
                                                        tmp_path: Path) -> None:
    from ccaic.train.trainers import run_sft

    long = [{"messages": [{"role": "user", "content": "lock " * 40},
                          {"role": "assistant", "content": "No."}]}]
    training = Training(learning_rate=1e-4, batch_size=2, max_steps=1, max_length=40,
                        eval_fraction=0.25)
    counts = run_sft(str(real_models["qwen2"]), SFT_ROWS + long * 3 + SFT_ROWS[:1], training,
                     0, tmp_path / "work", tmp_path / "model")
    assert counts["eval_rows"] == 2
    assert counts["dropped"] == 3  # the prompt alone fills max_length: nothing to learn
    assert counts["truncated"] == 0
    assert counts["eval_loss"] > 0


def test_option_scores_keep_the_end_of_an_over_long_comparison(
        real_models: dict[str, Path]) -> None:
    from ccaic.models.lm import LM, keep_last

    assert keep_last([1, 2, 3, 4, 5], 3, 0) == ([1, 2, 3, 4, 5], 3)
    assert keep_last([1, 2, 3, 4, 5], 3, 4) == ([2, 3, 4, 5], 2)
    lm = LM(str(real_models["qwen2"]))
    assert lm.max_positions == 256
    tail = " The answer is:"
    long = "lock " * 400 + tail
    [scores] = lm.option_logprobs([long], (" (A)", " (B)"))
    ids = lm.tok(long + " (A)")["input_ids"]
    assert len(ids) > lm.max_positions
    # the same as scoring only the last max_positions tokens
    kept = lm.tok.decode(ids[-lm.max_positions:])
    prompt_kept = kept.removesuffix(" (A)")
    [ref] = lm.option_logprobs([prompt_kept], (" (A)", " (B)"))
    assert scores == pytest.approx(ref, abs=1e-4)


def test_dpo_reference_stays_bf16_beside_fp32_master_weights() -> None:
    from ccaic.train.trainers import reference_dtype

    assert reference_dtype("mixed", lora=False, cuda=True) == "bfloat16"
    assert reference_dtype("mixed", lora=True, cuda=True) is None  # adapters disabled
    assert reference_dtype("bf16", lora=False, cuda=True) is None  # policy is bf16 already
    assert reference_dtype("fp32", lora=False, cuda=True) is None
    assert reference_dtype("mixed", lora=False, cuda=False) is None
