"""Resolving model references to folders/ids and loading them with transformers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccaic.plan.model import ModelRef


def model_location(ref: ModelRef, base_dir: str | None, seed: int) -> str:
    """A path or Hub id transformers can load."""
    if ref.kind == "builtin":
        from ccaic.models.tiny import tiny_path

        return str(tiny_path(seed))
    if ref.kind == "local":
        base = Path(base_dir) if base_dir else Path.cwd()
        return str((base / ref.name).resolve())
    if ref.kind == "hf":
        return ref.name
    raise ValueError(f"{ref.ref} is a remote model; it cannot be loaded locally")


def model_revision(ref: ModelRef) -> str | None:
    """The Hub revision a loader passes for ref (`org/name@rev`); None for anything else."""
    return ref.revision if ref.kind == "hf" else None


def device_and_dtype() -> tuple[str, Any]:
    """bf16 on GPU, fp32 on CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", torch.float32


def load_tokenizer(location: str, revision: str | None = None):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(location, revision=revision)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_causal_lm(location: str, revision: str | None = None):
    """(model, tokenizer) on the best device, in eval mode."""
    import transformers
    from transformers import AutoModelForCausalLM

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    device, dtype = device_and_dtype()
    tok = load_tokenizer(location, revision)
    model = AutoModelForCausalLM.from_pretrained(location, revision=revision, dtype=dtype)
    model.to(device)  # type: ignore[arg-type]
    model.eval()
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok
