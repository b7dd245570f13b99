"""Resuming after kills and full disks: only complete trainer checkpoints are resumed, and the
training history (hence the report) of a resumed build equals an uninterrupted one's."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from ccaic.train.checkpoints import (
    MARKER,
    history_rows,
    last_complete,
    mark_complete,
    set_aside_incomplete,
)


def _checkpoint(work: Path, step: int, complete: bool) -> Path:
    folder = work / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    if complete:
        (folder / "trainer_state.json").write_text("{}")
        mark_complete(folder)
    return folder


def test_only_marked_checkpoints_are_resumed_and_the_rest_set_aside(tmp_path: Path) -> None:
    work = tmp_path / "checkpoints"
    _checkpoint(work, 1, complete=True)
    _checkpoint(work, 2, complete=True)
    _checkpoint(work, 3, complete=False)  # killed mid-save: no trainer_state.json, no marker
    assert last_complete(work) == str(work / "checkpoint-2")
    lines: list[str] = []
    assert set_aside_incomplete(work, lines.append) == ["checkpoint-3"]
    assert sorted(p.name for p in work.iterdir()) == ["checkpoint-1", "checkpoint-2",
                                                       "incomplete"]
    assert lines == ["set aside incomplete trainer checkpoint checkpoint-3 (saved only in "
                     "part; now incomplete/checkpoint-3)"]
    # the same step can fail twice; the second one does not overwrite the first
    _checkpoint(work, 3, complete=False)
    set_aside_incomplete(work, lines.append)
    assert sorted(p.name for p in (work / "incomplete").iterdir()) == ["checkpoint-3",
                                                                        "checkpoint-3.1"]


def test_a_marker_for_another_step_or_without_trainer_state_is_not_complete(tmp_path: Path
                                                                            ) -> None:
    work = tmp_path / "checkpoints"
    moved = _checkpoint(work, 4, complete=True)
    (moved / MARKER).write_text(json.dumps({"step": 3}))  # e.g. a folder copied by hand
    other = _checkpoint(work, 5, complete=True)
    (other / "trainer_state.json").unlink()
    assert last_complete(work) is None
    assert last_complete(tmp_path / "absent") is None


def test_history_keeps_per_step_values_and_drops_timings() -> None:
    log = [{"loss": 1.5, "grad_norm": 2.0, "learning_rate": 1e-3, "epoch": 0.5, "step": 1,
            "num_tokens": 185.0},
           {"loss": 1.25, "step": 2, "train_runtime_fake": 3.0},
           {"train_runtime": 9.1, "train_samples_per_second": 4.0, "total_flos": 1.0,
            "train_loss": 1.4, "step": 2}]
    assert history_rows(log) == [
        {"loss": 1.5, "grad_norm": 2.0, "learning_rate": 1e-3, "epoch": 0.5, "step": 1},
        {"loss": 1.25, "step": 2}]


def test_disk_full_is_recognised_through_wrapping_errors() -> None:
    from ccaic.train.steps.training import disk_full

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("PytorchStreamWriter failed writing file") from inner
    except RuntimeError as exc:
        assert disk_full(exc)
    assert disk_full(RuntimeError("[enforce fail] ... No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(ValueError("bad"))


def _stage_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).as_posix().startswith(("stages/", "final/"))
            and "/checkpoints/" not in p.as_posix()}


@pytest.mark.slow
def test_full_disk_mid_checkpoint_is_ccai520_and_the_next_run_resumes(
        tiny_cache: Path, tmp_path: Path, plan_files, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("trl")
    import transformers

    from ccaic.diagnostics import DiagnosticError
    from ccaic.train.runner import run_plan

    write_plan, compiled = plan_files
    plan = compiled(write_plan(tmp_path / "src", n_red=4, sft_steps=4))
    run_plan(plan, tmp_path / "reference")

    real = transformers.Trainer._save_rng_state

    def full_disk(self, output_dir):  # type: ignore[no-untyped-def]
        if output_dir.endswith("checkpoint-3"):  # weights and optimizer written, then full
            raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write "
                               "failed") from OSError(errno.ENOSPC, "No space left on device")
        return real(self, output_dir)

    out = tmp_path / "out"
    monkeypatch.setattr(transformers.Trainer, "_save_rng_state", full_disk)
    with pytest.raises(DiagnosticError) as caught:
        run_plan(plan, out)
    assert [d.code for d in caught.value.diagnostics] == ["CCAI520"]
    work = next(out.glob("stages/sft-*/checkpoints"))
    assert (work / "checkpoint-3").is_dir() and not (work / "checkpoint-3" / MARKER).exists()
    monkeypatch.setattr(transformers.Trainer, "_save_rng_state", real)

    result = run_plan(plan, out)  # before the fix: "Can't find a valid checkpoint", exit 3
    log = (out / "build.log").read_text()
    assert "sft: set aside incomplete trainer checkpoint checkpoint-3" in log
    assert "sft: resuming from the last trainer checkpoint (checkpoint-2)" in log
    assert result.steps["step.sft"]["status"] == "ran"
    got, want = _stage_files(out), _stage_files(tmp_path / "reference")
    assert got.keys() == want.keys()
    assert [k for k in want if got[k] != want[k]] == []
    history = next(out.glob("stages/sft-*/log_history.jsonl")).read_text().splitlines()
    assert [json.loads(x)["step"] for x in history] == [1, 2, 3, 4]


REPORTS = ("report.json", "report.md", "report.html")


@pytest.mark.slow
def test_build_killed_at_generation_training_checkpoint_creation_and_reports(
        tiny_cache: Path, tmp_path: Path, plan_files) -> None:
    """`ccaic build` killed four times (mid-generation, mid-training, the moment a checkpoint
    folder appears, while reports are written) ends with the artifacts and the reports of an
    uninterrupted build, byte for byte."""
    pytest.importorskip("trl")
    from kills import build_argv, kill_when, resumed_batches

    from ccaic.build import build

    write_plan, _ = plan_files
    src = write_plan(tmp_path / "src", n_red=12, batch=1, sft_steps=6)
    reference = tmp_path / "reference"
    assert build(str(src), str(reference), []).ok

    out = tmp_path / "killed"
    run = out / "plans" / "p"
    kill_when(build_argv(src, out), run, "stages/sl_cai-*/parts/000002.jsonl")
    kill_when(build_argv(src, out), run,
              "stages/sft-*/checkpoints/checkpoint-2/trainer_state.json")
    kill_when(build_argv(src, out), run, "stages/sft-*/checkpoints/checkpoint-4")
    partial = next(run.glob("stages/sft-*/checkpoints/checkpoint-4"))
    cut_mid_save = not (partial / MARKER).exists()
    kill_when(build_argv(src, out), out, "report.json")
    assert list(run.glob("stages/dpo-*/manifest.json")), "killed after training, at reports"

    result = build(str(src), str(out), [])
    assert result.ok, [d.message for d in result.diagnostics]
    log = (run / "build.log").read_text()
    assert resumed_batches(log, "sl_cai") >= 3
    assert "sft: resuming from the last trainer checkpoint (checkpoint-" in log
    if cut_mid_save:  # before the fix: "Can't find a valid checkpoint", exit 3, every time
        assert "sft: set aside incomplete trainer checkpoint checkpoint-4" in log
    got, want = _stage_files(run), _stage_files(reference / "plans" / "p")
    assert got.keys() == want.keys()
    assert [k for k in want if got[k] != want[k]] == []
    # the loss curves survive the resumes, so the reports equal the uninterrupted build's
    assert [n for n in REPORTS if (out / n).read_bytes() != (reference / n).read_bytes()] == []
