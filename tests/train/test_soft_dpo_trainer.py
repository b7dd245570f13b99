"""SoftDPOTrainer against TRL 1.16's own DPOTrainer sigmoid loss, on the same batch."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")


def _rows(p: float) -> list[dict]:  # type: ignore[type-arg]
    return [{"prompt": [{"role": "user", "content": f"question {i}"}],
             "chosen": [{"role": "assistant", "content": f"good answer {i}"}],
             "rejected": [{"role": "assistant", "content": f"bad {i}!"}],
             "p_chosen": p} for i in range(4)]


def _loss(trainer, model) -> float:  # type: ignore[no-untyped-def]
    batch = next(iter(trainer.get_train_dataloader()))
    model.train()
    with torch.no_grad():
        return float(trainer.compute_loss(trainer.model, batch))


def test_soft_loss_equals_trl_sigmoid_at_p1_and_moves_with_p(tiny_cache: Path,
                                                             tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import DPOTrainer

    from ccaic.models.load import load_tokenizer
    from ccaic.models.tiny import tiny_path
    from ccaic.plan.model import Training
    from ccaic.train.trainers import dpo_config, soft_dpo_trainer_class

    loc = str(tiny_path(0))
    tok = load_tokenizer(loc)
    training = Training(batch_size=4, max_steps=1, learning_rate=1e-3)

    def make(cls, rows, sub):  # type: ignore[no-untyped-def]
        policy = AutoModelForCausalLM.from_pretrained(loc)
        ref = AutoModelForCausalLM.from_pretrained(loc)
        with torch.no_grad():  # make the policy differ from the reference
            for prm in policy.parameters():
                prm.add_(0.05 * torch.sin(torch.arange(prm.numel(), dtype=prm.dtype))
                         .reshape(prm.shape))
        args = dpo_config(training, 0.5, tmp_path / sub, 0)
        data = Dataset.from_list(rows)
        return cls(model=policy, ref_model=ref, args=args, train_dataset=data,
                   processing_class=tok)

    Soft = soft_dpo_trainer_class()
    trl_plain = make(DPOTrainer, [{k: v for k, v in r.items() if k != "p_chosen"}
                                  for r in _rows(1.0)], "a")
    soft1 = make(Soft, _rows(1.0), "b")
    soft_half = make(Soft, _rows(0.5), "c")
    l_trl, l_soft1, l_half = (_loss(t, t.model) for t in (trl_plain, soft1, soft_half))
    assert l_soft1 == pytest.approx(l_trl, rel=1e-5, abs=1e-6)
    assert abs(l_half - l_trl) > 1e-4  # the soft target changes the loss


def test_lora_reference_is_found_through_a_parallel_wrapper(tiny_cache: Path,
                                                            tmp_path: Path) -> None:
    """With LoRA and no reference model the reference is the base with adapters off; under
    DDP/FSDP the model is wrapped, and an isinstance(PeftModel) check missed it (calling the
    missing reference model). is_peft_model sees through the wrapper."""
    pytest.importorskip("peft")
    from datasets import Dataset
    from transformers import AutoModelForCausalLM

    from ccaic.models.load import load_tokenizer
    from ccaic.models.tiny import tiny_path
    from ccaic.plan.model import Lora, Training
    from ccaic.train.trainers import _peft_config, dpo_config, soft_dpo_trainer_class

    loc = str(tiny_path(0))
    training = Training(batch_size=4, max_steps=1, learning_rate=1e-3, lora=Lora(r=4, alpha=8))
    trainer = soft_dpo_trainer_class()(
        model=AutoModelForCausalLM.from_pretrained(loc), args=dpo_config(training, 0.5,
                                                                          tmp_path / "w", 0),
        train_dataset=Dataset.from_list(_rows(0.8)), processing_class=load_tokenizer(loc),
        peft_config=_peft_config(training))
    assert trainer.ref_model is None
    plain = _loss(trainer, trainer.model)

    class Sharded(torch.nn.DataParallel):  # on CPU a plain wrapper; attributes fall through
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            try:  # to the wrapped model, as FSDP's do
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.module, name)

    trainer.model = Sharded(trainer.model)
    assert _loss(trainer, trainer.model) == pytest.approx(plain, rel=1e-6)
