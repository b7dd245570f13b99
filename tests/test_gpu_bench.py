"""bench/gpu: the CPU dry run of the GPU benchmark end to end, and its pure parts."""

from __future__ import annotations

import importlib.util
import json
import os
import string
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]
GPU = REPO / "bench" / "gpu"


def _load(name: str) -> ModuleType:
    if str(GPU) not in sys.path:
        sys.path.insert(0, str(GPU))
    spec = importlib.util.spec_from_file_location(name, GPU / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


envcheck = _load("envcheck")


def _run_sh(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(GPU / "run.sh"), *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable, **env}, timeout=600)


# ------------------------------------------------------------------ the dry run


@pytest.fixture(scope="module")
def dry(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    out = tmp_path_factory.mktemp("gpu-dry")
    return _run_sh("--dry-run", str(out), CCAIC_CACHE=str(out / "cache")), out


def test_dry_run_runs_every_section(dry: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, out = dry
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "results.json").read_text())
    assert report["errors"] == [] and report["skipped"] == []
    assert list(report["results"]) == ["peak", "precision", "matrix", "peer", "generate",
                                       "label", "e2e"]
    assert report["env"]["ok"] and report["env"]["machine"]["gpu"] is None
    assert report["meta"]["command"] == f"bash bench/gpu/run.sh --dry-run {out}"
    assert (out / "bench.log").read_text().count("done in") == 7


