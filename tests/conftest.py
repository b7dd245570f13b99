"""Shared test fixtures: where the repo and ../shared live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# CI (CI=true) replays the same examples on every run: a fresh clone has no example database,
# so a random search could fail there on a case no developer ever ran. Locally the search stays
# random (and remembers failures in .hypothesis/), which is where new bugs are found.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
SHARED = REPO.parent / "shared"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def shared() -> Path:
    """The ../shared reference data; tests that need it skip when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data is absent: this test reads the real reference data beside "
                    "the repo")
    return SHARED


@pytest.fixture(autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                ) -> None:
    """Builds under test share one throw-away assembly cache, never ~/.cache/ccaic."""
    if "CCAIC_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("CCAIC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ccaic-cache"))
