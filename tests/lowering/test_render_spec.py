"""Rendering needs no Program: a ConstitutionSpec built by hand renders, with every hand edit,
and a template failure points at the template line the spec says."""

from __future__ import annotations

from pathlib import Path

from ccaic.check.checker import check_paths
from ccaic.check.templates import line_span
from ccaic.constitution.model import StatementRef
from ccaic.constitution.render import SelectedStatements, build_constitutions
from ccaic.diagnostics import Span
from ccaic.lowering.constitution import (
    DEFAULT_TEMPLATE,
    ConstitutionSpec,
    DropSpec,
    EditSpec,
    FromAssemblySpec,
    MergeSpec,
    PrincipleSpec,
    TemplateSpec,
)
from ccaic.lowering.lower_constitution import lower_constitutions
from ccaic.syntax import ast


def _span(line: int, column: int = 1) -> Span:
    return Span(file="/x/c.ccai", line=line, column=column, end_line=line,
                end_column=column + 1)


REFS = tuple(StatementRef(id=str(i), text=f"is good in way {i}.", gac=0.5) for i in range(1, 6))
SELECTED = SelectedStatements(assembly="a", method="gac >= 0.5", threshold=0.5, top_k=None,
                              statements=REFS, candidates={r.id: r for r in REFS})
TEMPLATE = TemplateSpec(text="Choose the response that\n{{ statement.text | strip_period }}.",
                        span=_span(3), lines=(_span(3, 14), _span(4)))


def _spec(template: TemplateSpec = TEMPLATE, **more: object) -> ConstitutionSpec:
    source = FromAssemblySpec(
        assembly="a", span=_span(2), template=template,
        drops=(DropSpec(ids=("5",), because="duplicate", span=_span(9)),),
        merges=(MergeSpec(id="m1", statements=("3", "4"), text="Choose the honest one.",
                          reason="same idea", span=_span(7), label_span=_span(7, 9)),),
        edits=(EditSpec(id="2", text="Choose the kind one.", reason="clearer",
                        span=_span(5)),))
    return ConstitutionSpec(
        name="c", file="c.ccai", source=source, label_span=_span(1, 14), span=_span(1),
        principles=(PrincipleSpec(id="extra", text="Choose the careful one.",
                                  critique="Is it careless?", revision="Make it careful.",
                                  weight=2.0, tags=("safety",)),), **more)  # type: ignore[arg-type]


def test_a_spec_built_by_hand_renders() -> None:
    (c,), diags = build_constitutions([_spec()], {"a": SELECTED})
    assert diags == []
    assert [p.id for p in c.principles] == ["s1", "s2", "m1", "extra"]
    by_id = {p.id: p for p in c.principles}
    assert by_id["s1"].text == "Choose the response that\nis good in way 1."
    assert by_id["s2"].text == "Choose the kind one."
    assert by_id["s2"].edits[0].before == "Choose the response that\nis good in way 2."
    assert by_id["s2"].edits[0].location == "/x/c.ccai:5"
    assert [s.id for s in by_id["m1"].sources] == ["3", "4"]
    assert (by_id["extra"].weight, by_id["extra"].tags) == (2.0, ("safety",))
    assert [(d.id, d.because) for d in c.dropped] == [("5", "duplicate")]
    assert c.origin.kind == "assembly" and c.selection is not None


def test_a_template_failure_points_at_the_line_the_spec_gives() -> None:
    broken = TEMPLATE.model_copy(update={"text": "ok\n{{ statement.text | round }}"})
    _, diags = build_constitutions([_spec(broken)], {"a": SELECTED})
    assert {d.code for d in diags} == {"CCAI306"}
    assert {d.span for d in diags} == {_span(4)}
    flat = broken.model_copy(update={"lines": ()})  # a variable's value: at the attribute
    _, diags = build_constitutions([_spec(flat)], {"a": SELECTED})
    assert {d.span for d in diags} == {_span(3)}


def test_ids_the_selection_lacks_and_a_missing_selection_are_diagnostics() -> None:
    _, diags = build_constitutions([_spec()], {"a": SelectedStatements(
        assembly="a", method="m", threshold=None, top_k=None, statements=REFS[:2],
        candidates={r.id: r for r in REFS})})
    assert [(d.code, d.span) for d in diags] == [
        ("CCAI451", _span(9)), ("CCAI451", _span(7)), ("CCAI451", _span(7))]
    _, diags = build_constitutions([_spec()], {})
    assert [(d.code, d.span) for d in diags] == [("CCAI451", _span(2))]


def test_lowering_decides_the_defaults_and_the_template_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.ccai"
    path.write_text('assembly "a" {\n  source polis { path = "x" }\n'
                    '  consensus gac { threshold = 0.5 }\n}\n'
                    'constitution "c" {\n  from = assembly.a\n'
                    '  critique = """\nIs it {{ principle.text }}?\n"""\n'
                    '  principle "p" { text = "Choose the response that is calm." }\n}\n',
                    encoding="utf-8")
    programs, diags = check_paths([str(path)])
    assert [d for d in diags if d.is_error] == []
    (spec,) = lower_constitutions(programs[0], {})
    assert spec.source is not None and spec.source.template.text == DEFAULT_TEMPLATE
    assert spec.source.template.rewrites and spec.source.template.span == spec.source.span
    block = programs[0].symbols[("constitution", "c")]
    critique = block.attributes()["critique"].value
    assert isinstance(critique, ast.TemplateLit) and spec.critique is not None
    assert spec.critique.lines == tuple(line_span(critique, n) for n in range(1, 4))
    (p,) = spec.principles
    assert (p.weight, p.tags) == (1.0, ())
    assert p.critique.startswith("Identify specific ways in which the response")
