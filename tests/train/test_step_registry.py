"""A training step registered only by a test (tests/train/toy_steps.py: its module and its
entry) is checked, lowered with its settings block into plan.json and run by `run_plan`, with
no edit anywhere else; an ORPO-shaped one takes the place of SFT and DPO; a plan step no entry
implements is a diagnostic."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import run_cli
from conftest import write_plan
from plan_fixtures import compile_source, compiled
from toy_steps import ORPO, TOY, with_steps

import ccaic.registry.steps as step_registry
from ccaic.check.schema import SCHEMA
from ccaic.diagnostics import DiagnosticError
from ccaic.plan.model import TrainingPlan, plan_json, plan_json_schema
from ccaic.registry import Entry

Register = Callable[..., None]

TOY_BLOCKS = """\
  sl_cai {
    enabled = false
  }
  sft {
    enabled = false
  }
  rlaif {
    enabled = false
  }
  toy {
    rounds = ROUNDS
  }
}
"""


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Register:
    """Register entries as if written into ccaic/registry/steps.py: the registry, and the
    checker's schema (which reads the step blocks from it once, at import)."""

    def add(*entries: Entry) -> None:
        steps = with_steps(*entries)
        monkeypatch.setattr(step_registry, "STEPS", steps)
        for name, spec in step_registry.step_blocks(steps).items():
            monkeypatch.setitem(SCHEMA["plan"].blocks, name, spec)

    return add


def _toy_source(folder: Path, rounds: str = "2") -> Path:
    """The tests' plan with sl_cai, sft and rlaif off and a `toy` block."""
    path = write_plan(folder)
    text = path.read_text()
    path.write_text(text[:text.index("  sl_cai {")] + TOY_BLOCKS.replace("ROUNDS", rounds))
    return path


def test_a_step_with_a_settings_block_is_checked_and_lowered(register: Register,
                                                             tmp_path: Path) -> None:
    register(TOY)
    source = _toy_source(tmp_path / "src")
    code, out, err = run_cli(["check", str(source)])
    assert code == 0, out + err
    plan = compiled(source)
    data = json.loads(plan_json(plan))
    assert data["stages"]["toy"] == {"enabled": True, "rounds": 2}
    steps = {s["address"]: s for s in data["steps"]}
    assert list(steps) == ["step.initial", "step.sl_cai.critique", "step.sl_cai.revision",
                           "step.sft_data", "step.sft", "step.pairs", "step.label", "step.dpo",
                           "step.toy", "step.final"]
    assert steps["step.toy"] == {"address": "step.toy", "enabled": True,
                                 "needs": ["step.initial"], "model": "policy"}
    assert steps["step.final"]["needs"] == ["step.toy"] and steps["step.final"]["enabled"]
    (tmp_path / "plan.json").write_text(plan_json(plan))
    code, shown, _ = run_cli(["show", str(tmp_path / "plan.json")])
    assert code == 0 and "step.toy               on   needs step.initial" \
        "             enabled true, rounds 2" in shown
    # the plan schema admits the registered step's settings (the built-in one forbids any)
    assert plan_json_schema()["$defs"]["Stages"]["additionalProperties"] == {
        "additionalProperties": True, "type": "object"}


def test_a_wrong_type_in_a_registered_block_is_the_usual_diagnostic(register: Register,
                                                                    tmp_path: Path) -> None:
    register(TOY)
    built_in = _toy_source(tmp_path / "sl", rounds="2")
    built_in.write_text(built_in.read_text().replace("enabled = false\n  }\n  sft",
                                                     'rounds = "two"\n  }\n  sft', 1))
    source = _toy_source(tmp_path / "src", rounds='"two"')
    (usual,) = [d for d in compile_source(built_in)[1] if d.is_error]
    plans, diags, _ = compile_source(source)
    assert plans == []
    (diag,) = [d for d in diags if d.is_error]
    assert (diag.code, diag.message) == (usual.code, usual.message) == (
        "CCAI206", usual.message) and "rounds" in diag.message and diag.help
    assert diag.span.line == source.read_text().splitlines().index('    rounds = "two"') + 1
    code, out, err = run_cli(["check", str(source)])
    assert code == 1 and "CCAI206" in out + err


