"""Shared test fixtures: where the repo and ../shared live, and the CCAI paper build."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import CliBuild, run_cli
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


@pytest.fixture
def polis_math(shared: Path) -> Callable[[str], Path]:
    """The folder of a Polis conversation with the server's math output (math-pca2.json), by
    name, in ../shared (red-dwarf's MPL-2.0 fixtures; the test skips when it is absent)."""
    def folder(name: str) -> Path:
        return shared / "data" / "polis" / "polis-math" / name

    return folder


@pytest.fixture(autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                ) -> None:
    """Builds under test share one throw-away assembly cache, never ~/.cache/ccaic."""
    if "CCAIC_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("CCAIC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ccaic-cache"))


CCAI_2023_EXAMPLE = REPO / "examples" / "ccai-2023" / "ccai-2023.ccai"


@pytest.fixture(scope="session")
def ccai_paper_build(tmp_path_factory: pytest.TempPathFactory) -> CliBuild:
    """The README's one command on the CCAI 2023 export (examples/ccai-2023: the paper's
    public constitution, the standard one and their plans), built once per test run: every
    test of the paper's figures reads this build (about 10 s)."""
    data = SHARED / "data" / "ccai-2023"
    if not data.is_dir():
        pytest.skip("../shared/data is absent: this test reads the real CCAI data beside the repo")
    out = tmp_path_factory.mktemp("ccai-paper") / "build"
    with pytest.MonkeyPatch.context() as env:  # before any test's _user_cache: the same cache
        if "CCAIC_CACHE_DIR" not in os.environ:
            env.setenv("CCAIC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ccaic-cache"))
        env.setenv("NO_COLOR", "1")
        code, stdout, stderr = run_cli(["build", str(CCAI_2023_EXAMPLE), "--var",
                                        f"data={data}", "-o", str(out), "--until", "plan"])
    return CliBuild(CCAI_2023_EXAMPLE, out, code, stdout, stderr)
