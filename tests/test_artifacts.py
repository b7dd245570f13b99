"""Typed artifacts: `ccaic schema NAME` prints each published schema (golden), an unknown name
is CCAI603, and the artifacts real builds write validate against their models (the golden
builds check every file they write: tests/test_golden_builds.py; the full quickstart run:
tests/train/test_build_run.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from golden_files import check_golden
from pydantic import ValidationError

from ccaic.artifacts import kind_of, model, validate_text, validate_tree
from ccaic.registry.artifacts import ARTIFACTS

GOLDEN = Path(__file__).resolve().parent / "golden" / "schema"


@pytest.mark.parametrize("name", ARTIFACTS.names())
def test_schema_output_is_golden(name: str) -> None:
    code, out, err = run_cli(["schema", name])
    assert (code, err) == (0, "")
    check_golden(GOLDEN / f"{name}.json", out, f"golden/schema/{name}.json", name,
                 f"`ccaic schema {name}` differs")


def test_schema_defaults_to_the_ast() -> None:
    assert run_cli(["schema"]) == run_cli(["schema", "ast"])


def test_every_published_schema_is_a_valid_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for name in ARTIFACTS.names():
        jsonschema.Draft202012Validator.check_schema(json.loads(run_cli(["schema", name])[1]))


def test_an_unknown_schema_is_ccai603_with_the_closest_name() -> None:
    code, out, err = run_cli(["schema", "asembly"])
    assert (code, out) == (1, "")
    assert "error[CCAI603]: no schema named `asembly`" in err
    assert "did you mean `assembly`?" in err and "Traceback" not in err


@pytest.mark.parametrize(("path", "kind"), [
    ("assemblies/a.json", "assembly"), ("constitutions/c.json", "constitution"),
    ("plans/p/plan.json", "plan"), ("plans/p/run.json", "run"),
    ("plans/p/eval/bbq.json", "bbq"), ("plans/p/eval/hhh.json", "hhh"),
    ("report.json", "report"), ("constitutions/c.md", None),
    ("plans/p/stages/sft-0/manifest.json", None), ("plans/p/final/report.json", None),
])
def test_each_build_path_maps_to_its_artifact(path: str, kind: str | None) -> None:
    assert kind_of(path) == kind


def test_the_quickstart_artifacts_validate_and_a_drifted_one_does_not(tmp_path: Path,
                                                                     repo: Path) -> None:
    """A real build (to its plan: no torch) writes only artifacts its models accept; a key
    the model does not name, or a missing one, is refused."""
    out = tmp_path / "out"
    code, _, err = run_cli(["build", str(repo / "examples" / "quickstart" / "quickstart.ccai"),
                            "-o", str(out), "--until", "plan"])
    assert code == 0, err
    assert validate_tree(out) == ["assemblies/quickstart.json", "constitutions/quickstart.json",
                                  "plans/quickstart/plan.json", "report.json"]
    body = json.loads((out / "assemblies" / "quickstart.json").read_text(encoding="utf-8"))
    with pytest.raises(ValidationError, match="extra_forbidden"):
        validate_text("assemblies/quickstart.json", json.dumps({**body, "surprise": 1}))
    with pytest.raises(ValidationError, match="selection"):
        validate_text("assemblies/quickstart.json",
                      json.dumps({k: v for k, v in body.items() if k != "selection"}))
    # a new score's column in the statement rows needs no model change, but must be a number
    rows = [{**s, "gac_floor": 0.5} for s in body["statements"]]
    validate_text("assemblies/quickstart.json", json.dumps({**body, "statements": rows}))
    rows[0]["gac_floor"] = "high"
    with pytest.raises(ValidationError):
        validate_text("assemblies/quickstart.json", json.dumps({**body, "statements": rows}))


def test_the_models_carry_their_format_version() -> None:
    for name in ("assembly", "run", "bbq", "hhh", "report"):
        assert model(name).model_fields["format_version"].default == "1.0"
