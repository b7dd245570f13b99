"""Variables (--var) and the typed spec lowering (conditions: tests/lowering)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccaic.check.checker import check_paths
from ccaic.check.schema import SCHEMA, BlockSpec
from ccaic.check.variables import CliVar, parse_cli_vars, resolve_variables
from ccaic.lowering.lower_assembly import lower_assemblies

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


def test_cli_path_values_are_relative_to_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program, _ = _program(tmp_path)
    monkeypatch.chdir(tmp_path)
    values, _ = resolve_variables(program, [CliVar("data", "elsewhere"), CliVar("flag", "true")],
                                  require_values=True)
    assert values["data"] == str(tmp_path / "elsewhere")


# ---------------------------------------------------------------- values checked at their use


SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ci" / "sample"

# Every block that can hold an attribute set from a variable, each line `name = value`; the
# test sets one attribute (new, or in place of the line there) to var.x.
USES: dict[str, list[str]] = {
    "assembly": [],
    "assembly.source": ["path = var.data"],
    "assembly.groups": ["k = 2"],
    "assembly.consensus": ["threshold = 0.5"],
    "assembly.stability": [],
    "constitution": ["from = assembly.a"],
    "plan": ["constitution = constitution.c", 'prompts = "prompts/red-team.jsonl"'],
    "plan.initial": [], "plan.sl_cai": [], "plan.sft": [], "plan.sft.lora": [],
    "plan.pairs": [], "plan.label": [], "plan.rlaif": [], "plan.rlaif.lora": [],
    "plan.evaluate": [],
}
LABELS = {"assembly": ' "a"', "constitution": ' "c"', "plan": ' "p"', "assembly.source": " polis",
          "assembly.groups": " polis", "assembly.consensus": " gac"}


def _block_spec(path: str) -> BlockSpec:
    spec = SCHEMA[path.split(".")[0]]
    for part in path.split(".")[1:]:
        spec = spec.blocks[part]
    return spec


def _attribute_sites() -> list[tuple[str, str]]:
    return [(path, name) for path in USES
            for name, attr in sorted(_block_spec(path).attrs.items())
            if attr.type != "type_name"]


def _spec_text(site: tuple[str, str], type_name: str, value: str | None) -> str:
    """The sample assembly, constitution and plan with `site` set to var.x."""
    where, name = site
    lines = {path: [line for line in body if not line.startswith(f"{name} =")]
             for path, body in USES.items()}
    lines[where] = [*lines[where], f"{name} = var.x"]

    def block(path: str) -> str:
        children = [p for p in USES if p.rsplit(".", 1)[0] == path and p.count(".") ==
                    path.count(".") + 1]
        inner = "\n".join([*lines[path], *(block(c) for c in children)])
        return f"{path.rsplit('.', 1)[-1]}{LABELS.get(path, '')} {{\n{inner}\n}}"

    default = f"  default = {value}\n" if value is not None else ""
    return (f'variable "data" {{\n  type = path\n  default = "{SAMPLE / "data" / "polis"}"\n}}\n'
            f'variable "x" {{\n  type = {type_name}\n{default}}}\n'
            + "\n".join(block(top) for top in ("assembly", "constitution", "plan")) + "\n")


def _run(tmp_path: Path, text: str, *argv: str) -> tuple[int, str]:
    from cli_runner import run_cli

    spec = tmp_path / "spec.ccai"
    spec.write_text(text, encoding="utf-8")
    (tmp_path / "prompts").mkdir(exist_ok=True)
    (tmp_path / "prompts" / "red-team.jsonl").write_text('{"prompt": "Hello?"}\n')
    code, _out, err = run_cli([argv[0], str(spec), *argv[1:]])
    return code, err


def _codes(err: str) -> list[str]:
    import re

    return sorted(re.findall(r"error\[(CCAI\d+)\]", err))


@pytest.mark.parametrize(("site", "type_name", "value", "code"), [
    (("assembly.consensus", "threshold"), "number", "1.5", "CCAI207"),
    (("assembly.groups", "k"), "number", "1", "CCAI207"),
    (("assembly.groups", "k"), "number", "100", "CCAI207"),
    (("assembly.groups", "k"), "number", "2.5", "CCAI206"),
    (("assembly.consensus", "threshold"), "path", "somewhere", "CCAI206"),
    (("assembly.consensus", "top_k"), "number", "0.2", "CCAI206"),
    (("plan.rlaif", "method"), "string", "ppo", "CCAI215"),
    (("plan.sft.lora", "dropout"), "number", "2", "CCAI207"),
    (("plan.sl_cai", "enabled"), "string", "no", "CCAI206"),
    (("constitution", "from"), "string", "a", "CCAI206"),
    (("assembly.stability", "groupings"), "list", '["polis", "kmean:2"]', "CCAI215"),
    (("assembly.groups", "k"), "list", "[5, 2]", "CCAI207"),
    (("assembly.groups", "k"), "list", "[1, 3]", "CCAI207"),
    (("assembly.groups", "k"), "list", '["2", 3]', "CCAI206"),
])
def test_var_values_get_the_literal_checks(tmp_path: Path, site: tuple[str, str],
                                           type_name: str, value: str, code: str) -> None:
    """The issue's cases: --var values build "ok" or crash (exit 3) before; now the code a
    literal gets, at the use site, naming the variable and its value; at check and build."""
    text = _spec_text(site, type_name, None)
    for command in (("check", "--var", f"x={value}"),
                    ("build", "-o", str(tmp_path / "out"), "--until", "plan", "--var",
                     f"x={value}")):
        status, err = _run(tmp_path, text, *command)
        assert (status, _codes(err)) == (1, [code]), err
        line = next(i for i, s in enumerate(text.splitlines(), 1) if s == f"{site[1]} = var.x")
        assert f"spec.ccai:{line}:" in err and "(var.x = " in err and "from --var)" in err, err


def _literal_at(site: tuple[str, str], value: object) -> str:
    """The literal that writes what `site = var.x` means with x = value: a list of two numbers
    is a range where the attribute takes one (`k = var.x` with [2, 4] is `k = 2..4`), which a
    list literal `[2, 4]` is not (CCAI206)."""
    ends = value if isinstance(value, list) and len(value) == 2 else []
    if _block_spec(site[0]).attrs[site[1]].type == "int_or_range" and ends and all(
            isinstance(end, (int, float)) and not isinstance(end, bool) for end in ends):
        return f"{_literal_for(ends[0])}..{_literal_for(ends[1])}"
    return _literal_for(value)


def _literal_for(value: object) -> str:
    """A value as a .ccai literal (its own escapes, not JSON's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal_for(v) for v in value) + "]"
    escapes = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\t": "\\t",
               "\r": "\\r"}
    return '"' + "".join(escapes.get(c, c) for c in str(value)) + '"'


TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\n\t"),
               max_size=12)
VALUES = {
    "number": st.one_of(st.integers(-5, 120), st.floats(-2, 60, allow_nan=False),
                        st.sampled_from([0, 1, 2, 0.5, 1e300, -1e-300])),
    "string": TEXT,
    "bool": st.booleans(),
    "list": st.lists(st.one_of(st.integers(-3, 9), TEXT, st.booleans()),
                     max_size=3),
}


@settings(max_examples=120, deadline=None)
@given(site=st.sampled_from(_attribute_sites()), type_name=st.sampled_from(sorted(VALUES)),
       data=st.data())
def test_var_value_and_literal_get_the_same_codes(tmp_path_factory: pytest.TempPathFactory,
                                                  site: tuple[str, str], type_name: str,
                                                  data: st.DataObject) -> None:
    """`attr = var.x` with x = V is reported exactly as `attr = V` is (one rule table)."""
    value = data.draw(VALUES[type_name])
    literal = _literal_for(value)
    tmp = tmp_path_factory.mktemp("v")
    as_var = _spec_text(site, type_name, literal)
    as_literal = as_var.replace(f"{site[1]} = var.x", f"{site[1]} = {_literal_at(site, value)}")
    var_code, var_err = _run(tmp, as_var, "check")
    lit_code, lit_err = _run(tmp, as_literal, "check")
    assert var_code in (0, 1) and lit_code in (0, 1), var_err + lit_err
    assert _value_codes(var_err) == _value_codes(lit_err), var_err + lit_err


