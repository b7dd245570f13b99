"""Every example builds, and the quickstart's data is exactly what its generator writes."""

from __future__ import annotations

import filecmp
import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import CliBuild

from ccaic.build import STAGES

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"
CCAI_2023 = REPO / "examples" / "ccai-2023" / "ccai-2023.ccai"

# `ccaic build --until` stages in pipeline order, up to the training plan.
PIPELINE = ("check", "assemblies", "constitution", "plan")
TRAINING = ("torch", "transformers", "trl")


def _last_stage_up_to(stage: str) -> str:
    """The last stage this ccaic knows that is not after `stage`."""
    known = [s for s in PIPELINE[:PIPELINE.index(stage) + 1] if s in STAGES]
    return known[-1]


def _build(spec: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccaic", "build", str(spec), "-o", str(out),
                           *args], cwd=REPO, capture_output=True, text=True, check=False)


def _ok(result: subprocess.CompletedProcess, code: int = 0) -> None:
    assert result.returncode == code, result.stdout + result.stderr


# --- quickstart ----------------------------------------------------------------------------------

def test_quickstart_builds_to_the_plan(tmp_path: Path) -> None:
    stage = _last_stage_up_to("plan")
    out = tmp_path / "build"
    _ok(_build(QUICKSTART / "quickstart.ccai", out, "--until", stage))
    assembly = json.loads((out / "assemblies" / "quickstart.json").read_text(encoding="utf-8"))
    assert assembly["participants"] > 250  # 300 simulated, a few with too few votes
    constitution = json.loads(
        (out / "constitutions" / "quickstart.json").read_text(encoding="utf-8"))
    assert 1 <= len(constitution["principles"]) <= 20  # top_k = 20
    if stage == "plan":
        assert (out / "plans" / "quickstart" / "plan.json").is_file()
    # nothing changed: a second build reuses every stage and rewrites nothing
    _ok(_build(QUICKSTART / "quickstart.ccai", out, "--until", stage, "--detailed-exitcode"))


@pytest.mark.slow
def test_quickstart_builds_end_to_end(tmp_path: Path) -> None:
    missing = [m for m in TRAINING if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"training needs {', '.join(missing)}: pip install 'ccaic[train]'")
    out = tmp_path / "build"
    _ok(_build(QUICKSTART / "quickstart.ccai", out))
    _ok(_build(QUICKSTART / "quickstart.ccai", out, "--detailed-exitcode"))


def test_quickstart_data_regenerates_byte_identical(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(QUICKSTART / "generate.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    for folder in ("data", "prompts"):
        committed = sorted(p.name for p in (QUICKSTART / folder).iterdir())
        written = sorted(p.name for p in (tmp_path / folder).iterdir())
        assert written == committed, folder
        _match, mismatch, errors = filecmp.cmpfiles(QUICKSTART / folder, tmp_path / folder,
                                                   committed, shallow=False)
        assert (mismatch, errors) == ([], []), f"{folder}: regenerated files differ"


# --- CCAI 2023 (about 10 s each) ------------------------------------------------------------

def _paper_figures(out: Path) -> None:
    assembly = json.loads((out / "assemblies" / "ccai_us_2023.json").read_text(encoding="utf-8"))
    assert assembly["participants"] == 1002
    kept = [s["gac"] for s in assembly["statements"] if not s["moderated_out"]]
    assert len(kept) == 275
    assert assembly["groups"]["k"] == 2
    assert assembly["consensus"]["threshold"] == 0.723
    # the paper: mean 0.64, median 0.70, min 0.04, max 0.96
    assert round(statistics.mean(kept), 2) == 0.64
    assert round(statistics.median(kept), 2) == 0.70
    assert round(min(kept), 2) == 0.04
    assert round(max(kept), 2) == 0.96
    assert len(assembly["selection"]) == 116
    constitution = json.loads((out / "constitutions" / "public.json").read_text(encoding="utf-8"))
    assert len(constitution["principles"]) == 116


def test_ccai_2023_builds_the_papers_selection_to_the_plan(ccai_paper_build: CliBuild) -> None:
    """The README's one command: the paper's constitution selection from the raw export, and
    both plans compiled (the session's build of examples/ccai-2023, tests/conftest.py)."""
    assert ccai_paper_build.spec == CCAI_2023
    assert ccai_paper_build.code == 0, ccai_paper_build.stdout + ccai_paper_build.stderr
    _paper_figures(ccai_paper_build.out)
    for plan in ("public_model", "standard_model"):
        assert (ccai_paper_build.out / "plans" / plan / "plan.json").is_file()
