"""The code's own bar, enforced in CI: ruff (with complexity C901 <= 15) and strict mypy.

Both read their configuration from pyproject.toml, so this test and a developer's shell agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_is_clean_with_complexity_at_most_15() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean_on_ccaic() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
