"""The whole plan on CPU with builtin:tiny: end to end, cache, determinism, resume after kill -9."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kills import kill_when, resumed_batches, run_plan_argv

pytest.importorskip("torch")
pytest.importorskip("trl")


def _files(out: Path) -> dict[str, bytes]:
    """Every dataset and model file under stages/ and final/ (logs and checkpoints excluded)."""
    found = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and (rel.startswith(("stages/", "final/")) or rel == "plan.json") \
                and "/checkpoints/" not in rel:
            found[rel] = p.read_bytes()
    return found


def test_whole_plan_end_to_end_and_cache(tiny_cache: Path, tmp_path: Path, plan_files) -> None:
    write_plan, compiled = plan_files
    from ccaic.store import read_jsonl
    from ccaic.train.runner import run_plan

    plan = compiled(write_plan(tmp_path / "src"))
    out = tmp_path / "out"
    t0 = time.perf_counter()
    result = run_plan(plan, out)
    elapsed = time.perf_counter() - t0
    assert all(s["status"] == "ran" for s in result.steps.values()), result.steps
    assert elapsed < 120
    final = out / "final"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "plan.json",
                 "constitution.json"):
        assert (final / name).is_file(), name
    assert (final / "plan.json").read_text() == (out / "plan.json").read_text()
    sl = next((out / "stages").glob("sl_cai-*"))
    revisions = read_jsonl(sl / "revisions.jsonl")
    assert len(revisions) == 8 and all(len(r["rounds"]) == 2 for r in revisions)
    manifest = json.loads((sl / "manifest.json").read_text())
    assert set(manifest["counts"]["dropped"]) == {"empty", "truncated", "unchanged", "role_tag"}
    sft = read_jsonl(next((out / "stages").glob("sft_data-*")) / "sft.jsonl")
    assert {r["source"] for r in sft} == {"red_team", "helpful"}
    assert all(r["messages"][-1]["role"] == "assistant" for r in sft)
    labels = read_jsonl(next((out / "stages").glob("label-*")) / "pairs_labelled.jsonl")
    assert labels and all(0.5 <= r["p_chosen"] <= 1.0 for r in labels)
    # red-team pairs are judged by the constitution, helpfulness pairs by helpfulness
    assert all(r["principle_id"] in (("helpful:0",) if r["set"] == "helpful" else
                                     ("harm", "honest")) for r in labels)
    assert (out / "build.log").read_text().count("done in") == 7
    # a second run re-uses everything
    again = run_plan(plan, out)
    assert all(s["status"] == "cached" for s in again.steps.values()), again.steps
    # changing only DPO's beta re-runs only DPO and the final copy
    plan2 = compiled(write_plan(tmp_path / "src", beta=0.2))
    third = run_plan(plan2, out)
    assert third.ran == ["step.dpo", "step.final"], third.steps
    # --until stops early
    partial = run_plan(plan, tmp_path / "out-until", until="step.sl_cai.revision")
    assert partial.stopped_after == "sl_cai" and "step.sft" not in partial.steps


def test_same_seed_gives_byte_identical_outputs(tiny_cache: Path, tmp_path: Path,
                                                plan_files) -> None:
    write_plan, compiled = plan_files
    from ccaic.train.runner import run_plan

    a = compiled(write_plan(tmp_path / "a"))
    b = compiled(write_plan(tmp_path / "b"))
    run_plan(a, tmp_path / "out-a")
    run_plan(b, tmp_path / "out-b")
    fa, fb = _files(tmp_path / "out-a"), _files(tmp_path / "out-b")
    assert fa.keys() == fb.keys()
    assert [k for k in fa if fa[k] != fb[k]] == []


@pytest.mark.slow
def test_resume_after_kill_equals_uninterrupted_run(tiny_cache: Path, tmp_path: Path,
                                                    plan_files) -> None:
    write_plan, compiled = plan_files
    from ccaic.train.runner import run_plan

    src = write_plan(tmp_path / "src", n_red=12, batch=1, sft_steps=6)
    plan = compiled(src)
    reference = tmp_path / "reference"
    run_plan(plan, reference)

    out = tmp_path / "killed"
    # killed mid-generation (critique/revision, after 3 of 12 batches) ...
    kill_when(run_plan_argv(src, out), out, "stages/sl_cai-*/parts/000002.jsonl")
    assert not list(out.glob("stages/sl_cai-*/manifest.json"))
    # ... then mid-training (SFT, after its second checkpoint)
    kill_when(run_plan_argv(src, out), out,
              "stages/sft-*/checkpoints/checkpoint-2/trainer_state.json")
    assert not list(out.glob("stages/sft-*/manifest.json"))
    assert resumed_batches((out / "build.log").read_text(), "sl_cai") >= 3
    result = run_plan(plan, out)
    assert "sft: resuming from the last trainer checkpoint" in (out / "build.log").read_text()
    assert result.steps["step.sl_cai.revision"]["status"] == "cached"
    assert result.steps["step.sft"]["status"] == "ran"
    got, want = _files(out), _files(reference)
    assert got.keys() == want.keys()
    assert [k for k in want if got[k] != want[k]] == []
