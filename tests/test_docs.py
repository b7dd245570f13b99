"""Docs that are generated or shown to users stay in step with the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_errors_index_is_up_to_date(repo: Path) -> None:
    done = subprocess.run([sys.executable, str(repo / "scripts" / "errors_index.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_docs_promise_nothing_for_later(repo: Path) -> None:
    """docs/language.md called `as_behaviour` "coming in a later issue" after it had shipped: a
    user reading the docs cannot tell such a promise from a feature that is there."""
    import re

    pages = [repo / "README.md", *sorted((repo / "docs").rglob("*.md"))]
    stale = re.compile(r"(coming|comes|come) in a later issue|in a later issue|not yet "
                       r"implemented|coming soon", re.I)
    found = [f"{p.relative_to(repo)}:{i}" for p in pages
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if stale.search(line)]
    assert found == []
