"""Constitution rendering: templates in a sandbox, hand edits, provenance, build artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccaic.build import build
from ccaic.check.checker import check_paths
from ccaic.constitution.model import Constitution, StatementRef
from ccaic.constitution.render import SelectedStatements, build_constitutions
from ccaic.lowering.lower_constitution import lower_constitutions
from tests.cli_runner import run_cli

SPEC = '''
assembly "a" {
  source polis { path = "x" }
  consensus gac { threshold = 0.5 }
}

constitution "c" {
  from     = assembly.a
  template = "Choose the response that {{ statement.text | strip_period }} ({{ statement.gac }})."
  critique = "Does the response fail this: {{ principle.text }}"
  edit "2" {
    text   = "Choose the response that is kind."
    reason = "clearer"
  }
  merge "m1" {
    statements = [3, 4]
    text       = "Choose the response that is honest."
    reason     = "same idea"
  }
  drop statements listed in [5] because "duplicate"
  principle "extra" {
    text   = "Choose the response that is careful."
    weight = 2
    tags   = ["safety"]
  }
}
'''

REFS = tuple(StatementRef(id=str(i), text=f"is good in way {i}.", gac=round(0.9 - i / 100, 2))
             for i in range(1, 6))
SELECTION = SelectedStatements(assembly="a", method="gac >= 0.5", threshold=0.5, top_k=None,
                               statements=REFS, candidates={r.id: r for r in REFS}
                               | {"99": StatementRef(id="99", text="not selected")})


def _render(tmp_path: Path, text: str) -> tuple[list[Constitution], list[str]]:
    path = tmp_path / "c.ccai"
    path.write_text(text)
    programs, diags = check_paths([str(path)])
    assert [d.message for d in diags if d.is_error] == []
    constitutions, render_diags = build_constitutions(lower_constitutions(programs[0], {}),
                                                      {"a": SELECTION})
    return constitutions, [f"{d.code} {d.message}" for d in render_diags]


def test_rendering_with_edits_keeps_provenance(tmp_path: Path) -> None:
    (c,), diags = _render(tmp_path, SPEC)
    assert diags == []
    by_id = {p.id: p for p in c.principles}
    assert list(by_id) == ["s1", "s2", "m1", "extra"]
    assert by_id["s1"].text == "Choose the response that is good in way 1 (0.89)."
    assert by_id["s1"].critique == "Does the response fail this: " + by_id["s1"].text
    assert by_id["s1"].address == "principle.c.s1"
    # an override keeps the statement it came from and the text it replaced
    s2 = by_id["s2"]
    assert s2.text == "Choose the response that is kind."
    assert [s.id for s in s2.sources] == ["2"]
    assert s2.edits[0].kind == "override" and s2.edits[0].because == "clearer"
    assert s2.edits[0].before == "Choose the response that is good in way 2 (0.88)."
    # a merge points at every statement it merged
    assert [s.id for s in by_id["m1"].sources] == ["3", "4"]
    assert by_id["m1"].edits[0].kind == "merge"
    # a drop is recorded with its reason
    assert [(d.id, d.because) for d in c.dropped] == [("5", "duplicate")]
    assert by_id["extra"].weight == 2.0 and by_id["extra"].tags == ("safety",)
    assert c.selection is not None and [s.id for s in c.selection.statements] == list("12345")


def test_edits_must_name_selected_statements(tmp_path: Path) -> None:
    spec = SPEC.replace('edit "2"', 'edit "99"').replace("[5]", "[42]")
    _, diags = _render(tmp_path, spec)
    assert "CCAI451 edit names statement 99, which was not selected" in diags
    assert "CCAI451 drop names statement 42, which the assembly does not have" in diags


def test_render_time_template_failure_points_at_template(tmp_path: Path) -> None:
    spec = SPEC.replace("({{ statement.gac }})", "({{ statement.groups['9'] }})")
    _, diags = _render(tmp_path, spec)
    assert any(d.startswith("CCAI306 template failed to render") for d in diags)


HOSTILE = '''constitution "x" {
  principle "a" { text = "t" }
  template = """{% for i in range(100000000) %}{{ i }}{% endfor %}
{% include "/etc/passwd" %}{% macro m() %}{{ m() }}{% endmacro %}
{{ statement.__class__.__mro__ }} {{ statement["__globals__"] }} {{ lipsum() }}"""
}
'''


def test_sandbox_escapes_are_rejected_at_their_location(tmp_path: Path) -> None:
    path = tmp_path / "hostile.ccai"
    path.write_text(HOSTILE)
    _, diags = check_paths([str(path)])
    found = {(d.code, d.span.line, d.span.column) for d in diags if d.span and d.is_error}
    assert ("CCAI302", 3, 29) in found  # range(): no globals, so no endless loops
    assert ("CCAI305", 4, 4) in found  # include: no file access
    assert ("CCAI305", 4, 31) in found  # macro: no recursion
    assert ("CCAI304", 5, 14) in found  # __class__
    assert ("CCAI304", 5, 49) in found  # ["__globals__"]
    assert ("CCAI302", 5, 69) in found  # lipsum()


def test_a_hostile_file_builds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "hostile.ccai"
    path.write_text(HOSTILE)
    result = build(str(path), str(tmp_path / "out"), [])
    assert not result.ok
    assert not (tmp_path / "out").exists()


def test_build_writes_canonical_deterministic_artifacts(tmp_path: Path, repo: Path) -> None:
    first = build(str(repo / "constitutions" / "standard.ccai"), str(tmp_path / "a"), [])
    second = build(str(repo / "constitutions" / "standard.ccai"), str(tmp_path / "b"), [])
    assert first.ok and second.ok
    for name in ("standard.json", "standard.md"):
        a = (tmp_path / "a" / "constitutions" / name).read_bytes()
        assert a == (tmp_path / "b" / "constitutions" / name).read_bytes()
    data = json.loads((tmp_path / "a" / "constitutions" / "standard.json").read_text())
    assert data["format_version"] == "1.0"
    assert len(data["principles"]) == 20
    assert all(p["address"].startswith("principle.standard.") for p in data["principles"])
    assert str(tmp_path) not in (tmp_path / "a" / "constitutions" / "standard.json").read_text()
    rebuilt = build(str(repo / "constitutions" / "standard.ccai"), str(tmp_path / "a"), [])
    assert not rebuilt.changed


@pytest.mark.parametrize("until", ["check", "assemblies"])
def test_until_stops_early(tmp_path: Path, repo: Path, until: str) -> None:
    result = build(str(repo / "constitutions" / "standard.ccai"), str(tmp_path), [], until=until)
    assert result.ok and result.artifacts == []


# ---------------------------------------------------------------- complete, checked, bounded


SEATTLE = "polis/opendata/15-per-hour-seattle"
FIELDS_SPEC = '''
assembly "a" {{
  source polis {{ path = "{path}" }}
  groups polis {{ k = 2..5 }}
  consensus gac {{ top_k = 5 }}
}}

constitution "c" {{
  from     = assembly.a
  template = """{{{{ statement.id }}}}|{{{{ statement.author }}}}|{{{{ statement.polarization }}}}|\
{{{{ statement.adjusted_polarization }}}}|{{{{ statement.agrees }}}}|{{{{ statement.disagrees }}}}|\
{{{{ statement.passes }}}}"""
}}
'''


def test_every_documented_statement_field_is_filled_from_the_data(tmp_path: Path,
                                                                   shared: Path) -> None:
    """author and polarization used to render as None whatever the data held."""
    import csv

    data = shared / "data" / SEATTLE
    path = tmp_path / "f.ccai"
    path.write_text(FIELDS_SPEC.format(path=data))
    result = build(str(path), str(tmp_path / "out"), [], until="constitution")
    assert result.ok, [d.message for d in result.diagnostics]
    constitution = json.loads((tmp_path / "out" / "constitutions" / "c.json").read_text())
    with (data / "comments.csv").open(encoding="utf-8") as f:
        authors = {row["comment-id"]: row["author-id"] for row in csv.DictReader(f)}
    assert len(constitution["principles"]) == 5
    for principle in constitution["principles"]:
        sid, author, pi, adjusted, a, d, p = principle["text"].split("|")
        assert author == authors[sid]
        n = int(a) + int(d) + int(p)
        assert float(pi) == pytest.approx(1 - abs(int(a) - int(d)) / n)
        assert float(adjusted) == pytest.approx(float(pi) * (int(a) + int(d)) / n)


def _with_template(tmp_path: Path, template: str) -> Path:
    """SPEC with its `template` replaced, written to a file."""
    path = tmp_path / "t.ccai"
    path.write_text(SPEC.replace(
        'template = "Choose the response that {{ statement.text | strip_period }} '
        '({{ statement.gac }})."', f'template = """{template}"""'))
    return path


def _failure(tmp_path: Path, template: str, selection: SelectedStatements = SELECTION
             ) -> list[str]:
    path = _with_template(tmp_path, template)
    programs, diags = check_paths([str(path)])
    assert [d.message for d in diags if d.is_error] == [], template
    _, render_diags = build_constitutions(lower_constitutions(programs[0], {}), {"a": selection})
    return [f"{d.code} {d.message} @{d.span.line if d.span else '-'}" for d in render_diags]


TOP_K_ONLY = SelectedStatements(
    assembly="a", method="top 5", threshold=None, top_k=5, statements=REFS,
    candidates={r.id: r for r in REFS}, summary={"threshold": None, "participants": 9})


@pytest.mark.parametrize(("template", "selection", "expected"), [
    ("{{ statement.author }}", SELECTION,
     "CCAI307 template for statement 1 uses a value that is not there: `statement.author`"),
    ("{{ statement.author | upper }}", SELECTION, "CCAI307 template for statement 1"),
    ("{{ statement.polarization * 100 }}", SELECTION,
     "CCAI307 template for statement 1 uses a value that is not there: "
     "`statement.polarization`"),
    ("{{ assembly.threshold | round(2) }}", TOP_K_ONLY,
     "CCAI307 template for statement 1 uses a value that is not there: `assembly.threshold`"),
    ("{{ statement.groups.get('x') }}", SELECTION, "CCAI307 template for statement 1"),
    ("{{ none ~ 'x' }}", SELECTION, "CCAI307 template for statement 1"),
    # printed inside a list or mapping, a missing value was the text `Undefined`
    ("{{ [statement.author] }}", SELECTION,
     "CCAI307 template for statement 1 uses a value that is not there: `statement.author`"),
    ("{{ {'by': statement.author} }}", SELECTION, "CCAI307 template for statement 1"),
    ("{{ (statement.id, assembly.threshold) }}", TOP_K_ONLY,
     "CCAI307 template for statement 1 uses a value that is not there: `assembly.threshold`"),
])
def test_a_value_that_is_not_there_is_an_error_never_none(
        tmp_path: Path, template: str, selection: SelectedStatements, expected: str) -> None:
    diags = _failure(tmp_path, template, selection)
    assert len(diags) == 1 and diags[0].startswith(expected), diags
    assert diags[0].endswith("@9")  # at the template


def _first_principle(tmp_path: Path, parenthesis: str) -> str:
    """The first principle's text, with SPEC's `({{ statement.gac }})` replaced."""
    (c,), diags = _render(tmp_path, SPEC.replace("({{ statement.gac }})", parenthesis))
    assert diags == []
    return c.principles[0].text


def test_a_missing_value_can_be_tested_and_defaulted(tmp_path: Path) -> None:
    assert _first_principle(
        tmp_path, "({% if statement.author %}x{% endif %}{{ statement.author | default('anon') }}"
        " {{ statement.author is none }})") == \
        "Choose the response that is good in way 1 (anon True)."


@pytest.mark.parametrize(("template", "message"), [
    ("{{ statement.text | truncate(-1) }}", "AssertionError"),
    ("{{ statement.gac / 0 }}", "ZeroDivisionError"),
    ("{{ statement.text + 1 }}", "TypeError"),
    ("{{ statement.text | sum }}", "TypeError"),
    ("{{ statement.text | round(1) }}", "TypeError"),
    ("{{ statement.text | wordwrap(0) }}", "ValueError"),
    ("{{ statement.text | slice(0) | list }}", "ZeroDivisionError"),
])
def test_runtime_errors_name_the_statement(tmp_path: Path, template: str, message: str) -> None:
    """These used to exit 3: only TemplateError was caught."""
    diags = _failure(tmp_path, template)
    assert diags == [diags[0]] and diags[0].startswith(
        f"CCAI306 template failed to render statement 1: {message}"), diags


@pytest.mark.parametrize(("template", "warned"), [
    ("{{ statement.text + 1 }}", True),
    ("{{ statement.text | truncate(-1) }}", True),
    ("{{ statement.gac / 0 }}", True),
    ("{{ statement.text | wordwrap(0) }}", True),
    ("{{ 'x' * 10**6 }}", True),
    ("{{ statement.text | slice(2) }}", True),
    ("{{ statement.groups['9'] }}", False),  # depends on the data: left to the build
    ("{{ statement.text[200] }}", False),
    ("{{ statement.author | upper }}", False),  # the sample has every field
    ("{{ statement.text | as_comparison }}", False),
])
def test_check_tries_templates_on_a_sample_statement(tmp_path: Path, template: str,
                                                      warned: bool) -> None:
    _, diags = check_paths([str(_with_template(tmp_path, template))])
    assert not [d for d in diags if d.is_error]
    assert [(d.code, d.span.line if d.span else 0) for d in diags] == \
        ([("CCAI311", 9)] if warned else [])


def test_a_runtime_error_points_at_the_template_line_that_failed(tmp_path: Path) -> None:
    diags = _failure(tmp_path, "Choose the response that {{ statement.text }}\n"
                     "{% if statement.gac > 0 %}\n{{ statement.text + 1 }}{% endif %}")
    assert diags == ["CCAI306 template failed to render statement 1: TypeError: can only "
                     'concatenate str (not "int") to str @11']


@pytest.mark.parametrize(("template", "what"), [
    ("{{ 10**5000 }}", "a number of about 6021 digits"),
    ("{{ 'x' * 10**6 }}", "a value of 1000000 characters"),
    ("{{ 'x' * 10**8 }}", "a value of 100000000 characters"),
    ("{{ [1] * 10**8 }}", "a value of 100000000 characters"),
    ('{{ "%*d" | format(10**8, 1) }}', "a format width of 100000000"),
    ("{{ '%100000000d' % 1 }}", "a format width of 100000000"),
    ("{{ statement.text | center(10**9) }}", "`center` to a width of 1000000000"),
    ("{{ statement.text | indent(10**9) }}", "`indent` to a width of 1000000000"),
    ("{{ statement.text | slice(10**9) | list }}", "`slice` to a width of 1000000000"),
    ("{{ statement.text | replace('', statement.text * 500) }}", "a replacement of"),
    ("{{ statement.text.replace('', statement.text * 500) }}", "a replacement of"),
    ("{{ (statement.text * 500).join(statement.text * 500) }}", "a joined text of"),
    ("{{ (statement.text * 500) | join(statement.text * 500) }}", "a joined text of"),
    ("{{ statement.text | wordwrap(1, wrapstring=statement.text * 500) }}", "a wrapped text"),
    ("{{ statement.groups | tojson(10**6) }}", "indented JSON of"),
    ("{{ (statement.text * 500) | list | map('center', 9000) | join }}", "a value of 10001"),
    ("{{ ''.join((statement.text * 500) | map('center', 9000)) }}", "a value of 18002"),
    ("{% for a in statement.text %}{% for b in statement.text %}{% for c in statement.text %}"
     "{% for d in statement.text %}{{ a }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
     "output of 10001 characters"),
    ("{% for a in statement.text * 500 %}{% for b in statement.text * 500 %}{% endfor %}"
     "{% endfor %}", "more than 100000 loop steps"),
])
def test_templates_are_bounded(tmp_path: Path, template: str, what: str) -> None:
    """Each of these used to write hundreds of MB, use GBs of memory or run for minutes."""
    import time

    start = time.monotonic()
    diags = _failure(tmp_path, template)
    assert time.monotonic() - start < 5
    assert diags == [diags[0]] and diags[0].startswith(
        f"CCAI308 template for statement 1 went past a limit: {what}"), diags


def test_template_limits_are_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv("CCAIC_TEMPLATE_MAX_CHARS", "70")
    assert _failure(tmp_path, "{{ statement.text * 2 }}") == []
    assert _failure(tmp_path, "{{ statement.text * 5 }}")[0].startswith(
        "CCAI308 template for statement 1 went past a limit: a value of 85 characters or "
        "items, over the 70 limit")
    monkeypatch.setenv("CCAIC_TEMPLATE_MAX_STEPS", "10")
    assert _failure(tmp_path, "{% for c in statement.text %}{% endfor %}")[0].startswith(
        "CCAI308 template for statement 1 went past a limit: more than 10 loop steps")
    monkeypatch.setenv("CCAIC_TEMPLATE_MAX_SECONDS", "soon")
    assert _failure(tmp_path, "{{ statement.text }}") == [
        "CCAI308 $CCAIC_TEMPLATE_MAX_SECONDS is 'soon', not a positive number of seconds @-"]


@pytest.mark.parametrize("template", [
    "{{ statement.text | slice(2) }}",
    "{{ statement.text | attr('split') }}",
    "{{ [statement.text | attr('split')] }}",
    "{{ (statement.text | map('upper')) | upper }}",
    "{{ statement.text ~ (statement.text | attr('upper')) }}",
])
def test_no_repr_of_an_object_reaches_a_principle(tmp_path: Path, template: str) -> None:
    """A repr holds a heap address: the same build would give different bytes each run."""
    diags = _failure(tmp_path, template)
    assert diags == [diags[0]] and diags[0].startswith("CCAI310 template for statement 1: ")


def test_allowed_methods_and_loops_still_work(tmp_path: Path) -> None:
    assert _first_principle(
        tmp_path,
        "({{ statement.text.split() | length }} {{ statement.text.upper().startswith('IS') }} "
        "{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{{ loop.cycle('!', '?') }}{% endfor %})"
    ) == "Choose the response that is good in way 1 (5 True a1!)."


@pytest.mark.parametrize(("template", "code", "column"), [
    ("{{ statement.text | random }}", "CCAI309", 37),
    ("{{ statement.text.split }}", "CCAI310", 34),
    ("{{ statement.text.ljust(10**9) }}", "CCAI310", 35),
    ("{{ statement.text.format(1) }}", "CCAI310", 35),
    ("{% for c in statement.text recursive %}{{ loop(c) }}{% endfor %}", "CCAI305", 44),
])
def test_unrepeatable_or_unbounded_constructs_fail_check(tmp_path: Path, template: str,
                                                         code: str, column: int) -> None:
    path = _with_template(tmp_path, template)
    _, diags = check_paths([str(path)])
    assert [(d.code, d.span.line, d.span.column) for d in diags if d.span] == \
        [(code, 9, column)]


VAR_SPEC = '''
variable "t" {
  type    = string
  default = "{{ statement.text }}"
}

constitution "c" {
  from     = assembly.a
  template = "Choose the response that ${var.t}"
}

assembly "a" {
  source polis { path = "x" }
  consensus gac { threshold = 0.5 }
}
'''


@pytest.mark.parametrize(("value", "code"), [
    ("{% macro m() %}x{% endmacro %}{{ m() }}", "CCAI305"),
    ("{% include '/etc/passwd' %}", "CCAI305"),
    ("{{ statement.__class__ }}", "CCAI304"),
    ("{{ statement.text | random }}", "CCAI309"),
    ("{{ statement.txt }}", "CCAI302"),
    ("{{ statement.text", "CCAI301"),
])
def test_a_template_from_a_variable_is_checked_like_a_literal(tmp_path: Path, value: str,
                                                              code: str) -> None:
    """`check --var` and build used to check a placeholder: the value itself ran unchecked."""
    path = tmp_path / "v.ccai"
    path.write_text(VAR_SPEC)
    assert run_cli(["check", str(path)])[0] == 0
    status, _, err = run_cli(["check", str(path), "--var", f"t={value}"])
    assert status == 1 and f"error[{code}]" in err and "note: checked with var.t = " in err
    assert "v.ccai:9:" in err  # at the ${var.t}
    result = build(str(path), str(tmp_path / "out"), [f"t={value}"])
    assert [d.code for d in result.diagnostics if d.is_error] == [code]
    assert not (tmp_path / "out").exists()


def test_the_documented_missing_value_example_renders_with_and_without_an_author(
        tmp_path: Path) -> None:
    """docs/language.md, Missing values."""
    template = ('"""Choose the response that {{ statement.text | as_behaviour }}\n'
                '{%- if statement.author %} (suggested by participant {{ statement.author }})'
                '{% endif %}."""')
    assert template[3:-3] in (Path(__file__).parents[1] / "docs" / "language.md").read_text()
    path = tmp_path / "t.ccai"
    path.write_text('assembly "a" {\n  source polis { path = "x" }\n  consensus gac { top_k = 2 }'
                    '\n}\n\nconstitution "c" {\n  from     = assembly.a\n'
                    f"  template = {template}\n}}\n")
    programs, diags = check_paths([str(path)])
    assert not [d for d in diags if d.is_error]
    refs = (StatementRef(id="1", text="The AI should be fair."),
            StatementRef(id="2", text="The AI should not be racist."))
    selection = SelectedStatements(assembly="a", method="m", threshold=None, top_k=2,
                                   statements=refs, candidates={r.id: r for r in refs},
                                   fields={"1": {"author": "17"}})
    (c,), render_diags = build_constitutions(lower_constitutions(programs[0], {}), {"a": selection})
    assert render_diags == []
    assert [p.text for p in c.principles] == [
        "Choose the response that is fairest (suggested by participant 17).",
        "Choose the response that is least racist."]