def _value_codes(err: str) -> list[str]:
    """The type and range codes (CCAI2xx) a value gets; CCAI210 (x unused, where the literal
    replaced it) and the site's other codes (CCAI458: `factors` in a gac block) are no part of
    what the value decides."""
    return [c for c in _codes(err) if c.startswith("CCAI2") and c != "CCAI210"]


@pytest.mark.parametrize(("value", "literal", "codes"), [
    ("[0, 0]", "0..0", ["CCAI207", "CCAI207"]),
    ("[5, 2]", "5..2", ["CCAI207"]),
    ("[2, 4]", "2..4", []),
    ("[2, 3, 4]", "[2, 3, 4]", ["CCAI206"]),
])
def test_list_variable_is_the_range_literal(tmp_path: Path, value: str, literal: str,
                                            codes: list[str]) -> None:
    """`k = var.x` with x = [low, high] is checked as `k = low..high` (both ends, as a literal
    range is; it once disagreed with the property test's list literal, which is no range)."""
    as_var = _spec_text(("assembly.groups", "k"), "list", value)
    as_literal = as_var.replace("k = var.x", f"k = {literal}")
    assert _codes(_run(tmp_path, as_var, "check")[1]) == codes
    assert _codes(_run(tmp_path, as_literal, "check")[1]) == codes
    list_literal = as_var.replace("k = var.x", f"k = {value}")
    assert _codes(_run(tmp_path, list_literal, "check")[1]) == ["CCAI206"]


def _repo_variables() -> list[tuple[Path, str]]:
    repo = Path(__file__).resolve().parents[1]
    found = []
    for folder in ("assemblies", "constitutions", "examples"):
        for spec in sorted((repo / folder).rglob("*.ccai")):
            found += [(spec, name) for name in sorted(set(
                re.findall(r'^variable "([^"]+)"', spec.read_text(encoding="utf-8"), re.M)))]
    return found


RAW_VALUES = st.one_of(
    st.text(max_size=20), st.integers().map(str), st.floats(allow_nan=True).map(str),
    st.sampled_from(["true", "false", "[1, 2]", "[]", '["a"]', "{}", "null", ".", "..", "/",
                     "/proc/self", "\x00", "a" * 300, "-1", "1e309", "data"]),
    st.lists(st.integers(), max_size=3).map(str))


@pytest.mark.skipif(not _repo_variables(), reason="no repository spec declares a variable")
@settings(max_examples=60, deadline=None)
@given(target=st.sampled_from(_repo_variables()), raw=RAW_VALUES)
def test_any_value_of_a_repo_variable_exits_0_or_1(tmp_path_factory: pytest.TempPathFactory,
                                                   target: tuple[Path, str], raw: str) -> None:
    """Any --var value for any variable of the repo's specs: a result or a diagnostic, never
    exit 3 (`build --until plan`: reads at most the data the value names)."""
    from cli_runner import run_cli

    spec, name = target
    out = tmp_path_factory.mktemp("out")
    code, _out, err = run_cli(["build", str(spec), "-o", str(out), "--until", "plan",
                               "--var", f"{name}={raw}"])
    assert code in (0, 1), err
    assert code == 0 or "error[CCAI" in err, err


@pytest.mark.parametrize("raw", ["a" * 300, "x/" * 2100, "bad\x00path", "\ud800"])
def test_path_values_no_file_can_have_are_ccai218(tmp_path: Path, raw: str) -> None:
    """A --var path that no system can open was an OSError from the source loader (exit 3)."""
    from cli_runner import run_cli

    spec = Path(__file__).resolve().parents[1] / "assemblies" / "ccai-2023.ccai"
    code, _out, err = run_cli(["build", str(spec), "-o", str(tmp_path), "--until", "plan",
                               "--var", f"data={raw}"])
    assert (code, _codes(err)) == (1, ["CCAI218"]), err


