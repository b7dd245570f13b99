"""The H200 training and generation benchmark (issue 14); `bench/gpu/run.sh` runs it.

Random weights in the shapes of Qwen2.5-0.5B and -1.5B (bench/gpu/gpumodels.py), through ccaic's
own entry points (ccaic.train.trainers, ccaic.models.lm, ccaic.train.stages, ccaic.train.runner).
Sections, in order (each one's records go to results.json as soon as it ends):

  peak       bf16 matmul TFLOP/s (n^3 products): the ceiling MFU is measured against
  precision  DPO, bf16-pure vs fp32-master (bf16 autocast): fraction of weights changed,
             step time, peak memory
  matrix     {SFT, DPO} x {full, LoRA} x {0.5B, 1.5B}: step time, tokens/s, memory, MFU
             (6N FLOPs/token for SFT, 8N for DPO: policy forward+backward, reference forward)
  peer       one DPO config through plain TRL DPOTrainer (sigmoid) and ccaic's SoftDPOTrainer
  generate   HF generate tokens/s (ccaic.models.lm.LM) at several batch sizes
  label      labeller pairs/s (ccaic.train.stages.label_pairs, both orders)
  e2e        run_plan of a quickstart-like plan on the 0.5B model; time per stage; the final
             model loads and generates

    python3 bench/gpu/gpubench.py --config gpu|dry --out DIR [--only SECTION ...]
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for p in (str(REPO), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from gpumodels import QWEN25_05B, QWEN25_15B, TINY, Shape, filler_text, save_model  # noqa: E402

from ccaic.atomic import write_text_atomic  # noqa: E402

SECTIONS = ("peak", "precision", "matrix", "peer", "generate", "label", "e2e")
GOAL_SOFT_DPO_RATIO = 1.1
GOAL_MFU_FULL_SFT = 0.35
GOAL_MFU_LORA_SFT = 0.25


@dataclass(frozen=True)
class Config:
    """Sizes of one run: the real ones on the GPU, tiny ones for the CPU dry run."""

    name: str
    shapes: tuple[Shape, ...]  # the matrix and generation sizes; shapes[0] is also e2e's
    batch: int = 8
    length: int = 1024
    steps: int = 6  # per matrix / peer run; the first `warmup` are not timed
    warmup: int = 2
    precision_steps: int = 5
    gen_batches: tuple[int, ...] = (8, 32, 128)
    gen_new_tokens: int = 128
    gen_prompt_tokens: int = 64
    label_batches: tuple[int, ...] = (8, 32)
    label_batches_per_run: int = 4
    label_response_tokens: int = 96
    matmul_n: int = 8192
    e2e_new_tokens: int = 64
    e2e_steps: int = 8
    e2e_length: int = 512
    budget_s: float = 450.0  # sections not started by then are skipped (8-minute goal)


GPU = Config("gpu", (QWEN25_05B, QWEN25_15B))
DRY = Config("dry", (TINY,), batch=2, length=64, steps=3, warmup=1, precision_steps=2,
             gen_batches=(2, 4), gen_new_tokens=8, gen_prompt_tokens=16, label_batches=(2, 4),
             label_batches_per_run=2, label_response_tokens=16, matmul_n=256, e2e_new_tokens=8,
             e2e_steps=2, e2e_length=64, budget_s=600.0)
CONFIGS = {c.name: c for c in (GPU, DRY)}


# ---------------------------------------------------------------- pure arithmetic (tested)

def steady_step_s(ends: list[float], warmup: int) -> float | None:
    """Mean duration of the steps after the first `warmup`, from step end times."""
    durations = [b - a for a, b in itertools.pairwise(ends)]  # steps 2..n
    timed = durations[max(warmup - 1, 0):]
    return sum(timed) / len(timed) if timed else None


def flops_per_token(kind: str, params: int) -> int:
    """6N for SFT (forward + backward), 8N for DPO (+ the reference model's forward)."""
    return {"sft": 6, "dpo": 8}[kind] * params


def mfu(kind: str, params: int, tokens_per_s: float, peak_flops: float) -> float:
    return flops_per_token(kind, params) * tokens_per_s / peak_flops


def tokens_per_step(kind: str, batch: int, length: int) -> int:
    """Every row is longer than max_length, so every sequence is exactly max_length (a DPO row
    is two sequences, chosen and rejected)."""
    return batch * length * (2 if kind == "dpo" else 1)


def stage_times(build_log: str) -> dict[str, float]:
    """Seconds per stage from run_plan's build.log (`<stage>: done in 1.2s counts=...`)."""
    return {m[1]: float(m[2]) for m in re.finditer(r"(\w+): done in ([\d.]+)s", build_log)}


def is_step_log(line: str) -> bool:
    """A per-step trainer log line (it has a loss), not the end-of-training summary."""
    return re.search(r"(?<![\w/])loss=", line) is not None and "train_runtime" not in line


# ---------------------------------------------------------------- torch helpers

def cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def reset_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def memory() -> dict[str, float | None]:
    import torch

    if not torch.cuda.is_available():
        return {"peak_allocated_gib": None, "peak_reserved_gib": None}
    return {"peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "peak_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)}


