"""`ccaic build` runs the whole quickstart: constitution, plan, training, with reuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli

from ccaic.artifacts import validate_tree
from ccaic.build import RUN_STEPS, STAGES, build


def test_until_steps_and_plan_addresses_come_from_the_step_registry() -> None:
    """`--until` offers the registry's steps, and the lowering emits exactly the registry's
    addresses in its order (the runner walks plan.steps through the registry)."""
    from ccaic.lowering.plan import _steps
    from ccaic.plan.model import Stages
    from ccaic.registry.steps import STEP_ADDRESSES, STEPS

    assert STEPS.names() == RUN_STEPS and RUN_STEPS[-1] == "final"
    assert STAGES[-1] == "run"
    assert tuple(s.address for s in _steps(Stages())) == STEP_ADDRESSES
    # each implementation names its stages/ folders after its registry entry
    assert all(getattr(STEPS.load(name), "name", None) == name for name in RUN_STEPS)


def test_quickstart_builds_end_to_end_and_reuses_every_stage(tmp_path: Path, repo: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    monkeypatch.setenv("CCAIC_CACHE", str(tmp_path / "cache"))
    spec = str(repo / "examples" / "quickstart" / "quickstart.ccai")
    first = build(spec, str(tmp_path / "out"), [])
    assert first.ok, [d.message for d in first.diagnostics]
    run = first.runs["quickstart"]
    assert run.ran, "the first build trains"
    out = tmp_path / "out" / "plans" / "quickstart"
    assert (out / "final").is_dir() and (out / "plan.json").is_file()
    assert {"plans/quickstart/run.json", "plans/quickstart/eval/bbq.json",  # typed, valid
            "plans/quickstart/eval/hhh.json", "report.json"} <= set(validate_tree(out.parents[1]))
    steps = json.loads((out / "run.json").read_text())["steps"]
    assert {"step.initial", "step.sft", "step.dpo", "step.final"} <= set(steps)
    card = (out / "final" / "README.md").read_text()  # the model card has the evaluation
    assert "| BBQ |" in card and "HHH judge accuracy of the feedback model" in card

    code, _, err = run_cli(["build", spec, "-o", str(tmp_path / "out"), "--detailed-exitcode"])
    assert code == 0, err  # nothing changed: every stage reused, exit 0 not 2
    assert "0 training steps ran" in err
