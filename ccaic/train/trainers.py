"""SFT and DPO with TRL 1.16 (full or LoRA), checkpointed for resume (imports torch/trl).

`SoftDPOTrainer` keeps a per-row `p_chosen` column through TRL's tokenization and collation and
replaces the sigmoid loss with the soft-label form (ccaic.train.losses). Its log-prob
computation mirrors `DPOTrainer._compute_loss` of TRL 1.16.0 (reverse-KL, no ld_alpha): the
same fused-LM-head forward for policy and reference, the same [chosen; rejected] batch layout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ccaic.plan.model import Training

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def training_dtypes(precision: str, lora: bool, cuda: bool) -> tuple[str, bool]:
    """(dtype the weights are loaded in, whether the trainer autocasts to bf16).

    "mixed" on CUDA keeps fp32 master weights and computes in bf16 (TRL `bf16=True` on an
    fp32 model): a pure-bf16 weight cannot take an update below 2^-8 of itself, so at DPO's
    5e-7 learning rate most updates round away. With LoRA the frozen base stays bf16 (it
    takes no updates) and peft keeps the adapters in fp32. "bf16" is pure bf16, asked for;
    "fp32" never autocasts. The CPU never autocasts.
    """
    if precision == "fp32":
        return "float32", False
    if precision == "bf16":
        return "bfloat16", cuda
    return ("bfloat16" if lora and cuda else "float32"), cuda


def reference_dtype(precision: str, lora: bool, cuda: bool) -> str | None:
    """The frozen DPO reference's own dtype, when it differs from the policy's: with fp32
    master weights under bf16 autocast, the reference (never updated) is kept in bf16, where
    TRL would copy the policy's fp32 (2 bytes a parameter saved; autocast computes in bf16
    either way). None: TRL's default (the policy's dtype, or adapters disabled for LoRA)."""
    if lora:
        return None
    return "bfloat16" if training_dtypes(precision, lora, cuda) == ("float32", True) else None


def _reference(location: str, training: Training, revision: str | None) -> Any:
    import torch

    name = reference_dtype(training.precision, training.lora is not None,
                           torch.cuda.is_available())
    if name is None:
        return None
    from ccaic.models.load import load_model

    return load_model(location, revision, getattr(torch, name))


def _common_args(training: Training, out: Path, seed: int) -> dict[str, Any]:
    import torch

    from ccaic.train.dist import accumulation_steps, world

    cuda = torch.cuda.is_available()
    _, autocast = training_dtypes(training.precision, training.lora is not None, cuda)
    args: dict[str, Any] = dict(
        output_dir=str(out), num_train_epochs=training.epochs,
        learning_rate=training.learning_rate,
        per_device_train_batch_size=training.batch_size,
        # total_batch_size holds over all devices: accumulation follows the world size
        gradient_accumulation_steps=accumulation_steps(
            training.total_batch_size, training.batch_size, world().size),
        max_length=training.max_length, max_steps=training.max_steps,
        save_strategy="steps", save_steps=max(training.save_steps, 1), save_total_limit=2,
        logging_steps=1, report_to="none", seed=seed, data_seed=seed,
        dataloader_num_workers=0, disable_tqdm=True,
        bf16=autocast, use_cpu=not cuda,
        gradient_checkpointing=cuda,
    )
    if training.lr_scheduler is not None:
        args["lr_scheduler_type"] = training.lr_scheduler
    if training.warmup_ratio:
        args["warmup_steps"] = float(training.warmup_ratio)  # a float < 1 is a ratio
    if training.eval_fraction > 0:
        args.update(eval_strategy="steps", eval_steps=max(training.save_steps, 1),
                    per_device_eval_batch_size=training.batch_size)
    return args


def _peft_config(training: Training, revision: str | None = None) -> Any:
    """LoRA settings; `revision` (the pinned Hub revision of the base) is saved with the
    adapters, so merging them from disk loads that base, not the Hub's main."""
    if training.lora is None:
        return None
    from peft import LoraConfig

    lora = training.lora
    targets = lora.target_modules if isinstance(lora.target_modules, str) \
        else list(lora.target_modules)
    return LoraConfig(r=lora.r, lora_alpha=int(lora.alpha), lora_dropout=lora.dropout,
                      target_modules=targets, task_type="CAUSAL_LM", revision=revision)


def _last_checkpoint(out: Path) -> str | None:
    """The newest checkpoint the Trainer finished saving (a half-written one is skipped)."""
    from ccaic.train.checkpoints import last_complete

    return last_complete(out)