# ---------------------------------------------------------------- property: never a crash


_ATOMS = st.sampled_from([
    "statement.text", "statement.gac", "statement.author", "statement.groups", "statement.id",
    "statement.votes", "none", "'ab'", "[1, 2]", "0", "-1", "3", "10**9", "2.5", "{'a': 1}",
])
_FILTERS = st.sampled_from([
    "upper", "length", "list", "sum", "round(1)", "truncate(-1)", "wordwrap(0)", "slice(0)",
    "slice(3)", "center(10**9)", "indent(10**8)", "join('-')", "format(10**8)", "first",
    "int", "float", "string", "tojson", "tojson(10**7)", "batch(10**9)", "replace('', 'xy')",
    "default('d')", "sentence", "as_comparison", "unique", "sort", "reverse", "abs", "pprint",
])
_CALLS = st.sampled_from(["split()", "upper()", "join('ab')", "replace('a', 'bb')", "items()",
                          "ljust(10**9)", "split", "format(1)", "count('a')", "get('x')"])


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(_ATOMS, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "~"]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, _FILTERS).map(lambda t: f"({t[0]} | {t[1]})"),
        st.tuples(inner, _CALLS).map(lambda t: f"{t[0]}.{t[1]}"),
    ), max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=_expressions(), loop=st.booleans(),
       text=st.text(alphabet="abc xyz.,!?'-\n", max_size=40))