def test_registering_a_step_changes_no_plan_that_does_not_write_its_block(
        register: Register, tmp_path: Path) -> None:
    source = write_plan(tmp_path / "src")
    before = plan_json(compiled(source))
    register(TOY, ORPO)
    assert plan_json(compiled(source)) == before


def test_a_registered_step_runs_and_ships_final(register: Register, tiny_cache: Path,
                                                tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from ccaic.train.runner import run_plan

    register(TOY)
    plan, out = compiled(_toy_source(tmp_path / "src")), tmp_path / "run"
    first = run_plan(plan, out)
    assert first.ran == ["step.initial", "step.toy", "step.final"]
    run = json.loads((out / "run.json").read_text())
    toy = run["steps"]["step.toy"]
    assert toy["counts"] == {"rows": 10, "rounds": 2} and toy["dir"].startswith("stages/toy-")
    source = json.loads((out / "final" / "source.json").read_text())
    assert source == {"from": Path(toy["dir"]).name, "step": "step.toy"}
    assert (out / "final" / "config.json").read_bytes() == \
        (out / toy["dir"] / "model" / "config.json").read_bytes()
    assert "- toy: enabled true, rounds 2" in (out / "final" / "README.md").read_text()
    again = run_plan(plan, out)
    assert again.ran == [] and again.count("cached") == 3 and again.final == out / "final"
    assert run_plan(plan, out, until="step.toy").stopped_after == "toy"
    # its settings are in its key: another rounds is another stage folder
    other = compiled(_toy_source(tmp_path / "src", rounds="3"))
    assert run_plan(other, tmp_path / "run").ran == ["step.toy", "step.final"]


def _orpo_plan(tmp_path: Path) -> TrainingPlan:
    source = write_plan(tmp_path / "src")
    source.write_text(source.read_text().rstrip()[:-1] + "  orpo {\n    beta = 0.2\n  }\n}\n")
    plan: TrainingPlan = compiled(source)
    return plan


def test_an_orpo_shaped_step_takes_the_place_of_sft_and_dpo(register: Register,
                                                            tiny_cache: Path,
                                                            tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from ccaic.train.runner import run_plan

    register(ORPO)
    plan = _orpo_plan(tmp_path)
    st = plan.stages
    assert st.settings("orpo") == {"beta": 0.2, "enabled": True}
    assert (st.sl_cai.enabled, st.sft.enabled, st.pairs.enabled, st.label.enabled,
            st.dpo.enabled) == (True, False, False, False, False)
    on = [s.address for s in plan.steps if s.enabled]
    assert on == ["step.initial", "step.sl_cai.critique", "step.sl_cai.revision", "step.orpo",
                  "step.final"]
    assert plan.step("step.orpo").needs == ("step.sl_cai.revision",)
    assert plan.step("step.final").needs == ("step.orpo",)
    result = run_plan(plan, tmp_path / "run")
    assert result.ran == on and result.count("off") == 5
    orpo = json.loads((tmp_path / "run" / "run.json").read_text())["steps"]["step.orpo"]
    assert orpo["counts"] == {"rows": 8}  # one revision per red-team prompt
    assert json.loads((tmp_path / "run" / "final" / "source.json").read_text())["step"] == \
        "step.orpo"


def test_a_plan_step_no_entry_implements_is_ccai515(register: Register, tiny_cache: Path,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ccaic.train.runner import run_plan

    register(ORPO)
    plan = _orpo_plan(tmp_path)
    monkeypatch.undo()  # the built-in registry again
    with pytest.raises(DiagnosticError) as caught:
        run_plan(plan, tmp_path / "run")
    diag = caught.value.diagnostics[0]
    assert diag.code == "CCAI515" and "step.orpo" in diag.message
    assert not (tmp_path / "run" / "run.json").exists()