class StepClock:
    """Wall-clock time at the end of each optimizer step (the GPU drained first)."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def tick(self) -> None:
        sync()
        self.ends.append(time.perf_counter())

    def log(self, line: str) -> None:
        """ccaic's trainer log hook: one line per step (logging_steps=1)."""
        if is_step_log(line):
            self.tick()

    def callback(self) -> Any:
        from transformers import TrainerCallback

        clock = self

        class Tick(TrainerCallback):
            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock.tick()

        return Tick()


# ---------------------------------------------------------------- the run's context

@dataclass
class Bench:
    config: Config
    work: Path
    models: dict[str, tuple[str, int]] = field(default_factory=dict)
    peak_flops: float | None = None

    def model(self, shape: Shape) -> tuple[str, int]:
        """(folder, parameters) of a random-weight model of this shape, built once."""
        if shape.name not in self.models:
            import torch

            device, dtype = ("cuda", torch.bfloat16) if cuda() else ("cpu", torch.float32)
            self.models[shape.name] = save_model(shape, self.work / "models", device, dtype)
            reset_memory()
        return self.models[shape.name]

    def training(self, steps: int, lora: bool, learning_rate: float) -> Any:
        from ccaic.plan.model import Lora, Training

        return Training(batch_size=self.config.batch, max_steps=steps,
                        learning_rate=learning_rate, max_length=self.config.length,
                        save_steps=10**6, lora=Lora(r=16, alpha=16) if lora else None)


def default_lr(kind: str) -> float:
    """The learning rate a plan gets when it sets none (ccaic.lowering.plan's stage defaults)."""
    from ccaic.plan.model import DpoStage, SftStage

    stage = DpoStage if kind == "dpo" else SftStage
    return float(stage.model_fields["training"].default.learning_rate)


def rows(kind: str, tokenizer: Any, n: int, length: int, soft: bool = True) -> list[dict]:
    """n training rows whose prompt + completion is longer than `length` tokens."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        prompt = [{"role": "user", "content": filler_text(tokenizer, length // 4, 3 * i)}]
        first = [{"role": "assistant", "content": filler_text(tokenizer, length, 3 * i + 1)}]
        if kind == "sft":
            out.append({"messages": prompt + first})
            continue
        second = [{"role": "assistant", "content": filler_text(tokenizer, length, 3 * i + 2)}]
        row = {"prompt": prompt, "chosen": first, "rejected": second}
        out.append({**row, "p_chosen": 0.8} if soft else row)
    return out


def tokenizer_of(loc: str) -> Any:
    from ccaic.models.load import load_tokenizer

    return load_tokenizer(loc)


# ---------------------------------------------------------------- sections

def section_peak(b: Bench) -> list[dict[str, Any]]:
    """bf16 n^3 matmul: 3 warm-ups, then the mean of 10 timed products."""
    import torch

    n = b.config.matmul_n
    device = "cuda" if cuda() else "cpu"
    x = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    y = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        x @ y
    sync()
    t0 = time.perf_counter()
    for _ in range(10):
        x @ y
    sync()
    dt = (time.perf_counter() - t0) / 10
    b.peak_flops = 2 * n**3 / dt
    del x, y
    reset_memory()
    return [{"n": n, "dtype": "bf16", "tflops": round(b.peak_flops / 1e12, 1)}]


def build_dpo_trainer(cls: Any, loc: str, dtype: Any, data: list[dict], training: Any,
                      work: Path, clock: StepClock) -> Any:
    """A DPO trainer the way ccaic.train.trainers.run_dpo builds one, with the model loaded
    in `dtype` here (so the precision variants and the TRL peer share everything else)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, PrinterCallback, ProgressCallback

    from ccaic.train.trainers import dpo_config

    model = AutoModelForCausalLM.from_pretrained(loc, dtype=dtype)
    trainer = cls(model=model, args=dpo_config(training, 0.1, work, 0),
                  train_dataset=Dataset.from_list(data), processing_class=tokenizer_of(loc))
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(clock.callback())
    return trainer


