"""The one pipeline driver (ccaic.build.run_until): each stage's typed output is handed on in
the BuildResult, `--until` stops where it says, no folder means no file, and `ccaic diff`'s
hand-written side reads no assembly data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from cli_runner import run_cli

from ccaic.build import run_until
from ccaic.diagnostics import Diagnostic, DiagnosticError

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "quickstart.ccai"


@pytest.mark.parametrize(("until", "constitutions", "plans"), [
    ("assemblies", 0, 0), ("constitution", 1, 0), ("plan", 1, 1)])
def test_each_stage_hands_its_typed_output_on(until: str, constitutions: int,
                                               plans: int) -> None:
    result = run_until(until, str(QUICKSTART), None)
    assert result.ok and result.stopped_after == until, result.diagnostics
    assert set(result.selections) == set(result.opinion_maps) == {"quickstart"}
    assert result.opinion_maps["quickstart"].participants > 0
    assert len(result.constitutions) == constitutions and len(result.plans) == plans
    # no folder: every artifact is recorded, none is written
    assert {a.path for a in result.artifacts} >= {"assemblies/quickstart.json"}


def test_check_stops_before_the_variables() -> None:
    result = run_until("check", str(QUICKSTART), None)
    assert result.ok and result.stopped_after == "check"
    assert result.variables == {} and not result.artifacts


def test_the_opinion_maps_reach_the_report_as_the_assembly_stage_output(tmp_path: Path
                                                                          ) -> None:
    """No artifact holds the participants' projections: the report gets them from the
    assembly stage's output (once a side channel on the writer), so its opinion map shows."""
    result = run_until("constitution", str(QUICKSTART), tmp_path)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    shown = report["assemblies"]["quickstart"]["opinion_map"]
    assert shown["participants"] == result.opinion_maps["quickstart"].participants
    assert not any("opinion map is omitted" in n for n in report["notes"])
    assert not run_until("constitution", str(QUICKSTART), tmp_path, report=False).changed


def test_without_a_folder_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_until("plan", str(QUICKSTART), None).ok
    assert list(tmp_path.iterdir()) == []


def test_diff_of_a_hand_written_constitution_reads_no_assembly_data(tmp_path: Path) -> None:
    """A file whose assembly's data is missing still diffs its hand-written constitution (the
    driver runs without the assembly stage); rendered from the assembly, it needs the data."""
    assembly = '''assembly "a" {
  source polis { path = "missing" }
  consensus gac { threshold = 0.5 }
}
'''
    written = tmp_path / "written.ccai"
    written.write_text(assembly + '''
constitution "written" {
  principle "kind" { text = "Choose the kindest response." }
}
''', encoding="utf-8")
    code, out, err = run_cli(["diff", str(written), str(written), "--matcher", "tfidf",
                              "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["summary"]["unchanged"] == 1
    voted = tmp_path / "voted.ccai"
    voted.write_text(assembly + '''
constitution "voted" {
  from     = assembly.a
  template = "Choose the response that {{ statement.text }}."
}
''', encoding="utf-8")
    code, _, err = run_cli(["diff", str(voted), str(written), "--matcher", "tfidf"])
    assert code == 1 and "error[CCAI401]: source not found" in err and "Traceback" not in err


class _Recorder:
    """A stage writer with the three calls and nothing else (no root, no until to read)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.warnings: list[str] = []

    def text(self, relative: str, text: str) -> None:
        self.texts.append(relative)

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.warnings += [d.code for d in diagnostics]

    def note(self, lines: Sequence[str]) -> None:
        pass


@pytest.mark.parametrize("explore", [True, False])
def test_the_assembly_stage_takes_root_and_explore_as_arguments(tmp_path: Path,
                                                                explore: bool) -> None:
    """The build folder and `--until assemblies` reach the stage as arguments (they were read
    off the writer with getattr): an empty selection is a warning when exploring, an error in
    a build, and the cache goes under `root`."""
    from ccaic.assembly.stage import assembly_stage
    from ccaic.check.checker import check_paths
    from ccaic.lowering.lower_assembly import lower_assemblies

    spec = tmp_path / "empty.ccai"
    spec.write_text(f'assembly "a" {{\n  source polis {{ path = "{QUICKSTART.parent / "data"}" }}'
                    '\n  groups polis { k = 2 }\n  consensus gac { threshold = 0.99 }\n}\n',
                    encoding="utf-8")
    (program,), _ = check_paths([str(spec)])
    specs, _ = lower_assemblies(program, {})
    writer, root = _Recorder(), tmp_path / "build"
    if explore:
        out = assembly_stage(specs, {}, tmp_path, writer, root=root, explore=True)
        assert list(out.selected) == ["a"] and "CCAI423" in writer.warnings
    else:
        with pytest.raises(DiagnosticError) as raised:
            assembly_stage(specs, {}, tmp_path, writer, root=root, explore=False)
        assert [d.code for d in raised.value.diagnostics] == ["CCAI423"]
    assert writer.texts == ["assemblies/a.json"] and (root / ".cache").is_dir()
