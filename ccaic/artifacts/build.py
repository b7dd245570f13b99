"""`ccaic build --format json` (format 1.0, ccaic.commands.build): what a build wrote and
found, for CI to act on without parsing text."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel
from ccaic.artifacts.diagnostics import DiagnosticsArtifact


class WrittenArtifact(ArtifactModel):
    path: str  # relative to the build folder
    sha256: str
    changed: bool  # its bytes differ from what the folder held before


class PlanRun(ArtifactModel):
    ran: list[str]  # the step addresses that ran (not reused)
    steps: list[str]  # every step address the run recorded, sorted


class BuildResultArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    ok: bool
    stopped_after: str | None  # the --until stage, None for a full build
    artifacts: list[WrittenArtifact]
    runs: dict[str, PlanRun]  # plan name -> its training run
    diagnostics: DiagnosticsArtifact