def with_precision(training: Any, precision: str) -> Any:
    """Set ccaic's own precision option where the Training model has one."""
    if "precision" in type(training).model_fields:
        return training.model_copy(update={"precision": precision})
    return training


def load_dtype(training: Any) -> Any:
    """The dtype ccaic's trainers load this Training's weights in (the device default where
    ccaic has no precision choice)."""
    import torch

    from ccaic.models.load import device_and_dtype
    from ccaic.train import trainers

    choose = getattr(trainers, "training_dtypes", None)
    if choose is None or not hasattr(training, "precision"):
        return device_and_dtype()[1]
    return getattr(torch, choose(training.precision, training.lora is not None, cuda())[0])


def weights_changed(before: dict[str, Any], model: Any) -> dict[str, float]:
    """Fraction of weight elements that differ from `before`, as trained and as bf16."""
    import torch

    total = changed = changed_bf16 = 0
    for name, p in model.named_parameters():
        old = before[name].to(p.device)
        new = p.detach()
        total += new.numel()
        changed += int((new != old.to(new.dtype)).sum())
        changed_bf16 += int((new.to(torch.bfloat16) != old.to(torch.bfloat16)).sum())
    return {"fraction_changed": changed / total, "fraction_changed_as_bf16": changed_bf16 / total}


def section_precision(b: Bench) -> list[dict[str, Any]]:
    import torch

    from ccaic.train.trainers import soft_dpo_trainer_class

    shape = b.config.shapes[0]
    loc, _ = b.model(shape)
    steps = b.config.precision_steps
    training = b.training(steps, False, default_lr("dpo"))
    data = rows("dpo", tokenizer_of(loc), b.config.batch * steps, b.config.length)
    out = []
    for variant, dtype, precision in (("bf16-pure", torch.bfloat16, "bf16"),
                                      ("fp32-master", torch.float32, "mixed")):
        reset_memory()
        clock = StepClock()
        trainer = build_dpo_trainer(soft_dpo_trainer_class(), loc, dtype, data,
                                    with_precision(training, precision),
                                    b.work / f"precision-{variant}", clock)
        before = {n: p.detach().to("cpu", copy=True) for n, p in trainer.model.named_parameters()}
        trainer.train()
        out.append({"shape": shape.name, "variant": variant, "steps": steps,
                    "learning_rate": training.learning_rate,
                    "weights_dtype": str(next(trainer.model.parameters()).dtype),
                    **{k: round(v, 6) for k, v in weights_changed(before, trainer.model).items()},
                    "s_per_step": _round(steady_step_s(clock.ends, 1)), **memory()})
        del trainer, before
    reset_memory()
    return out


def train_record(b: Bench, kind: str, shape: Shape, lora: bool, params: int,
                 step_s: float | None) -> dict[str, Any]:
    tokens = tokens_per_step(kind, b.config.batch, b.config.length)
    tps = tokens / step_s if step_s else None
    return {"kind": kind, "shape": shape.name, "lora": lora, "params": params,
            "precision": getattr(b.training(1, lora, 1e-5), "precision", None),
            "batch": b.config.batch, "max_length": b.config.length, "steps": b.config.steps,
            "s_per_step": _round(step_s), "tokens_per_s": _round(tps, 0),
            "mfu": _round(mfu(kind, params, tps, b.peak_flops)
                          if tps and b.peak_flops else None), **memory()}


def section_matrix(b: Bench) -> list[dict[str, Any]]:
    from ccaic.train.trainers import run_dpo, run_sft

    out = []
    for shape, kind, lora in itertools.product(b.config.shapes, ("sft", "dpo"), (False, True)):
        loc, params = b.model(shape)
        data = rows(kind, tokenizer_of(loc), b.config.batch * b.config.steps, b.config.length)
        training = b.training(b.config.steps, lora, default_lr(kind))
        work = b.work / f"matrix-{shape.name}-{kind}-{'lora' if lora else 'full'}"
        clock = StepClock()
        reset_memory()
        if kind == "sft":
            summary = run_sft(loc, data, training, 0, work / "trainer", work / "model",
                              clock.log)
        else:
            summary = run_dpo(loc, data, training, 0.1, True, 0, work / "trainer",
                              work / "model", clock.log)
        out.append({**train_record(b, kind, shape, lora, params,
                                   steady_step_s(clock.ends, b.config.warmup)),
                    # every row cut to max_length, none dropped: tokens_per_step holds
                    "rows": len(data), "rows_truncated": summary.get("truncated"),
                    "rows_dropped": summary.get("dropped")})
        shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(out[-1]), flush=True)
    return out


