"""The runner walks plan.steps through the step registry: a step it has never heard of runs
from its registry entry alone, and a plan step no entry implements is a diagnostic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import compiled, write_plan

from ccaic.diagnostics import DiagnosticError
from ccaic.plan.model import Step, TrainingPlan, seal


def _one_step_plan(tmp_path: Path) -> TrainingPlan:
    """The tests' plan with sl_cai/sft/pairs/label/dpo replaced by one `step.orpo`."""
    plan = compiled(write_plan(tmp_path / "src"))
    steps = (Step(address="step.initial", enabled=True, model="policy"),
             Step(address="step.orpo", enabled=True, needs=("step.initial",), model="policy"),
             Step(address="step.final", enabled=True, needs=("step.orpo",), model="final"))
    return seal(plan.model_copy(update={"steps": steps})).with_base_dir(plan.base_dir)


def test_a_step_registered_by_a_test_runs_with_no_runner_change(tiny_cache: Path,
                                                                 tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from toy_steps import TOY_STEPS

    from ccaic.train.runner import run_plan

    plan, out = _one_step_plan(tmp_path), tmp_path / "run"
    first = run_plan(plan, out, steps=TOY_STEPS)
    assert first.ran == ["step.initial", "step.orpo", "step.final"]
    run = json.loads((out / "run.json").read_text())
    orpo = run["steps"]["step.orpo"]
    assert orpo["counts"] == {"rows": 10} and orpo["dir"].startswith("stages/orpo-")
    source = json.loads((out / "final" / "source.json").read_text())
    assert source == {"from": Path(orpo["dir"]).name, "step": "step.orpo"}
    assert (out / "final" / "config.json").read_bytes() == \
        (out / orpo["dir"] / "model" / "config.json").read_bytes()
    again = run_plan(plan, out, steps=TOY_STEPS)
    assert again.ran == [] and again.count("cached") == 3 and again.final == out / "final"
    assert run_plan(plan, out, until="step.orpo", steps=TOY_STEPS).stopped_after == "orpo"


def test_a_plan_step_no_entry_implements_is_ccai515(tiny_cache: Path, tmp_path: Path) -> None:
    from ccaic.train.runner import run_plan

    with pytest.raises(DiagnosticError) as caught:
        run_plan(_one_step_plan(tmp_path), tmp_path / "run")  # the built-in registry
    diag = caught.value.diagnostics[0]
    assert diag.code == "CCAI515" and "step.orpo" in diag.message
    assert not (tmp_path / "run" / "run.json").exists()