def _save_final(trainer: Any, tokenizer: Any, target: Path) -> None:
    """Save the trained model (LoRA adapters merged in) atomically into `target`, and the
    run's per-step history beside it."""
    from ccaic.train.checkpoints import write_history
    from ccaic.train.dist import world

    write_history(trainer.state.log_history, target.parent)
    if world().distributed:
        _save_final_distributed(trainer, tokenizer, target)
        return
    model = trainer.model
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if hasattr(model, "merge_and_unload"):
        model.save_pretrained(str(tmp / "adapter"))
        model = model.merge_and_unload()
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def _save_final_distributed(trainer: Any, tokenizer: Any, target: Path) -> None:
    """Several processes: every rank takes part in `Trainer.save_model` (it gathers FSDP /
    ZeRO-3 shards into one full state dict) and the main process alone writes; LoRA adapters
    are then merged on the main process from the saved adapter, since the wrapped model
    cannot be merged in place under FSDP / DeepSpeed."""
    acc = trainer.accelerator
    tmp = target.with_name(target.name + ".tmp")
    raw = target.with_name(target.name + ".raw")
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(raw, ignore_errors=True)
    acc.wait_for_everyone()
    if getattr(trainer, "is_fsdp_enabled", False):
        acc.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(raw))
    acc.wait_for_everyone()
    if acc.is_main_process:
        (raw / "training_args.bin").unlink(missing_ok=True)  # pickled args: not a model file
        if (raw / "adapter_config.json").is_file():
            merge_saved_adapter(raw, tmp)
            shutil.rmtree(raw, ignore_errors=True)
        else:
            os.replace(raw, tmp)
        tokenizer.save_pretrained(str(tmp))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    acc.wait_for_everyone()


def merge_saved_adapter(raw: Path, tmp: Path) -> None:
    """Merge the adapters saved in `raw` into their base (at the revision their config
    names) and save the merged weights in `tmp`, the adapters in `tmp/adapter`."""
    from ccaic.models.load import load_adapter_model

    load_adapter_model(str(raw)).merge_and_unload().save_pretrained(str(tmp))
    shutil.copytree(raw, tmp / "adapter")


def _quiet() -> None:
    import warnings

    import datasets

    from ccaic.models.load import quiet_transformers

    datasets.disable_progress_bars()
    quiet_transformers()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="trl")