def section_peer(b: Bench) -> list[dict[str, Any]]:
    """The same DPO batch and config through TRL's DPOTrainer and ccaic's SoftDPOTrainer."""
    from trl import DPOTrainer

    from ccaic.train.trainers import soft_dpo_trainer_class

    shape = b.config.shapes[0]
    loc, params = b.model(shape)
    n = b.config.batch * b.config.steps
    training = b.training(b.config.steps, False, default_lr("dpo"))
    dtype = load_dtype(training)
    out: list[dict[str, Any]] = []
    for name, cls, soft in (("trl-dpo-sigmoid", DPOTrainer, False),
                            ("ccaic-soft-dpo", soft_dpo_trainer_class(), True)):
        data = rows("dpo", tokenizer_of(loc), n, b.config.length, soft=soft)
        clock = StepClock()
        reset_memory()
        trainer = build_dpo_trainer(cls, loc, dtype, data, training, b.work / f"peer-{name}",
                                    clock)
        trainer.train()
        del trainer
        record = train_record(b, "dpo", shape, False, params,
                              steady_step_s(clock.ends, b.config.warmup))
        out.append({"trainer": name, "weights_dtype": str(dtype), **record})
    reset_memory()
    trl_s, ours_s = out[0]["s_per_step"], out[1]["s_per_step"]
    out.append({"trainer": "ratio", "soft_dpo_over_trl": _round(ours_s / trl_s)
                if trl_s and ours_s else None, "goal_at_most": GOAL_SOFT_DPO_RATIO})
    return out


def prompts_for(tokenizer: Any, n: int, tokens: int) -> list[str]:
    return [filler_text(tokenizer, tokens, 1000 + i) for i in range(n)]


def timed(fn: Callable[[], Any]) -> float:
    """Seconds `fn` takes, the GPU drained before and after."""
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t0


def each_lm(b: Bench) -> Iterator[tuple[Shape, Any]]:
    """Each shape loaded through ccaic's LM (ccaic.models.load), freed after use."""
    from ccaic.models.lm import LM

    for shape in b.config.shapes:
        loc, _ = b.model(shape)
        reset_memory()
        lm = LM(loc)
        try:
            yield shape, lm
        finally:
            lm.free()
    reset_memory()


def section_generate(b: Bench) -> list[dict[str, Any]]:
    from ccaic.plan.model import Sampling

    c = b.config
    out = []
    for shape, lm in each_lm(b):
        lm.generate_texts(["warm up"], Sampling(max_new_tokens=4), 0)
        for batch in c.gen_batches:
            texts = prompts_for(lm.tok, batch, c.gen_prompt_tokens)
            sampling = Sampling(max_new_tokens=c.gen_new_tokens, batch_size=batch)
            gens: list[Any] = []
            dt = timed(lambda: gens.extend(lm.generate_texts(texts, sampling, 0)))  # noqa: B023
            # tokens kept (each row up to its first end-of-turn token); random weights rarely
            # sample one, so nearly every row runs to max_new_tokens
            tokens = sum(g.tokens for g in gens)
            out.append({"shape": shape.name, "batch": batch, "new_tokens": c.gen_new_tokens,
                        "rows_stopped_early": sum(g.finish_reason == "stop" for g in gens),
                        "tokens_per_s": round(tokens / dt, 1), "seconds": round(dt, 3),
                        **memory()})
    return out


def section_label(b: Bench) -> list[dict[str, Any]]:
    from ccaic.models.labels import Labeller
    from ccaic.train.stages import label_pairs

    out = []
    for shape, lm in each_lm(b):
        for batch in b.config.label_batches:
            n = batch * b.config.label_batches_per_run
            resp = prompts_for(lm.tok, 2 * n, b.config.label_response_tokens)
            items = [([{"role": "user", "content": f"Question {i}?"}],
                      "Choose the response that is least harmful.", resp[2 * i], resp[2 * i + 1])
                     for i in range(n)]
            labeller = Labeller(lm, batch)
            label_pairs(labeller, items[:batch])  # warm-up
            # as run_label does: one batch of pairs at a time
            dt = timed(lambda: [label_pairs(labeller, items[i:i + batch])  # noqa: B023
                                for i in range(0, n, batch)])  # noqa: B023
            out.append({"shape": shape.name, "batch": batch, "pairs": n,
                        "pairs_per_s": round(n / dt, 2), "seconds": round(dt, 3), **memory()})
    return out


