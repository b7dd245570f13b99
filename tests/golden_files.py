"""What the golden-file harnesses share: optional one-per-line argument files, and comparing an
outcome with its golden file (or rewriting it under CCAIC_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

UPDATE = os.environ.get("CCAIC_UPDATE_GOLDEN") == "1"


def arg_lines(path: Path) -> list[str]:
    """Extra command-line arguments, one per line (blank lines skipped); none if no file."""
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_golden(expected_file: Path, actual: str, name: str, actual_name: str,
                 what: str) -> None:
    """`actual` must equal the golden file's text; a unified diff says where it does not.
    Under CCAIC_UPDATE_GOLDEN=1 the file is rewritten instead (read it before committing)."""
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8", newline="\n")
        return
    assert expected_file.is_file(), f"{name} is missing: run with CCAIC_UPDATE_GOLDEN=1"
    expected = expected_file.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=name, tofile=f"{actual_name} (actual)"))
        pytest.fail(f"{what} from the golden file:\n{diff}", pytrace=False)