def _callbacks(trainer: Any, log: Any) -> None:
    """Trainer logs go to the build log instead of stdout."""
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback

    from ccaic.train.checkpoints import marker_callback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(marker_callback())
    if log is None:
        return

    class ToLog(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                   **kwargs: Any) -> None:
            if logs:
                log(f"  step {state.global_step}: " + ", ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in sorted(logs.items())))

    trainer.add_callback(ToLog())


def _summary(trainer: Any, result: Any, rows: int,
             data: dict[str, int] | None = None) -> dict[str, Any]:
    """Step count and mean per-step loss from the (checkpoint-restored) log history, so a
    resumed run reports the same numbers as an uninterrupted one; with the rows truncated or
    dropped by the trainer and, with an eval split, the final eval loss."""
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    mean = sum(losses) / len(losses) if losses else float(result.training_loss)
    out: dict[str, Any] = {"steps": int(result.global_step), "train_loss": round(float(mean), 6),
                           "rows": rows}
    out.update(data or {})
    if trainer.eval_dataset is not None:
        metrics = trainer.evaluate()
        out["eval_loss"] = round(float(metrics["eval_loss"]), 6)
    return out


def data_counts(rows_in: int, kept_lengths: list[int], max_length: int) -> dict[str, int]:
    """What the trainer did to the rows: `dropped` (rows_in minus rows it kept: TRL filters
    fully truncated rows silently) and `truncated` (kept rows longer than max_length, cut)."""
    return {"dropped": rows_in - len(kept_lengths),
            "truncated": sum(1 for n in kept_lengths if n > max_length)}


def _sft_counts(trainer: Any, train_rows: int, eval_rows: int, max_length: int,
                lengths: list[int]) -> dict[str, int]:
    """SFT rows are cut while TRL prepares them, so lengths are measured before (every
    dropped row was over-long: its completion was cut away entirely)."""
    kept = len(trainer.train_dataset) + (len(trainer.eval_dataset) if trainer.eval_dataset
                                         is not None else 0)
    dropped = train_rows + eval_rows - kept
    counts = {"dropped": dropped,
              "truncated": max(sum(1 for n in lengths if n > max_length) - dropped, 0)}
    if eval_rows:
        counts["eval_rows"] = eval_rows
    return counts


def _dpo_counts(trainer: Any, train_rows: int, eval_rows: int,
                max_length: int) -> dict[str, int]:
    """Exact: the DPO collator cuts prompt+completion to max_length (keep_start)."""
    kept = [len(r["prompt_ids"]) + max(len(r["chosen_ids"]), len(r["rejected_ids"]))
            for d in (trainer.train_dataset, trainer.eval_dataset) if d is not None for r in d]
    counts = data_counts(train_rows + eval_rows, kept, max_length)
    if eval_rows:
        counts["eval_rows"] = eval_rows
    return counts


def _load(location: str, training: Training, chat_template: str | None = None,
          revision: str | None = None) -> tuple[Any, Any, Any]:
    """(model in its training dtype, tokenizer with the plan's chat template, the dtype
    the checkpoint was saved in, to save the trained model in)."""
    import torch

    from ccaic.models.lm import apply_chat_template
    from ccaic.models.load import load_config, load_model, load_tokenizer

    name, _ = training_dtypes(training.precision, training.lora is not None,
                              torch.cuda.is_available())
    tok = load_tokenizer(location, revision)
    apply_chat_template(tok, chat_template)
    saved = getattr(load_config(location, revision), "dtype", None)
    model = load_model(location, revision, getattr(torch, name))
    return model, tok, saved if isinstance(saved, torch.dtype) else None


def _as_saved(trainer: Any, dtype: Any) -> None:
    """Trained fp32 master weights go back to the checkpoint's own dtype (a bf16 model stays
    a bf16 folder, half the disk); under several processes the Trainer saves the shards."""
    from ccaic.train.dist import world

    if dtype is not None and not world().distributed and \
            next(trainer.model.parameters()).dtype != dtype:
        trainer.model.to(dtype)


def split_eval(data: list[dict[str, Any]], fraction: float,
               seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, eval): a seeded `fraction` of the rows held out, at least one when asked."""
    if fraction <= 0 or len(data) < 2:
        return data, []
    from ccaic.train.sampling import rng_for

    k = min(max(round(len(data) * fraction), 1), len(data) - 1)
    held = set(rng_for(seed, "eval_split").sample(range(len(data)), k))
    return ([r for i, r in enumerate(data) if i not in held],
            [r for i, r in enumerate(data) if i in held])


def _sft_lengths(tok: Any, data: list[dict[str, Any]]) -> list[int]:
    """Untruncated token length of each prompt+completion row, as TRL renders it."""
    return [len(tok.apply_chat_template(r["prompt"] + r["completion"], tokenize=True,
                                        return_dict=False)) for r in data]


def run_sft(model_location: str, rows: list[dict[str, Any]], training: Training, seed: int,
            work: Path, target: Path, log: Any = None,
            chat_template: str | None = None, revision: str | None = None) -> dict[str, Any]:
    """SFT on conversational rows (last assistant turn is the completion); revision: the
    Hub revision the plan pins for model_location."""
    _quiet()
    from datasets import Dataset
    from trl.trainer.sft_config import SFTConfig
    from trl.trainer.sft_trainer import SFTTrainer

    data = [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in rows]
    train, held = split_eval(data, training.eval_fraction, seed)
    model, tok, saved = _load(model_location, training, chat_template, revision)
    args = SFTConfig(**_common_args(training, work, seed))
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(train),
                         eval_dataset=Dataset.from_list(held) if held else None,
                         processing_class=tok,
                         peft_config=_peft_config(training, revision))
    _callbacks(trainer, log)
    counts = _sft_counts(trainer, len(train), len(held), training.max_length,
                         _sft_lengths(tok, data))
    result = trainer.train(resume_from_checkpoint=_last_checkpoint(work))
    summary = _summary(trainer, result, len(rows), counts)
    _as_saved(trainer, saved)
    _save_final(trainer, tok, target)
    return summary


def soft_dpo_trainer_class() -> Any:
    import torch
    from trl.trainer.dpo_trainer import DataCollatorForPreference, DPOTrainer

    from ccaic.train.losses import soft_dpo_loss

    class SoftCollator(DataCollatorForPreference):
        def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
            out = super().torch_call(examples)
            out["p_chosen"] = torch.tensor([float(e.get("p_chosen", 1.0)) for e in examples])
            return out

    class SoftDPOTrainer(DPOTrainer):
        def __init__(self, *args: Any, **kwargs: Any):
            if kwargs.get("data_collator") is None:
                tok = kwargs["processing_class"]
                dpo_args = kwargs["args"]
                kwargs["data_collator"] = SoftCollator(
                    pad_token_id=tok.pad_token_id, max_length=dpo_args.max_length,
                    truncation_mode=dpo_args.truncation_mode,
                    pad_to_multiple_of=dpo_args.pad_to_multiple_of)
            super().__init__(*args, **kwargs)
            if self.loss_types != ["sigmoid"] or self.f_divergence_type != "reverse_kl" \
                    or self.ld_alpha is not None or self.precompute_ref_logps:
                raise ValueError("SoftDPOTrainer supports loss_type sigmoid, reverse KL, no "
                                 "ld_alpha and no precomputed reference log-probs")

        def _set_signature_columns_if_needed(self) -> None:
            parent: Any = super()  # TRL leaves this method untyped
            parent._set_signature_columns_if_needed()
            if self._signature_columns is not None and "p_chosen" not in self._signature_columns:
                self._signature_columns = [*self._signature_columns, "p_chosen"]

        def _compute_loss(self, model: Any, inputs: dict[str, Any],
                          return_outputs: bool) -> Any:
            # is_peft_model sees through DDP / FSDP / DeepSpeed wrappers, as TRL's own does
            from accelerate.utils import is_peft_model as is_peft
            from trl.models.utils import disable_gradient_checkpointing
            from trl.trainer.utils import use_adapter

            me: Any = self
            mode = "train" if me.model.training else "eval"
            inputs = dict(inputs)
            p = inputs.pop("p_chosen").to(me.accelerator.device)
            completion_mask = inputs["completion_mask"]
            model_kwargs = {k: v for k, v in inputs.items()
                            if k not in {"completion_mask", "ref_chosen_logps",
                                         "ref_rejected_logps"}}
            model_kwargs["use_cache"] = False
            shift_mask = completion_mask[..., 1:]
            labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
            outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
            seq_len = shift_mask.size(1)
            logps = outputs.log_probs[:, -seq_len:].sum(dim=1)
            chosen_logps, rejected_logps = logps.chunk(2, dim=0)
            with torch.no_grad(), disable_gradient_checkpointing(
                    me.model, me.args.gradient_checkpointing_kwargs):
                if is_peft(me.model) and me.ref_model is None:
                    unwrapped = me.accelerator.unwrap_model(me.model)
                    with use_adapter(unwrapped, adapter_name="ref"
                                     if "ref" in unwrapped.peft_config else None):
                        ref_out = me.model(**model_kwargs, labels=labels, fused_lm_head=True)
                else:
                    ref_out = me.ref_model(**model_kwargs, labels=labels, fused_lm_head=True)
            ref_logps = ref_out.log_probs[:, -seq_len:].sum(dim=1)
            ref_chosen, ref_rejected = ref_logps.chunk(2, dim=0)
            chosen_lr = chosen_logps - ref_chosen
            rejected_lr = rejected_logps - ref_rejected
            loss = soft_dpo_loss(chosen_lr, rejected_lr, p.to(chosen_lr.dtype), me.beta).mean()
            cr = me.beta * chosen_lr.detach()
            rr = me.beta * rejected_lr.detach()
            m = me._metrics[mode]
            m["rewards/chosen"].append(me.accelerator.gather(cr).mean().item())
            m["rewards/rejected"].append(me.accelerator.gather(rr).mean().item())
            m["rewards/accuracies"].append(me.accelerator.gather((cr > rr).float())
                                           .mean().item())
            m["rewards/margins"].append(me.accelerator.gather(cr - rr).mean().item())
            m["p_chosen"].append(me.accelerator.gather(p.float()).mean().item())
            # TRL's own DPO metrics: tokens seen (tokens/s from the logs) and mean log-probs
            if mode == "train":
                seen = me.accelerator.gather_for_metrics(inputs["attention_mask"].sum())
                me._total_train_tokens += int(seen.sum().item()) // me._tp_size
            m["num_tokens"] = [me._total_train_tokens]
            m["logps/chosen"].append(me.accelerator.gather(chosen_logps.detach()).mean().item())
            m["logps/rejected"].append(me.accelerator.gather(rejected_logps.detach())
                                       .mean().item())
            return (loss, outputs) if return_outputs else loss

    return SoftDPOTrainer


def dpo_config(training: Training, beta: float, work: Path, seed: int) -> Any:
    from trl.trainer.dpo_config import DPOConfig

    return DPOConfig(**_common_args(training, work, seed), beta=beta)


def run_dpo(model_location: str, rows: list[dict[str, Any]], training: Training, beta: float,
            soft: bool, seed: int, work: Path, target: Path, log: Any = None,
            chat_template: str | None = None, revision: str | None = None) -> dict[str, Any]:
    _quiet()
    from datasets import Dataset

    data = [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"],
             "p_chosen": float(r["p_chosen"]) if soft else 1.0} for r in rows]
    train, held = split_eval(data, training.eval_fraction, seed)
    model, tok, saved = _load(model_location, training, chat_template, revision)
    cls = soft_dpo_trainer_class()
    trainer = cls(model=model, ref_model=_reference(model_location, training, revision),
                  args=dpo_config(training, beta, work, seed),
                  train_dataset=Dataset.from_list(train),
                  eval_dataset=Dataset.from_list(held) if held else None, processing_class=tok,
                  peft_config=_peft_config(training, revision))
    _callbacks(trainer, log)
    counts = _dpo_counts(trainer, len(train), len(held), training.max_length)
    result = trainer.train(resume_from_checkpoint=_last_checkpoint(work))
    summary = _summary(trainer, result, len(rows), counts)
    _as_saved(trainer, saved)
    _save_final(trainer, tok, target)
    return summary