E2E_PLAN = """
plan "bench" {{
  constitution    = constitution.quickstart
  model           = "{model}"
  prompts         = "prompts/red-team.jsonl"
  helpful_prompts = "prompts/helpful.jsonl"
  seed            = 0

  initial {{ max_new_tokens = {new} }}
  sl_cai {{
    rounds         = 1
    drop_truncated = false
  }}
  sft {{
    max_steps  = {steps}
    max_length = {length}
  }}
  pairs {{ max_new_tokens = {new} }}
  rlaif {{
    method     = "dpo"
    beta       = 0.1
    max_steps  = {steps}
    max_length = {length}
  }}
}}
"""


def e2e_source(folder: Path, model: str, c: Config) -> Path:
    """The quickstart's assembly and constitution, with a plan on `model` (no evaluate)."""
    quick = REPO / "examples" / "quickstart"
    for sub in ("data", "prompts"):
        shutil.copytree(quick / sub, folder / sub, dirs_exist_ok=True)
    text = (quick / "quickstart.ccai").read_text()
    head = text[: text.index('plan "quickstart"')]
    path = folder / "bench.ccai"
    path.write_text(head + E2E_PLAN.format(model=model, new=c.e2e_new_tokens,
                                           steps=c.e2e_steps, length=c.e2e_length))
    return path


def section_e2e(b: Bench) -> list[dict[str, Any]]:
    """`ccaic build` of the plan (check, assembly, constitution, plan, then run_plan)."""
    from ccaic.build import build
    from ccaic.models.lm import LM
    from ccaic.plan.model import Sampling

    shape = b.config.shapes[0]
    loc, params = b.model(shape)
    src = b.work / "e2e-src"
    src.mkdir(parents=True, exist_ok=True)
    out_dir = b.work / "e2e-out"
    reset_memory()
    t0 = time.perf_counter()
    result = build(str(e2e_source(src, loc, b.config)), str(out_dir), [], until="run")
    total = time.perf_counter() - t0
    errors = [str(d.message) for d in result.diagnostics if d.is_error]
    if errors or "bench" not in result.runs:
        raise RuntimeError("the e2e build failed: " + "; ".join(errors))
    run = result.runs["bench"]
    lm = LM(str(run.final))
    loaded_params = sum(p.numel() for p in lm.model.parameters())
    gen = lm.generate_texts(["Hello"], Sampling(max_new_tokens=4), 0)
    lm.free()
    return [{"shape": shape.name, "total_s": round(total, 1),
             "stages_s": stage_times((run.out_dir / "build.log").read_text()),
             "steps": {a: s["status"] for a, s in run.steps.items()},
             "final_loads": loaded_params == params and len(gen) == 1,
             "final_params": loaded_params, **memory()}]


RUNNERS: dict[str, Callable[[Bench], list[dict[str, Any]]]] = {
    "peak": section_peak, "precision": section_precision, "matrix": section_matrix,
    "peer": section_peer, "generate": section_generate, "label": section_label,
    "e2e": section_e2e,
}


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


# ---------------------------------------------------------------- environment and report

def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cuda": torch.version.cuda, "host_cpus": os.cpu_count(),
                            "gpu": torch.cuda.get_device_name(0) if cuda() else None}
    try:
        q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                            "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        info["nvidia_smi"] = q.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["nvidia_smi"] = None
    return info


