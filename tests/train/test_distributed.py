"""The same plan under `accelerate launch` with 2 CPU processes (gloo DDP), against 1 process.

Generation is sharded by batch and every batch's seed depends on its index only, so the
datasets 2 processes write are byte-identical to a single process's. DDP training changes the
global batch, so trained weights (and the pairs sampled from them) legitimately differ; the
second launch therefore starts from the single-process run's committed SFT stage to compare
pairs and labels too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("accelerate")

REPO = Path(__file__).resolve().parents[2]

RUNNER = """\
import sys
import time
from ccaic.build import run_until
from ccaic.train.runner import run_plan
run_plan(run_until("plan", sys.argv[1], None, data=False).plans[0], sys.argv[2])
"""


IGNORE_WORLD_IN_KEYS = """\
import ccaic.train.steps.base as steps
_key = steps.content_key
steps.content_key = lambda inputs: _key({k: v for k, v in inputs.items() if k != "world"})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch_cmd(script: Path, src: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    """`accelerate launch --config_file examples/accelerate/cpu.yaml`: 2 processes through
    accelerate's torchrun launcher; with no CUDA the ranks join a gloo group (`--cpu
    --num_processes 2` would start a single process)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           "CCAIC_GENERATION_BACKEND": "transformers"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(REPO / "examples" / "accelerate" / "cpu.yaml"), "--dynamo_backend", "no",
           "--main_process_port", str(_free_port()), str(script), str(src), str(out)]
    return cmd, env


def _launch(script: Path, src: Path, out: Path) -> None:
    cmd, env = _launch_cmd(script, src, out)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]


def _ddp_plan(src: Path, max_sft_steps: bool = True) -> Path:
    """The plan with total_batch_size 8 in both trainer stages: batch_size 4 per device
    accumulates 2 micro-batches on one process and 1 on each of two (4 alone cannot be split
    over 2 processes: CCAI521)."""
    text = src.read_text()
    for line in ("    batch_size    = 4\n", "    batch_size = 4\n"):  # sft, rlaif
        text = text.replace(line, line + "    total_batch_size = 8\n")
    if not max_sft_steps:
        text = text.replace("    max_steps     = 2\n", "")
    assert text.count("total_batch_size = 8") == 2
    src.write_text(text)
    return src


def _stage_file(out: Path, stage: str, name: str) -> bytes:
    (folder,) = list((out / "stages").glob(f"{stage}-*"))
    return (folder / name).read_bytes()


@pytest.mark.slow
def test_two_processes_write_the_same_datasets_as_one(tiny_cache: Path, tmp_path: Path,
                                                      plan_files) -> None:
    write_plan, compiled = plan_files
    from ccaic.train.runner import run_plan

    # 5 initial batches: ranks share
    src = _ddp_plan(write_plan(tmp_path / "src", n_red=8, batch=2))
    single = tmp_path / "single"
    run_plan(compiled(src), single)
    script = tmp_path / "run.py"
    script.write_text(RUNNER)

    # 1. from scratch: generation sharded, SFT and DPO under DDP, rank 0 writes
    out = tmp_path / "two"
    _launch(script, src, out)
    for stage, name in (("initial", "responses.jsonl"), ("sl_cai", "revisions.jsonl"),
                        ("sft_data", "sft.jsonl"), ("initial", "manifest.json"),
                        ("sl_cai", "manifest.json")):
        assert _stage_file(out, stage, name) == _stage_file(single, stage, name), (stage, name)
    assert (out / "final" / "model.safetensors").is_file()
    assert not list(out.glob("stages/*/model.raw")) and not list(out.glob("stages/*/parts"))
    assert not list(out.glob("stages/*/model/training_args.bin"))
    log = (out / "build.log").read_text()
    assert "world=2" in log and log.count("initial: running") == 1, log  # one writer
    assert log.count("done in") == 7

    # 2. from the single run's SFT model: pairs and AI labels byte-identical too (training
    # keys hold the world size, so this launch is told to ignore it and reuse that model)
    out2 = tmp_path / "two-from-sft"
    (out2 / "stages").mkdir(parents=True)
    for stage in ("initial", "sl_cai", "sft_data", "sft"):
        (folder,) = list((single / "stages").glob(f"{stage}-*"))
        shutil.copytree(folder, out2 / "stages" / folder.name)
    reuse = tmp_path / "run_reusing_single_sft.py"
    reuse.write_text(IGNORE_WORLD_IN_KEYS + RUNNER)
    _launch(reuse, src, out2)
    for stage, name in (("pairs", "pairs.jsonl"), ("label", "pairs_labelled.jsonl"),
                        ("dpo", "pairs.jsonl")):
        assert _stage_file(out2, stage, name) == _stage_file(single, stage, name), (stage, name)
    log2 = (out2 / "build.log").read_text()
    assert "sft: cached" in log2 and "pairs: running" in log2
    assert (out2 / "run.json").is_file() and (out2 / "final" / "plan.json").is_file()


@pytest.mark.slow
def test_two_processes_train_lora_and_save_one_merged_model(tiny_cache: Path, tmp_path: Path,
                                                            plan_files) -> None:
    write_plan, _ = plan_files
    src = _ddp_plan(write_plan(tmp_path / "src"))
    lora = "    lora {\n      r = 4\n      alpha = 8\n    }\n"
    text = src.read_text()
    text = text.replace("    save_steps    = 1\n  }", "    save_steps    = 1\n" + lora + "  }")
    text = text.replace("    beta       = 0.1\n  }", "    beta       = 0.1\n" + lora + "  }")
    assert text.count("lora {") == 2
    src.write_text(text)
    script = tmp_path / "run.py"
    script.write_text(RUNNER)
    out = tmp_path / "two"
    _launch(script, src, out)
    from safetensors.torch import load_file

    from ccaic.models.tiny import tiny_path

    base = load_file(str(Path(str(tiny_path(1))) / "model.safetensors"))
    for stage in ("sft", "dpo"):
        (model,) = list(out.glob(f"stages/{stage}-*/model"))
        assert (model / "adapter" / "adapter_config.json").is_file()
        merged = load_file(str(model / "model.safetensors"))
        assert sorted(merged) == sorted(base)  # adapters merged: plain weights, no lora_ keys
    assert (out / "final" / "model.safetensors").is_file()


@pytest.mark.slow
def test_two_processes_killed_mid_training_resume_to_the_same_model(
        tiny_cache: Path, tmp_path: Path, plan_files) -> None:
    """kill -9 of the launcher and both workers mid-SFT, then a rerun: the same weights and
    datasets as an uninterrupted 2-process run (DDP on gloo is deterministic)."""
    psutil = pytest.importorskip("psutil")
    write_plan, _ = plan_files
    src = _ddp_plan(write_plan(tmp_path / "src", n_red=12, batch=1, sft_steps=40))
    script = tmp_path / "run.py"
    script.write_text(RUNNER)
    reference = tmp_path / "reference"
    _launch(script, src, reference)

    out = tmp_path / "killed"
    cmd, env = _launch_cmd(script, src, out)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not list(out.glob("stages/sft-*/checkpoints/checkpoint-3/trainer_state.json")):
            assert proc.poll() is None, "the run finished before SFT checkpoint 3"
            assert time.time() < deadline, "SFT checkpoint 3 never appeared"
            time.sleep(0.01)
        family = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
        for pid in family:  # torchrun's workers outlive a killed launcher: kill them too
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.5)
    assert not list(out.glob("stages/sft-*/manifest.json"))
    _launch(script, src, out)
    assert "sft: resuming from the last trainer checkpoint" in (out / "build.log").read_text()
    for stage, name in (("sft", "model/model.safetensors"), ("pairs", "pairs.jsonl"),
                        ("label", "pairs_labelled.jsonl"), ("dpo", "model/model.safetensors")):
        assert _stage_file(out, stage, name) == _stage_file(reference, stage, name), stage


UNTIL_SFT = RUNNER.replace("run_plan(plans[0], sys.argv[2])",
                           "run_plan(plans[0], sys.argv[2], until='sft')")


@pytest.mark.slow
def test_total_batch_size_is_the_same_under_one_and_two_processes(
        tiny_cache: Path, tmp_path: Path, plan_files) -> None:
    """16 SFT rows, total_batch_size 8, one epoch: 2 optimiser steps of 8 examples on one
    process and on two. Before: gradient accumulation ignored the world size, so 2 processes
    took 16 examples a step and trained half the steps."""
    write_plan, compiled = plan_files
    from ccaic.train.runner import run_plan

    src = _ddp_plan(write_plan(tmp_path / "src", n_red=14, batch=7), max_sft_steps=False)
    single = tmp_path / "single"
    run_plan(compiled(src), single, until="sft")
    script = tmp_path / "run.py"
    script.write_text(UNTIL_SFT)
    two = tmp_path / "two"
    _launch(script, src, two)
    histories = [[json.loads(x) for x in _stage_file(out, "sft", "log_history.jsonl").decode()
                  .splitlines()] for out in (single, two)]
    rows = _stage_file(single, "sft_data", "sft.jsonl").decode().count("\n")
    assert rows == 16, "every revision kept: 14 red-team rows and 2 helpful"
    steps = [[(r["step"], r["epoch"]) for r in h] for h in histories]
    assert steps == [[(1, 0.5), (2, 1.0)]] * 2