def test_dry_run_figures(dry: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    res = json.loads((dry[1] / "results.json").read_text())["results"]
    assert res["peak"][0]["tflops"] > 0
    matrix = res["matrix"]
    assert [(r["kind"], r["lora"]) for r in matrix] == [("sft", False), ("sft", True),
                                                        ("dpo", False), ("dpo", True)]
    for r in matrix:
        assert r["s_per_step"] > 0 and r["tokens_per_s"] > 0 and r["mfu"] > 0
        if r["rows_truncated"] is not None:  # ccaic reports what the trainer cut
            assert (r["rows_truncated"], r["rows_dropped"]) == (r["rows"], 0)
    trl, ours, ratio = res["peer"]
    assert (trl["trainer"], ours["trainer"]) == ("trl-dpo-sigmoid", "ccaic-soft-dpo")
    assert ratio["soft_dpo_over_trl"] == pytest.approx(ours["s_per_step"] / trl["s_per_step"],
                                                       rel=1e-2)
    pure, master = res["precision"]
    # 5e-7 steps mostly round away in bf16 weights; fp32 master weights all move
    assert pure["weights_dtype"] == "torch.bfloat16" and master["weights_dtype"] == "torch.float32"
    assert pure["fraction_changed"] < 0.5 < master["fraction_changed"]
    assert master["fraction_changed_as_bf16"] < master["fraction_changed"]
    assert [r["batch"] for r in res["generate"]] == [2, 4]
    assert all(r["tokens_per_s"] > 0 for r in res["generate"])
    assert [r["batch"] for r in res["label"]] == [2, 4]
    assert all(r["pairs_per_s"] > 0 for r in res["label"])
    e2e = res["e2e"][0]
    assert e2e["final_loads"] and set(e2e["steps"].values()) == {"ran"}
    assert set(e2e["stages_s"]) == {"initial", "sl_cai", "sft_data", "sft", "pairs", "label",
                                    "dpo"}


def test_dry_run_markdown(dry: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    text = (dry[1] / "RESULTS.md").read_text()
    assert text.startswith("# GPU benchmark results (DRY RUN on CPU: tiny sizes)")
    for needle in ("- Date (UTC): ", "- Command: `bash bench/gpu/run.sh --dry-run ",
                   "- GPU: none", "trl 1.16", "## Goals", "soft-DPO step <= 1.1x TRL DPO",
                   "## matrix", "## e2e"):
        assert needle in text, needle


# ------------------------------------------------------------------ run.sh refusals


def test_run_sh_needs_an_out_dir() -> None:
    proc = _run_sh()
    assert proc.returncode == 2 and "usage: bash bench/gpu/run.sh" in proc.stderr


def test_run_sh_without_wheels_stops_before_any_work(tmp_path: Path) -> None:
    proc = _run_sh(str(tmp_path / "out"), CCAIC_BENCH_WHEELS=str(tmp_path / "none"))
    assert proc.returncode == 2
    assert "no wheels in" in proc.stderr and "fetch_wheels.sh" in proc.stderr
    assert not (tmp_path / "out" / "results.json").exists()


# ------------------------------------------------------------------ envcheck


def test_wheel_list_pins_one_version_of_each() -> None:
    lines = [ln.split("#")[0].split() for ln in (GPU / "wheels.txt").read_text().splitlines()]
    specs = [ln for ln in lines if ln]
    assert all(s[0].count("==") == 1 and s[1:] in ([], ["binary"]) for s in specs)
    pins = envcheck.read_pins(GPU / "wheels.txt")
    assert len(pins) == len(specs)
    assert {"trl", "datasets", "pydantic", "pydantic-core", "lark"} <= set(pins)
    assert not {"torch", "transformers", "accelerate", "peft", "pandas"} & set(pins)


def test_check_pins_and_requirements() -> None:
    installed = {"datasets": "5.0.1", "pyarrow": "20.0.0", "trl": "1.16.0"}
    assert envcheck.check_pins({"datasets": "5.0.1", "trl": "1.17.0", "lark": "1.3.1"},
                               installed.get) == [
        "lark: pinned 1.3.1, installed nothing", "trl: pinned 1.17.0, installed 1.16.0"]
    reqs = ["pyarrow>=21.0.0", "dill<0.4.2,>=0.3.0", "tomli; python_version < '3.0'",
            "pytest; extra == 'dev'"]
    assert envcheck.check_requirements("datasets", reqs, installed.get) == [
        "datasets needs pyarrow>=21.0.0: 20.0.0 installed",
        "datasets needs dill<0.4.2,>=0.3.0: not installed"]


def test_ccaic_requirements_are_read_from_pyproject() -> None:
    reqs = envcheck.ccaic_requirements(REPO / "pyproject.toml")
    names = {r.split(">")[0].split("=")[0] for r in reqs}
    assert {"pydantic", "lark", "trl", "datasets", "torch"} <= names


# ------------------------------------------------------------------ pure bench arithmetic


@pytest.fixture(scope="module")
def gpubench() -> ModuleType:
    pytest.importorskip("torch")
    return _load("gpubench")


def test_steady_step_time_drops_warmup(gpubench: ModuleType) -> None:
    ends = [10.0, 13.0, 14.0, 15.5, 16.5]  # steps 2..5 took 3, 1, 1.5, 1 s
    assert gpubench.steady_step_s(ends, 2) == pytest.approx((1 + 1.5 + 1) / 3)
    assert gpubench.steady_step_s(ends, 1) == pytest.approx((3 + 1 + 1.5 + 1) / 4)
    assert gpubench.steady_step_s(ends[:2], 2) is None


def test_mfu_arithmetic(gpubench: ModuleType) -> None:
    assert gpubench.flops_per_token("sft", 10) == 60
    assert gpubench.flops_per_token("dpo", 10) == 80
    assert gpubench.mfu("sft", 5 * 10**8, 10**5, 1e15) == pytest.approx(0.3)
    assert gpubench.tokens_per_step("dpo", 8, 1024) == 2 * gpubench.tokens_per_step("sft", 8,
                                                                                     1024)


def test_step_log_lines(gpubench: ModuleType) -> None:
    assert gpubench.is_step_log("  step 3: epoch=1, grad_norm=0.5, learning_rate=5e-07, loss=0.69")
    assert not gpubench.is_step_log("  step 6: train_loss=0.69, train_runtime=3.2")
    assert not gpubench.is_step_log("sft: resuming from the last trainer checkpoint")


def test_stage_times_from_build_log(gpubench: ModuleType) -> None:
    log = ("2026-12-01 run plan.bench until=final\ninitial: running (initial-ab)\n"
           'initial: done in 1.5s counts={"rows": 12}\nsft: done in 20.0s counts={}\n')
    assert gpubench.stage_times(log) == {"initial": 1.5, "sft": 20.0}


def test_goals_read_the_largest_sft_runs(gpubench: ModuleType) -> None:
    matrix = [{"kind": "sft", "lora": False, "shape": "a", "mfu": 0.5},
              {"kind": "sft", "lora": False, "shape": "b", "mfu": 0.3},
              {"kind": "sft", "lora": True, "shape": "b", "mfu": 0.26}]
    peer = [{"trainer": "ratio", "soft_dpo_over_trl": 1.2}]
    got = gpubench.goals({"matrix": matrix, "peer": peer})
    assert [(g["figure"], g["met"]) for g in got] == [(1.2, False), (0.3, False), (0.26, True)]
    assert got[1]["goal"] == "MFU >= 35% full SFT b"


# ------------------------------------------------------------------ the local tokenizer


@pytest.fixture(scope="module")
def small_tokenizer() -> Any:
    pytest.importorskip("tokenizers")
    return _load("gpumodels").build_tokenizer(4096)


def test_tokenizer_has_the_asked_vocabulary(small_tokenizer: Any) -> None:
    assert len(small_tokenizer) == 4096
    ids = small_tokenizer("Hello there, how are you?", add_special_tokens=False)["input_ids"]
    assert len(ids) < 20  # merges apply: fewer tokens than characters
    assert all(isinstance(small_tokenizer.decode([i]), str) for i in range(4096))


def test_full_size_merges_exist() -> None:
    gpumodels = _load("gpumodels")
    from ccaic.models.tiny import vocabulary

    base = vocabulary()
    rules = gpumodels.merges(base[4:], gpumodels.QWEN25_05B.vocab_size - len(base))
    assert len({a + b for a, b in rules}) == len(rules) == 151936 - len(base)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,?!'-\n", max_size=80))
def test_tokenizer_round_trips_text(small_tokenizer: Any, text: str) -> None:
    ids = small_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert small_tokenizer.decode(ids) == text


def test_strict_check_fails_on_a_pin_the_dry_run_only_notes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pins = envcheck.read_pins(GPU / "wheels.txt")
    real = envcheck.installed_version
    fake = {**pins, "datasets": "5.2.0"}
    monkeypatch.setattr(envcheck, "installed_version", lambda n: fake.get(n) or real(n))
    monkeypatch.setattr(envcheck.metadata, "requires", lambda name: [])
    assert envcheck.main(["--json", str(tmp_path / "a.json")]) == 0
    assert envcheck.main(["--strict", "--json", str(tmp_path / "b.json")]) == 2
    report = json.loads((tmp_path / "b.json").read_text())
    assert report["problems"]["pins"] == ["datasets: pinned 5.0.1, installed 5.2.0"]
    assert not report["ok"] and json.loads((tmp_path / "a.json").read_text())["ok"]
