"""Generation backends: transformers `generate` (always there) or vLLM (when installed).

`CCAIC_GENERATION_BACKEND=auto|vllm|transformers` (or run_plan's `generation_backend`) picks
one; `auto`, the default, uses vLLM when it is importable and a CUDA GPU is present. Both take
the same batches, sampling settings and seeds and return `Generation`s, and the stages apply the
same post-processing (stop strings, prefixes, drops) to either, so datasets have the same shape;
the sampled texts differ between backends (different samplers), which is why the backend is part
of the generation stages' cache keys when it is vLLM.

Only generation goes through vLLM; option scoring for AI labels (a forward pass, not sampling)
stays on transformers, so labels do not depend on the backend.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.plan.model import Sampling
from ccaic.train.lm import Generation, apply_chat_template, render, turn_stop_ids
from ccaic.train.sampling import derived_seed

BACKENDS = ("auto", "vllm", "transformers")
ENV = "CCAIC_GENERATION_BACKEND"


def vllm_importable() -> bool:
    try:
        return importlib.util.find_spec("vllm") is not None
    except (ImportError, ValueError):  # a broken or fake module without a spec
        import sys

        return "vllm" in sys.modules


def _cuda() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - the train extra is missing
        return False
    return bool(torch.cuda.is_available())


def resolve_backend(requested: str | None = None) -> str:
    """`vllm` or `transformers`: the argument, else $CCAIC_GENERATION_BACKEND, else auto."""
    value = (requested or os.environ.get(ENV) or "auto").strip().lower()
    if value not in BACKENDS:
        raise DiagnosticError([error(
            "CCAI513", f"unknown generation backend `{value}`",
            help=f"set {ENV} to one of: " + ", ".join(BACKENDS))])
    if value == "auto":
        return "vllm" if vllm_importable() and _cuda() else "transformers"
    if value == "vllm" and not vllm_importable():
        raise DiagnosticError([error(
            "CCAI513", "the vLLM generation backend was asked for but `vllm` is not installed",
            help=f"`pip install vllm` on a CUDA machine, or set {ENV}=transformers")])
    return value


def _finish(reason: Any) -> str:
    """vLLM says stop / length / abort; the stages know stop and length only."""
    return "length" if reason == "length" else "stop"


class VLLMGenerator:
    """The `LM` generation interface (render, chat, generate_texts, free) over `vllm.LLM`.

    Prompts are rendered with the model's own chat template and tokenized exactly as the
    transformers path does (no extra special tokens, left-truncated to fit the context), then
    passed as token ids so vLLM cannot add a second BOS. Each request gets its own seed derived
    from the batch seed and its row, so a batch's outputs do not depend on which rank ran it.
    """

    def __init__(self, location: str, revision: str | None = None,
                 chat_template: str | None = None, **engine: Any):
        from vllm import LLM

        from ccaic.models.load import device_and_dtype, load_tokenizer
        from ccaic.train.dist import world

        self.location = location
        self.tok = load_tokenizer(location, revision)
        apply_chat_template(self.tok, chat_template)
        self.max_positions = _max_positions(location, revision)
        # vLLM stops on the model's EOS only; end-of-turn tokens of the template are extra
        self.stop_ids = turn_stop_ids(self.tok, _generation_eos(location, revision))
        _, dtype = device_and_dtype()
        kwargs: dict[str, Any] = {
            "model": location, "tokenizer": location, "seed": 0,
            "dtype": str(dtype).removeprefix("torch."),
            "gpu_memory_utilization": float(
                os.environ.get("CCAIC_VLLM_GPU_MEMORY_UTILIZATION", "0.85")),
        }
        if revision:
            kwargs["revision"] = revision
        if world().distributed:
            # one engine per rank on its own GPU inside the accelerate world, as TRL's
            # colocate mode does (tensor_parallel_size 1: data-parallel generation)
            kwargs["distributed_executor_backend"] = "external_launcher"
        kwargs.update(engine)
        self.llm = LLM(**kwargs)
        # extra SamplingParams for every request (the GPU bench sets ignore_eos=True)
        self.sampling_extra: dict[str, Any] = {}

    def render(self, conversation: list[dict[str, str]]) -> str:
        return render(self.tok, self.location, conversation)

    def _token_ids(self, text: str, add_special_tokens: bool, max_new_tokens: int) -> list[int]:
        ids = list(self.tok(text, add_special_tokens=add_special_tokens)["input_ids"])
        if self.max_positions and len(ids) + max_new_tokens > self.max_positions:
            ids = ids[-max(self.max_positions - max_new_tokens, 1):]
        return ids

    def generate_texts(self, texts: list[str], sampling: Sampling, seed: int,
                       add_special_tokens: bool = False,
                       stop: Sequence[str] = ()) -> list[Generation]:
        from vllm import SamplingParams

        prompts = [{"prompt_token_ids": self._token_ids(t, add_special_tokens,
                                                        sampling.max_new_tokens)}
                   for t in texts]
        params = [SamplingParams(n=1, temperature=sampling.temperature,
                                 top_p=sampling.top_p if sampling.temperature > 0 else 1.0,
                                 max_tokens=sampling.max_new_tokens, stop=list(stop),
                                 stop_token_ids=list(self.stop_ids),
                                 seed=derived_seed(seed, "row", i), **self.sampling_extra)
                  for i in range(len(texts))]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        results = []
        for out in outs:
            o = out.outputs[0]
            results.append(Generation(o.text, _finish(o.finish_reason),
                                      len(getattr(o, "token_ids", None) or ())))
        return results

    def chat(self, conversations: list[list[dict[str, str]]], sampling: Sampling,
             seed: int, stop: Sequence[str] = ()) -> list[Generation]:
        return self.generate_texts([self.render(c) for c in conversations], sampling, seed,
                                   stop=stop)

    def free(self) -> None:
        """Release the engine and its KV cache before a trainer needs the GPU."""
        import gc

        llm = self.__dict__.pop("llm", None)
        engine = getattr(llm, "llm_engine", None)
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()
        del llm, engine
        gc.collect()
        if _cuda():
            import torch

            torch.cuda.empty_cache()


def _generation_eos(location: str, revision: str | None) -> Any:
    from transformers import GenerationConfig

    try:
        return GenerationConfig.from_pretrained(location, revision=revision or "main").eos_token_id
    except (OSError, ValueError):
        return None


def _max_positions(location: str, revision: str | None) -> int:
    from transformers import AutoConfig

    try:
        cfg = AutoConfig.from_pretrained(location, revision=revision)
    except (OSError, ValueError):
        return 0
    return int(getattr(cfg, "max_position_embeddings", 0) or 0)