def test_any_template_renders_or_gives_a_template_diagnostic(expr: str, loop: bool,
                                                             text: str) -> None:
    """Whatever a template does with a statement: a bounded, repeatable text or a CCAI3xx
    diagnostic at the template, never an exception (exit 3), "None" or a heap address."""
    import re

    from ccaic.check.templates import check_text
    from ccaic.constitution.render import _render, _statement_context
    from ccaic.constitution.templates import MAX_CHARS, Limits
    from ccaic.diagnostics import DiagnosticError, Span
    from ccaic.lowering.constitution import TemplateSpec

    source = f"{{% for x in {expr} %}}{{{{ x }}}}{{% endfor %}}" if loop else f"{{{{ {expr} }}}}"
    span = Span(file="t.ccai", line=1, column=1, end_line=1, end_column=2)
    if [d for d in check_text(source, "statement", lambda *_: span) if d.is_error]:
        return  # refused by `ccaic check`: it never renders
    context = {"statement": _statement_context(
        StatementRef(id="1", text=text, gac=0.5, agrees=1, disagrees=0, passes=0,
                     groups={"0": 0.5}), {})}
    try:
        out = _render(TemplateSpec(text=source, span=span), context, "statement 1", Limits())
    except DiagnosticError as exc:
        assert [d.code for d in exc.diagnostics] in (
            ["CCAI306"], ["CCAI307"], ["CCAI308"], ["CCAI310"]), exc.diagnostics
        assert "statement 1" in exc.diagnostics[0].message
        return
    assert len(out) <= MAX_CHARS
    assert "None" not in out and not re.search(r" at 0x[0-9a-f]+", out), out