def test_a_list_variable_gives_k_a_range(tmp_path: Path) -> None:
    """`k = var.k` with [2, 3] is the range 2..3, as the assembly lowering reads it."""
    text = _spec_text(("assembly.groups", "k"), "list", None)
    status, err = _run(tmp_path, text, "check", "--var", "x=[2, 3]")
    assert (status, _codes(err)) == (0, []), err
    program = check_paths([str(tmp_path / "spec.ccai")])[0][0]
    values, diags = resolve_variables(program, [CliVar("x", "[2, 3]")], require_values=True)
    specs, more = lower_assemblies(program, values)
    assert diags == more == []
    assert (specs[0].groups.k_min, specs[0].groups.k_max) == (2, 3)


@pytest.mark.parametrize(("rule", "removed"), [
    ('drop statements where id == "${var.s}"', ["3"]),
    ('drop statements where id in ["${var.s}", 5]', ["3", "5"]),
    ('drop statements where id in var.l', ["1", "2", "4"]),
    ('drop statements where not (id != "${var.s}" and text != "x")', ["3"]),
    ('drop participants where id in var.l', ["1", "2", "4"]),
])
def test_variables_in_rule_conditions_are_their_values(tmp_path: Path, rule: str,
                                                       removed: list[str]) -> None:
    """`id == "${var.s}"` compared ids with "" (the text left without the `${...}`), removing
    nothing under "build ok", and `id in var.l` read the list's text as a file name."""
    import json

    from cli_runner import run_cli

    spec = tmp_path / "spec.ccai"
    spec.write_text(
        'variable "s" {\n  type = string\n  default = "3"\n}\n'
        'variable "l" {\n  type = list\n  default = [1, "2", 4.0]\n}\n'
        f'assembly "a" {{\n  source polis {{ path = "{SAMPLE / "data" / "polis"}" }}\n'
        f'  moderation {{\n    {rule}\n  }}\n  groups polis {{ k = 2 }}\n'
        '  consensus gac { threshold = 0.3 }\n}\n', encoding="utf-8")
    code, _out, err = run_cli(["build", str(spec), "-o", str(tmp_path / "out"), "--until",
                               "assemblies"])
    assert code == 0, err
    artifact = json.loads((tmp_path / "out" / "assemblies" / "a.json").read_text())
    (step,) = [m for m in artifact["moderation"] if m["location"] != "implicit"]
    assert sorted(step["ids"], key=int) == removed, step


def test_a_variable_in_a_condition_string_is_a_use_and_is_resolved(tmp_path: Path) -> None:
    """`${var.s}` in a compared string was not looked at: var.s "never used" (CCAI210) and an
    undeclared `${var.nope}` passed the check."""
    spec = tmp_path / "spec.ccai"
    spec.write_text('variable "s" {\n  type = string\n  default = "3"\n}\nassembly "a" {\n'
                    '  source polis { path = "x" }\n  moderation {\n'
                    '    drop statements where id == "${var.s}" or text == "${var.nope}"\n'
                    '  }\n  consensus gac { threshold = 0.4 }\n}\n', encoding="utf-8")
    _programs, diags = check_paths([str(spec)])
    assert [(d.code, d.span.line if d.span else None) for d in diags] == [("CCAI203", 8)], diags


@pytest.mark.parametrize("given", [("--var", "x=0.5"), ()])
def test_a_string_variable_spelling_a_number_is_told_to_hold_a_number(
        tmp_path: Path, given: tuple[str, ...]) -> None:
    """`pass = var.x` with x the string "0.5": there are no quotes to remove in the file (the
    literal's hint), so the hint says to give the variable a number."""
    text = _spec_text(("assembly.consensus", "pass"), "string", None if given else '"0.5"')
    status, err = _run(tmp_path, text.replace("consensus gac", "consensus bridging"), "check",
                       *given)
    assert (status, _codes(err)) == (1, ["CCAI215"]), err
    assert '`pass` cannot be "0.5" (var.x = "0.5", from ' in err
    assert ("help: give var.x a number: declare it `type = number`, then `--var x=0.5` or "
            "`default = 0.5` is the number 0.5") in err
    assert "without quotes" not in err
