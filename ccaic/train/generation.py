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
from ccaic.models.lm import Generation, apply_chat_template, render, turn_stop_ids
from ccaic.plan.model import Sampling, TrainingPlan
from ccaic.train.sampling import row_seeds

BACKENDS = ("auto", "vllm", "transformers")
DEFAULT_WINDOW = 64  # batches per vLLM call ($CCAIC_VLLM_WINDOW); each is still its own part
MAX_BATCHED_TOKENS = 16384  # prefill tokens per engine step (vLLM's chunked-prefill budget)
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


def plan_context(plan: TrainingPlan, fewshot_tokens: int) -> int:
    """The longest sequence the plan's generation stages need: the few-shot exemplars plus
    a conversation as long as training keeps (longer rows are cut or dropped by the
    trainers), plus the longest generation; rounded up to a multiple of 256."""
    st = plan.stages
    conversation = max(st.sft.training.max_length, st.dpo.training.max_length)
    new = max(st.initial.sampling.max_new_tokens, st.sl_cai.sampling.max_new_tokens,
              st.pairs.sampling.max_new_tokens)
    need = fewshot_tokens + conversation + new
    return -(-need // 256) * 256


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
                 chat_template: str | None = None, plan: TrainingPlan | None = None,
                 **engine: Any):
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
        if revision:  # the tokenizer too: vLLM loads it at main unless told
            kwargs["revision"] = kwargs["tokenizer_revision"] = revision
        if world().distributed:
            # one engine per rank on its own GPU inside the accelerate world, as TRL's
            # colocate mode does (tensor_parallel_size 1: data-parallel generation)
            kwargs["distributed_executor_backend"] = "external_launcher"
        max_model_len = plan_context(plan, self._fewshot_tokens(plan)) if plan else 0
        if max_model_len:
            # the KV cache is sized for what the plan asks, not the model's full context
            self.max_positions = min(self.max_positions or max_model_len, max_model_len)
            kwargs["max_model_len"] = self.max_positions
            kwargs["max_num_batched_tokens"] = max(self.max_positions, MAX_BATCHED_TOKENS)
        kwargs.update(engine)
        self.llm = LLM(**kwargs)
        # batches handed to vLLM in one call: it schedules the whole window continuously
        self.window = int(os.environ.get("CCAIC_VLLM_WINDOW", str(DEFAULT_WINDOW)))
        # extra SamplingParams for every request (the GPU bench sets ignore_eos=True)
        self.sampling_extra: dict[str, Any] = {}

    def render(self, conversation: list[dict[str, str]]) -> str:
        return render(self.tok, self.location, conversation)

    def _fewshot_tokens(self, plan: TrainingPlan) -> int:
        shots = [{"role": m.role, "content": m.content}
                 for ex in plan.stages.sl_cai.fewshot for m in ex.messages]
        if not shots or not getattr(self.tok, "chat_template", None):
            return 0
        return len(self.tok(self.render(shots), add_special_tokens=False)["input_ids"])

    def _token_ids(self, text: str, add_special_tokens: bool, max_new_tokens: int) -> list[int]:
        ids = list(self.tok(text, add_special_tokens=add_special_tokens)["input_ids"])
        if self.max_positions and len(ids) + max_new_tokens > self.max_positions:
            ids = ids[-max(self.max_positions - max_new_tokens, 1):]
        return ids

    def _generate(self, texts: list[str], sampling: Sampling, seed: int | Sequence[int],
                  n: int, add_special_tokens: bool,
                  stop: Sequence[str]) -> list[list[Generation]]:
        """n samples per text; seed: the batch's (each request gets row_seeds of it) or one
        per request (a window of batches, each request seeded as in its own batch)."""
        from vllm import SamplingParams

        seeds = list(seed) if not isinstance(seed, int) else row_seeds(seed, len(texts))
        prompts = [{"prompt_token_ids": self._token_ids(t, add_special_tokens,
                                                        sampling.max_new_tokens)}
                   for t in texts]
        params = [SamplingParams(n=n, temperature=sampling.temperature,
                                 top_p=sampling.top_p if sampling.temperature > 0 else 1.0,
                                 max_tokens=sampling.max_new_tokens, stop=list(stop),
                                 stop_token_ids=list(self.stop_ids),
                                 seed=s, **self.sampling_extra)
                  for s in seeds]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        return [[Generation(o.text, _finish(o.finish_reason),
                            len(getattr(o, "token_ids", None) or ())) for o in out.outputs]
                for out in outs]

    def generate_texts(self, texts: list[str], sampling: Sampling, seed: int | Sequence[int],
                       add_special_tokens: bool = False,
                       stop: Sequence[str] = ()) -> list[Generation]:
        return [g[0] for g in self._generate(texts, sampling, seed, 1, add_special_tokens,
                                             stop)]

    def chat(self, conversations: list[list[dict[str, str]]], sampling: Sampling,
             seed: int | Sequence[int], stop: Sequence[str] = ()) -> list[Generation]:
        return self.generate_texts([self.render(c) for c in conversations], sampling, seed,
                                   stop=stop)

    def chat_n(self, conversations: list[list[dict[str, str]]], sampling: Sampling,
               seed: int | Sequence[int], n: int,
               stop: Sequence[str] = ()) -> list[list[Generation]]:
        """n samples per conversation from one request (`SamplingParams(n=...)`): the
        prompt is prefilled once for both responses of a pair."""
        return self._generate([self.render(c) for c in conversations], sampling, seed, n,
                              False, stop)

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
    from ccaic.models.load import load_generation_config

    try:
        return load_generation_config(location, revision).eos_token_id
    except (OSError, ValueError):
        return None


def _max_positions(location: str, revision: str | None) -> int:
    from ccaic.models.load import load_config

    try:
        cfg = load_config(location, revision)
    except (OSError, ValueError):
        return 0
    return int(getattr(cfg, "max_position_embeddings", 0) or 0)