ATTRS_FROM_VARS = '''
variable "t" { type = string }
variable "c" { type = string }
variable "w" { type = number }
variable "tags" { type = list }
assembly "a" {
  source polis { path = "x" }
  consensus gac { threshold = 0.5 }
}
constitution "c" {
  from        = assembly.a
  description = var.t
  template    = var.t
  critique    = var.c
  principle "p" {
    text     = var.t
    revision = var.c
    weight   = var.w
    tags     = var.tags
  }
}
'''


def test_attributes_from_variables_are_used(tmp_path: Path) -> None:
    """`template = var.t`, `text = var.t`, `weight = var.w` ... were ignored: the default
    template ran, the principle text and description were empty, weight 1 and no tags."""
    path = tmp_path / "v.ccai"
    path.write_text(ATTRS_FROM_VARS)
    programs, diags = check_paths([str(path)])
    assert [d.message for d in diags if d.is_error] == []
    variables = {"t": "T{{ statement.id if statement else '' }}", "c": "C {{ principle.id }}",
                 "w": 2.5, "tags": ["x", "y"]}
    (c,), render_diags = build_constitutions(lower_constitutions(programs[0], variables),
                                               {"a": SELECTION})
    assert render_diags == []
    assert c.description == variables["t"]
    rendered = [p for p in c.principles if p.id != "p"]
    assert [(p.text, p.critique) for p in rendered[:2]] == [("T1", "C s1"), ("T2", "C s2")]
    (hand,) = [p for p in c.principles if p.id == "p"]
    assert (hand.text, hand.revision, hand.weight, hand.tags) == (
        variables["t"], "C {{ principle.id }}", 2.5, ("x", "y"))
