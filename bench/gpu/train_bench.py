"""GPU benchmark: generation tokens/s and SFT / DPO step time and peak memory.

Random weights of the real Qwen2.5 architectures (~0.5B and ~1.5B; no download), the builtin
character tokenizer (token ids are all the model needs here), full fine-tuning and LoRA, through
the same code paths the runner uses (ccaic.train.trainers: TRL SFTTrainer / SoftDPOTrainer).

    .venv/bin/python bench/gpu/train_bench.py --sizes 0.5b 1.5b --out bench/gpu/results.json
    .venv/bin/python bench/gpu/train_bench.py --sizes cpu-smoke       # wiring check on CPU

Prints one JSON object per measurement; record them in bench/RESULTS-train.md with the GPU
name and the command. vLLM is measured only when it is installed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SIZES: dict[str, dict[str, Any]] = {
    # Qwen2.5-0.5B / 1.5B shapes (vocab kept at 151936 so the LM head costs what it really does)
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, vocab_size=151936),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                 num_attention_heads=12, num_key_value_heads=2, vocab_size=151936),
    "cpu-smoke": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, vocab_size=1024),
}


def make_model(size: str, folder: Path) -> str:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from ccaic.models.tiny import build_tokenizer

    tok = build_tokenizer()
    cfg = Qwen2Config(**SIZES[size], max_position_embeddings=4096, tie_word_embeddings=True,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      bos_token_id=None)
    torch.manual_seed(0)
    model: Any = Qwen2ForCausalLM(cfg)
    model = model.to(torch.bfloat16 if torch.cuda.is_available() else torch.float32)
    path = folder / size
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


def peak_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def bench_generate(loc: str, size: str, batch: int, new_tokens: int) -> dict[str, Any]:
    import torch

    from ccaic.plan.model import Sampling
    from ccaic.train.lm import LM

    reset_peak()
    lm = LM(loc)
    lm.model.generation_config.eos_token_id = None  # always generate new_tokens
    prompts = [f"Question {i}: " + "tell me about the weather " * 8 for i in range(batch)]
    s = Sampling(max_new_tokens=new_tokens, temperature=1.0, batch_size=batch)
    lm.generate_texts(prompts, Sampling(max_new_tokens=4, batch_size=batch), 0)  # warm-up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    gens = lm.generate_texts(prompts, s, 0)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    toks = sum(g.tokens for g in gens)
    lm.free()
    return {"what": "generate_hf", "size": size, "batch": batch, "new_tokens": new_tokens,
            "tokens_per_s": round(toks / dt, 1), "seconds": round(dt, 2), "peak_gib": peak_gib()}


def bench_vllm(loc: str, size: str, batches: tuple[int, ...],
               new_tokens: int) -> list[dict[str, Any]]:
    """vLLM tokens/s through the runner's own path (ccaic.train.generation.VLLMGenerator:
    token-id prompts, one seeded SamplingParams per request), one engine for every batch size;
    [] when vllm is not installed."""
    try:
        import vllm  # noqa: F401
    except ImportError:
        return []
    from ccaic.plan.model import Sampling
    from ccaic.train.generation import VLLMGenerator

    gen = VLLMGenerator(loc, gpu_memory_utilization=0.5)
    gen.sampling_extra = {"ignore_eos": True}  # always generate new_tokens, as the HF bench does
    results = []
    for batch in batches:
        prompts = [f"Question {i}: " + "tell me about the weather " * 8 for i in range(batch)]
        gen.generate_texts(prompts[:2], Sampling(max_new_tokens=4), 0)  # warm-up
        t0 = time.perf_counter()
        gens = gen.generate_texts(prompts, Sampling(max_new_tokens=new_tokens, temperature=1.0,
                                                    batch_size=batch), 0)
        dt = time.perf_counter() - t0
        toks = sum(g.tokens for g in gens)
        results.append({"what": "generate_vllm", "size": size, "batch": batch,
                        "new_tokens": new_tokens, "tokens_per_s": round(toks / dt, 1),
                        "seconds": round(dt, 2)})
    gen.free()
    return results


def bench_train(kind: str, loc: str, size: str, lora: bool, steps: int, batch: int,
                length: int, work: Path) -> dict[str, Any]:
    from ccaic.plan.model import Lora, Training
    from ccaic.train.trainers import run_dpo, run_sft

    words = "alpha beta gamma delta " * (length // 24 + 1)
    half = words[: length // 2]
    training = Training(batch_size=batch, max_steps=steps, learning_rate=1e-5,
                        max_length=length, save_steps=10**6,
                        lora=Lora(r=16, alpha=16) if lora else None)
    n = batch * steps
    reset_peak()
    times: list[float] = []

    def log(line: str) -> None:
        times.append(time.perf_counter())

    t0 = time.perf_counter()
    rows: list[dict[str, Any]]
    if kind == "sft":
        rows = [{"messages": [{"role": "user", "content": f"{i} " + half},
                              {"role": "assistant", "content": half}]} for i in range(n)]
        run_sft(loc, rows, training, 0, work / f"{kind}-{size}-{lora}", work / "m", log)
    else:
        rows = [{"prompt": [{"role": "user", "content": f"{i} " + half[: length // 4]}],
                 "chosen": [{"role": "assistant", "content": half[: length // 4]}],
                 "rejected": [{"role": "assistant", "content": half[: length // 5]}],
                 "p_chosen": 0.8} for i in range(n)]
        run_dpo(loc, rows, training, 0.1, True, 0, work / f"{kind}-{size}-{lora}", work / "m",
                log)
    total = time.perf_counter() - t0
    # per-step time from the trainer's per-step log callbacks (first step = warm-up, dropped)
    steady = [b - a for a, b in itertools.pairwise(times)][1:steps - 1]
    step_s = sum(steady) / len(steady) if steady else total / steps
    return {"what": kind, "size": size, "lora": lora, "batch": batch, "max_length": length,
            "steps": steps, "s_per_step": round(step_s, 3), "total_s": round(total, 1),
            "peak_gib": peak_gib()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["0.5b", "1.5b"], choices=sorted(SIZES))
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=1024)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    import torch

    results = [{"device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
                "torch": torch.__version__}]
    print(json.dumps(results[0]), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in args.sizes:
            loc = make_model(size, work)
            for batch in (8, 32):
                r = bench_generate(loc, size, batch, 128)
                results.append(r)
                print(json.dumps(r), flush=True)
            for v in bench_vllm(loc, size, (8, 32), 128) if torch.cuda.is_available() else []:
                results.append(v)
                print(json.dumps(v), flush=True)
            for kind in ("sft", "dpo"):
                for lora in (False, True):
                    r = bench_train(kind, loc, size, lora, args.steps, args.batch,
                                    args.length, work)
                    results.append(r)
                    print(json.dumps(r), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
