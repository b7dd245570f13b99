"""CCAI510 for settings that change nothing comes from `ccaic check` when the plan uses no
variable, and from the build when it does; never both, never neither."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan_fixtures import compile_source

from tests.cli_runner import run_cli

SPEC = """\
variable "cot" {
  type    = bool
  default = false
}
constitution "c" {
  principle "p" { text = "Choose the kindest response." }
}
plan "p" {
  constitution = constitution.c
  prompts      = "red.jsonl"
  label {
    chain_of_thought = COT
    clamp            = 0.2
  }
}
"""


def _spec(tmp: Path, cot: str) -> Path:
    (tmp / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n', encoding="utf-8")
    path = tmp / "main.ccai"
    path.write_text(SPEC.replace("COT", cot), encoding="utf-8")
    return path


def _clamp_warnings(diags: list) -> list[int]:  # type: ignore[type-arg]
    return [d.span.line for d in diags if d.code == "CCAI510" and "`clamp`" in d.message]


@pytest.mark.parametrize("cot", ["false", "var.cot"])
def test_clamp_without_chain_of_thought_once(tmp_path: Path, cot: str) -> None:
    """Check and plan compilation together give the warning exactly once."""
    _, diags, _ = compile_source(_spec(tmp_path, cot))
    assert _clamp_warnings(diags) == [13], [(d.code, d.message) for d in diags]


def test_clamp_warning_from_check(tmp_path: Path) -> None:
    code, _, err = run_cli(["check", str(_spec(tmp_path, "false"))])
    assert code == 0 and "main.ccai:13:5: warning[CCAI510]: `clamp` has no effect" in err, err


@pytest.mark.parametrize(("cot", "var_args"), [("true", []), ("var.cot", ["cot=true"])])
def test_clamp_with_chain_of_thought_is_quiet(tmp_path: Path, cot: str,
                                              var_args: list[str]) -> None:
    _, diags, _ = compile_source(_spec(tmp_path, cot), var_args)
    assert _clamp_warnings(diags) == []


# SPEC with `label` replaced by `rlaif { enabled = ON }` and BODY (line 12)
RLAIF_OFF = SPEC.replace('variable "cot"', 'variable "on"').replace(
    "  label {\n    chain_of_thought = COT\n    clamp            = 0.2\n  }\n",
    "  rlaif { enabled = ON }\n  BODY\n")


@pytest.mark.parametrize("on", ["false", "var.on"])
def test_rlaif_off_turns_pairs_and_labels_off(tmp_path: Path, on: str) -> None:
    """Pairs and labels feed DPO alone: with rlaif off they ran anyway (the judge model
    labelling pairs nothing used) and a `label` setting got no warning."""
    (tmp_path / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n')
    path = tmp_path / "main.ccai"
    path.write_text(RLAIF_OFF.replace("ON", on).replace("BODY", "label { clamp = 0.3 }"))
    (plan,), diags, _ = compile_source(path)
    assert [plan.enabled(s) for s in ("step.sft", "step.pairs", "step.label", "step.dpo")] \
        == [True, False, False, False]
    assert [(d.code, d.span.line, d.message) for d in diags if d.code == "CCAI510"] == [
        ("CCAI510", 12, "`clamp` has no effect: `rlaif` is off, so nothing uses AI labels")]


def test_pairs_turned_on_with_rlaif_off_is_ccai510(tmp_path: Path) -> None:
    (tmp_path / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n')
    path = tmp_path / "main.ccai"
    path.write_text(RLAIF_OFF.replace("ON", "false").replace("BODY", "pairs { enabled = true }"))
    code, _, err = run_cli(["check", str(path)])
    assert code == 0 and ("main.ccai:12:3: warning[CCAI510]: `pairs` runs but `rlaif` is off, "
                          "so nothing uses its output") in err, err
