"""Variables (--var), the typed spec lowering, and condition evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.check.checker import check_paths
from ccaic.check.variables import CliVar, parse_cli_vars, resolve_variables
from ccaic.conditions import evaluate
from ccaic.spec import lower_assemblies
from ccaic.syntax import ast
from ccaic.syntax.parser import parse

SPEC = """
variable "data" {
  type    = path
  default = "data"
}
variable "n" {
  type    = number
  default = 3
}
variable "flag" { type = bool }

assembly "a" {
  source polis { path = var.data }
  moderation {
    keep statements where moderated == 1
    drop participants listed in file("${var.data}/ids.csv") because "spam"
    drop participants listed in [1, "2"]
    drop participants where votes <= 25
  }
  groups kmeans { k = 3 }
  consensus gac {
    threshold = 0.7
    top_k     = 10
  }
}
"""


def _program(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "spec.ccai"
    path.write_text(SPEC)
    programs, diags = check_paths([str(path)])
    assert [d.code for d in diags if d.is_error] == []
    return programs[0], path


def test_cli_vars_parse_and_type(tmp_path: Path) -> None:
    program, _ = _program(tmp_path)
    cli, diags = parse_cli_vars(["n=4.5", "flag=true", "broken"])
    assert [d.code for d in diags] == ["CCAI218"]
    values, diags = resolve_variables(program, cli, require_values=True)
    assert diags == []
    assert values["n"] == 4.5 and values["flag"] is True


def test_cli_var_errors(tmp_path: Path) -> None:
    program, _ = _program(tmp_path)
    _values, diags = resolve_variables(program, [CliVar("nn", "1"), CliVar("flag", "maybe")],
                                      require_values=True)
    messages = [d.message for d in diags]
    assert any("no variable named `nn`" in m for m in messages)
    assert any("is not a bool" in m for m in messages)
    assert any(d.help == "did you mean `n`?" for d in diags)


def test_missing_value_only_when_required(tmp_path: Path) -> None:
    program, _ = _program(tmp_path)
    assert resolve_variables(program, [], require_values=False)[1] == []
    diags = resolve_variables(program, [], require_values=True)[1]
    assert [d.message for d in diags] == ["variable `flag` has no value"]


def test_path_defaults_are_relative_to_their_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    program, _path = _program(tmp_path)
    monkeypatch.chdir("/")
    values, _ = resolve_variables(program, [CliVar("flag", "false")], require_values=True)
    assert values["data"] == str(tmp_path / "data")
    specs, diags = lower_assemblies(program, values)
    assert diags == []
    spec = specs[0]
    assert spec.source.path == str(tmp_path / "data")
    assert spec.moderation[1].listed_file == str(tmp_path / "data" / "ids.csv")
    assert spec.moderation[1].because == "spam"
    assert spec.moderation[2].listed == ["1", "2"]
    assert (spec.groups.kind, spec.groups.k_min, spec.groups.k_max) == ("kmeans", 3, 3)
    assert (spec.consensus.threshold, spec.consensus.top_k) == (0.7, 10)


def test_cli_path_values_are_relative_to_the_current_directory(tmp_path: Path,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    program, _ = _program(tmp_path)
    monkeypatch.chdir(tmp_path)
    values, _ = resolve_variables(program, [CliVar("data", "elsewhere"), CliVar("flag", "true")],
                                  require_values=True)
    assert values["data"] == str(tmp_path / "elsewhere")


# ---------------------------------------------------------------- conditions


def _condition(text: str) -> ast.Condition:
    rule = parse(f"m {{ drop statements where {text} }}", "c.ccai").items[0]
    assert isinstance(rule, ast.Block) and isinstance(rule.body[0], ast.Rule)
    clause = rule.body[0].clause
    assert isinstance(clause, ast.WhereClause)
    return clause.condition


TABLE = {
    "id": np.array(["1", "2", "3", "10"]),
    "text": np.array(["The AI should help", "spam http", "be kind", "AI must"]),
    "moderated": np.array([1, -1, 0, 1]),
    "meta": np.array([False, False, True, False]),
    "votes": np.array([30, 5, 25, 26]),
}


def test_conditions_on_a_table() -> None:
    def rows(text: str) -> list[str]:
        return [str(i) for i in TABLE["id"][evaluate(_condition(text), TABLE)]]

    assert rows("moderated == 1") == ["1", "10"]
    assert rows("votes <= 25") == ["2", "3"]
    assert rows("meta") == ["3"]
    assert rows("not meta and moderated != -1") == ["1", "10"]
    assert rows("text matches /\\bai\\b/i") == ["1", "10"]
    assert rows("id in [2, \"10\"]") == ["2", "10"]
    assert rows("id == 3") == ["3"]
    assert rows("id > 2") == ["3", "10"]  # ids order as numbers
    assert rows("(votes > 25 or meta) and not text matches /must/") == ["1", "3"]


ATOMS = ["moderated == 1", "meta", "votes > 25", "text matches /a/i", "id in [1, 3]"]


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    op = draw(st.sampled_from(["and", "or", "not", "paren"]))
    if op == "not":
        return f"not {draw(conditions(depth + 1))}"
    if op == "paren":
        return f"({draw(conditions(depth + 1))})"
    return f"({draw(conditions(depth + 1))}) {op} ({draw(conditions(depth + 1))})"


@settings(max_examples=60, deadline=None)
@given(conditions(), conditions())
def test_boolean_laws(a: str, b: str) -> None:
    def m(text: str) -> np.ndarray:
        return evaluate(_condition(text), TABLE)

    assert (m(f"not ({a})") == ~m(a)).all()
    assert (m(f"not (({a}) and ({b}))") == (~m(a) | ~m(b))).all()  # De Morgan
    assert (m(f"({a}) or ({b})") == (m(a) | m(b))).all()
