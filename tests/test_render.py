"""Constitution rendering: templates in a sandbox, hand edits, provenance, build artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccaic.build import build
from ccaic.check.checker import check_paths
from ccaic.constitution.model import Constitution, StatementRef
from ccaic.constitution.render import SelectedStatements, build_constitutions

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
    constitutions, render_diags = build_constitutions(programs[0], {}, {"a": SELECTION})
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