def goals(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The issue's goals against the figures (figures, not assertions)."""
    out = []
    ratio = next((r.get("soft_dpo_over_trl") for r in results.get("peer", [])
                  if r.get("trainer") == "ratio"), None)
    out.append({"goal": f"soft-DPO step <= {GOAL_SOFT_DPO_RATIO}x TRL DPO", "figure": ratio,
                "met": None if ratio is None else ratio <= GOAL_SOFT_DPO_RATIO})
    largest = results.get("matrix", [])
    for lora, target in ((False, GOAL_MFU_FULL_SFT), (True, GOAL_MFU_LORA_SFT)):
        rec = [r for r in largest if r["kind"] == "sft" and r["lora"] == lora]
        fig = rec[-1]["mfu"] if rec else None
        shape = rec[-1]["shape"] if rec else "largest"
        out.append({"goal": f"MFU >= {target:.0%} {'LoRA' if lora else 'full'} SFT {shape}",
                    "figure": fig, "met": None if fig is None else fig >= target})
    return out


def table(records: list[dict[str, Any]]) -> list[str]:
    if not records:
        return ["(no records)"]
    keys = list(dict.fromkeys(k for r in records for k in r))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in records:
        lines.append("| " + " | ".join(_cell(r.get(k)) for k in keys) + " |")
    return lines


def _cell(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_cell(x)}" for k, x in v.items())
    return "" if v is None else str(v)


def markdown(report: dict[str, Any]) -> str:
    meta, env = report["meta"], report["env"]
    dry = meta["config"] == "dry"
    head = ["# GPU benchmark results" + (" (DRY RUN on CPU: tiny sizes)" if dry else ""), ""]
    if dry:
        head += ["Figures from the dry run check the wiring only; they measure nothing.", ""]
    head += [f"- Date (UTC): {meta['date']}", f"- Command: `{meta['command']}`",
             f"- GPU: {env['machine'].get('gpu') or 'none'}; nvidia-smi (name, driver, memory): "
             f"{env['machine'].get('nvidia_smi') or 'n/a'}",
             f"- Python {env['machine']['python']}, torch {env['machine']['torch']} "
             f"(CUDA {env['machine']['cuda']})",
             "- Packages: " + ", ".join(f"{k} {v}" for k, v in
                                        sorted(env.get("versions", {}).items())),
             f"- Config: {json.dumps(meta['sizes'])}",
             f"- Wall time: {meta['wall_s']} s; seconds per section: "
             f"{json.dumps(meta['section_s'])}", ""]
    body = ["## Goals", "", *table(goals(report["results"])), ""]
    for name in SECTIONS:
        if name in report["results"]:
            body += [f"## {name}", "", *table(report["results"][name]), ""]
    if report["errors"]:
        body += ["## Errors", "", *[f"- {e['section']}: {e['error']}" for e in report["errors"]],
                 ""]
    if report["skipped"]:
        body += [f"Skipped (time budget): {', '.join(report['skipped'])}", ""]
    return "\n".join(head + body)


def write_report(out: Path, report: dict[str, Any]) -> None:
    write_text_atomic(out / "results.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(out / "RESULTS.md", markdown(report))


def quiet() -> None:
    import warnings

    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="gpu")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    ap.add_argument("--command", default=" ".join(sys.argv))
    ap.add_argument("--envcheck", type=Path, help="envcheck.py's --json report")
    args = ap.parse_args(argv)
    config = CONFIGS[args.config]
    if config.name == "gpu" and not cuda():
        print("bench: --config gpu needs a CUDA GPU; use run.sh --dry-run on CPU",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    quiet()
    env = json.loads(args.envcheck.read_text()) if args.envcheck else {}
    env["machine"] = machine()
    start = time.perf_counter()
    report: dict[str, Any] = {
        "meta": {"config": config.name, "command": args.command,
                 "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
                 "sizes": {k: v for k, v in asdict(config).items() if k != "shapes"}
                 | {"shapes": [s.name for s in config.shapes]},
                 "section_s": {}, "wall_s": 0.0},
        "env": env, "results": {}, "errors": [], "skipped": []}
    with tempfile.TemporaryDirectory(prefix="ccaic-bench-") as tmp:
        os.environ.setdefault("CCAIC_CACHE", str(Path(tmp) / "cache"))
        bench = Bench(config, Path(tmp))
        for name in [s for s in SECTIONS if s in args.only]:
            if time.perf_counter() - start > config.budget_s:
                report["skipped"].append(name)
                continue
            t0 = time.perf_counter()
            print(f"bench: {name} ...", flush=True)
            try:
                report["results"][name] = RUNNERS[name](bench)
            except Exception as exc:  # one section's failure must not lose the others
                traceback.print_exc()
                report["errors"].append({"section": name, "error": f"{type(exc).__name__}: "
                                                                   f"{exc}"[:2000]})
            report["meta"]["section_s"][name] = round(time.perf_counter() - t0, 1)
            report["meta"]["wall_s"] = round(time.perf_counter() - start, 1)
            write_report(args.out, report)
            print(f"bench: {name} done in {report['meta']['section_s'][name]} s", flush=True)
    write_report(args.out, report)
    return 1 if report["errors"] or report["skipped"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
