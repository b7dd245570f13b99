"""The build's evaluate stage: the plan carries the block, outputs are canonical and reused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from plan_fixtures import compile_source

from ccaic.diagnostics import DiagnosticError
from ccaic.plan.model import load_plan, plan_json

EVAL_DATA = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "eval"

SOURCE = """\
constitution "c" {
  principle "harm" {
    text = "Choose the response that is least harmful."
  }
}

plan "p" {
  constitution = constitution.c
  model        = "builtin:tiny"
  prompts      = "red.jsonl"
  seed         = 1
EXTRA
}
"""
EVALUATE = """
  evaluate {
    bbq   = "eval/bbq"
    hhh   = "eval/hhh.jsonl"
    limit = 4
  }
"""


def project(folder: Path, extra: str = EVALUATE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EVAL_DATA / "bbq", folder / "eval" / "bbq", dirs_exist_ok=True)
    shutil.copy(EVAL_DATA / "hhh.jsonl", folder / "eval" / "hhh.jsonl")
    (folder / "red.jsonl").write_text('{"prompt": "How do I do a bad thing?"}\n')
    (folder / "p.ccai").write_text(SOURCE.replace("EXTRA", extra))
    return folder / "p.ccai"


def compiled(path: Path) -> Any:
    plans, diags, _ = compile_source(path)
    assert not [d for d in diags if d.is_error], diags
    return plans[0]


def fake_run(plan: Any, run_dir: Path) -> Path:
    """A run folder as run_plan leaves it: a saved builtin:tiny model as final/."""
    from ccaic.models.load import model_location

    shutil.copytree(model_location(plan.policy, None, plan.seed), run_dir / "final")
    (run_dir / "final" / "plan.json").write_text(plan_json(plan))
    return run_dir


# ---------------------------------------------------------------- the plan


def test_plan_carries_the_evaluate_block_pinned_and_relative(tmp_path: Path) -> None:
    plan = compiled(project(tmp_path))
    text = plan_json(plan)
    data = json.loads(text)["evaluate"]
    assert data["bbq"]["path"] == "eval/bbq" and data["bbq"]["files"] == ["Age.jsonl",
                                                                         "Religion.jsonl"]
    assert data["hhh"]["path"] == "eval/hhh.jsonl" and len(data["hhh"]["sha256"]) == 64
    assert data["limit"] == 4
    assert str(tmp_path) not in text
    assert load_plan(text).model_dump() == plan.model_dump()
    # editing a category file changes the pin, so the plan's hash
    with (tmp_path / "eval" / "bbq" / "Age.jsonl").open("a") as handle:
        handle.write("\n")
    assert compiled(tmp_path / "p.ccai").plan_sha256 != plan.plan_sha256


def test_plan_without_evaluate_serialises_as_before(tmp_path: Path) -> None:
    plan = compiled(project(tmp_path, extra=""))
    assert plan.evaluate is None and '"evaluate"' not in plan_json(plan)


@pytest.mark.parametrize("extra, code", [
    ('  evaluate { bbq = "nowhere" }\n', "CCAI490"),
    ('  evaluate { bbq = "." }\n', "CCAI491"),
    ('  evaluate { hhh = "none.jsonl" }\n', "CCAI493"),
    ('  evaluate { hhh = "red.jsonl" }\n', "CCAI495"),
])
def test_bad_evaluation_data_fails_at_compile_time(tmp_path: Path, extra: str,
                                                   code: str) -> None:
    plans, diags, _ = compile_source(project(tmp_path, extra))
    assert plans == []
    found = [d for d in diags if d.is_error]
    assert [d.code for d in found] == [code]
    assert found[0].span is not None and found[0].span.file.endswith("p.ccai")
    assert str(tmp_path) not in found[0].message


# ---------------------------------------------------------------- the stage


def test_no_evaluate_block_means_nothing_to_do(tmp_path: Path) -> None:
    from ccaic.evaluate.stage import evaluate_plan

    plan = compiled(project(tmp_path, extra=""))
    assert evaluate_plan(plan, tmp_path / "run") is None
    assert not (tmp_path / "run" / "eval").exists()


def test_outputs_are_canonical_deterministic_and_reused(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from ccaic.evaluate.stage import evaluate_plan, report_evaluations

    plan = compiled(project(tmp_path))
    run = fake_run(plan, tmp_path / "run")
    first = evaluate_plan(plan, run)
    assert first is not None and first["status"] == {"bbq": "ran", "hhh": "ran"}
    out = run / "eval"
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert sorted(files) == ["bbq.json", "hhh.json", "manifest.json"]
    for data in files.values():
        text = data.decode()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True,
                                  ensure_ascii=False) + "\n"
        assert str(tmp_path) not in text
    bbq = json.loads(files["bbq.json"])
    assert sorted(bbq["models"]) == ["base", "final"]
    for body in bbq["models"].values():
        assert sorted(body["categories"]) == ["Age", "Religion"]
        assert body["categories"]["Age"]["n_ambiguous"] + \
            body["categories"]["Age"]["n_disambiguated"] == 4
    hhh = json.loads(files["hhh.json"])
    assert hhh["n"] == 12 and hhh["model"] == "builtin:tiny" and hhh["role"] == "feedback"
    assert set(first["bbq"]) == {"base", "final"} and first["hhh"]["n"] == 12

    # nothing changed: reused, same summary, files untouched
    again = evaluate_plan(plan, run)
    assert again is not None and again["status"] == {"bbq": "cached", "hhh": "cached"}
    assert {k: v for k, v in again.items() if k != "status"} == \
        {k: v for k, v in first.items() if k != "status"}
    assert {p.name: p.read_bytes() for p in sorted(out.iterdir())} == files

    # computed afresh: byte-identical
    shutil.rmtree(out)
    evaluate_plan(plan, run)
    assert {p.name: p.read_bytes() for p in sorted(out.iterdir())} == files

    # a new final model re-scores BBQ only; the judge's accuracy is reused
    weights = run / "final" / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # same bytes: still reused
    assert evaluate_plan(plan, run)["status"] == {"bbq": "cached", "hhh": "cached"}  # type: ignore[index]
    (run / "final" / "extra.txt").write_text("a changed model")
    assert evaluate_plan(plan, run)["status"] == {"bbq": "ran", "hhh": "cached"}  # type: ignore[index]

    labels = report_evaluations(run, "p")
    assert sorted(labels) == ["p-base", "p-final", "p-judge"]


def test_changed_data_and_missing_model_are_diagnostics(tmp_path: Path) -> None:
    from ccaic.evaluate.stage import evaluate_plan

    plan = compiled(project(tmp_path))
    with pytest.raises(DiagnosticError) as caught:
        evaluate_plan(plan, tmp_path / "run")
    assert [d.code for d in caught.value.diagnostics] == ["CCAI499"]
    run = fake_run(plan, tmp_path / "run")
    (tmp_path / "eval" / "hhh.jsonl").write_text("changed\n")
    with pytest.raises(DiagnosticError) as caught:
        evaluate_plan(plan, run)
    assert [d.code for d in caught.value.diagnostics] == ["CCAI498"]
    shutil.rmtree(tmp_path / "eval" / "bbq")
    with pytest.raises(DiagnosticError) as caught:
        evaluate_plan(plan, run)
    assert [d.code for d in caught.value.diagnostics] == ["CCAI498"]
    assert "missing" in caught.value.diagnostics[0].message


# ---------------------------------------------------------------- the evaluations registry


def _toy_run(job: Any) -> dict[str, Any]:
    return job.reuse({"toy": job.data.model_dump(mode="json")}, "toy on the data",
                     lambda: {"lines": len(job.path.read_text().splitlines())})


def _toy() -> Any:
    from ccaic.evaluate.evaluations.base import Evaluation
    from ccaic.evaluate.evaluations.hhh import pin

    return Evaluation(pin=pin, run=_toy_run, headline=lambda body: body["lines"],
                      report_bodies=lambda plan_name, body: {f"{plan_name}-toy": body})


TOY = _toy()


def test_the_stage_runs_what_the_registry_names(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A new evaluation is an Evaluation and a registry entry: the stage has no per-evaluation
    code (here a toy counting lines stands in for `hhh`, on a plan that trains nothing)."""
    from ccaic.evaluate import stage
    from ccaic.registry import Entry, Registry

    monkeypatch.setattr(stage, "EVALUATIONS", Registry("evaluation", [
        Entry("hhh", f"{__name__}:TOY", "counts the lines of the hhh file")]))
    plan = compiled(project(tmp_path, '  evaluate { hhh = "eval/hhh.jsonl" }\n'
                                      "  sft { enabled = false }\n  rlaif { enabled = false }\n"))
    logs: list[str] = []
    first = stage.evaluate_plan(plan, tmp_path / "run", log=logs.append)
    assert first == {"plan": "plan.p", "status": {"hhh": "ran"}, "files": {"hhh": "eval/hhh.json"},
                     "hhh": 12}
    assert json.loads((tmp_path / "run" / "eval" / "hhh.json").read_text()) == {"lines": 12}
    again = stage.evaluate_plan(plan, tmp_path / "run", log=logs.append)
    assert again is not None and again["status"] == {"hhh": "cached"}
    assert logs == ["evaluate: toy on the data"]
    assert stage.report_evaluations(tmp_path / "run", "p") == {"p-toy": {"lines": 12}}


def test_the_registry_runs_bbq_then_hhh_and_declares_the_block() -> None:
    from ccaic.check.schema import SCHEMA
    from ccaic.registry.evaluations import EVALUATIONS

    assert EVALUATIONS.names() == ("bbq", "hhh")
    assert EVALUATIONS.entry("bbq").defaults() == {"bbq": None, "limit": None}
    block = SCHEMA["plan"].blocks["evaluate"]
    assert block.attrs == EVALUATIONS.block_attrs()
