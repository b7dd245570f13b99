"""Docs that are generated or shown to users stay in step with the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_errors_index_is_up_to_date(repo: Path) -> None:
    done = subprocess.run([sys.executable, str(repo / "scripts" / "errors_index.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
