"""The README is the front door: its two commands are what CI runs and what the main job is."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


def _commands(repo: Path) -> list[str]:
    readme = (repo / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_readme_test_command_is_what_ci_runs(repo: Path) -> None:
    main_job, test_command = _commands(repo)
    ci = (repo / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command == "./scripts/test"
    assert re.search(r"^\./scripts/test$", ci, re.M)
    assert main_job.startswith("./scripts/setup && ")


def test_readme_main_job_runs_and_rebuilds_with_nothing_changed(repo: Path,
                                                               tmp_path: Path) -> None:
    """The main job as the README writes it (setup already done by the test command)."""
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    main_job = _commands(repo)[0].split("&&", 1)[1].strip()
    args = main_job.split()
    assert args[0] == ".venv/bin/ccaic" and args[1] == "build"
    out = tmp_path / "quickstart"
    command = [sys.executable, "-m", "ccaic", *args[1:-1], str(out)]
    first = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert (out / "report.html").is_file()
    assert (out / "plans" / "quickstart" / "final").is_dir()
    again = subprocess.run([*command, "--detailed-exitcode"], cwd=repo, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr  # 0, not 2: nothing changed
    assert "0 training steps ran" in again.stderr
