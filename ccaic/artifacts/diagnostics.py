"""`--format json` diagnostics (format 1.0, ccaic.diagnostics.render_json): what `ccaic check`
and every other command print for editors and CI when a file has errors or warnings."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel


class Position(ArtifactModel):
    line: int  # 1-based
    column: int  # 1-based
    offset: int  # 0-based, in characters


class Range(ArtifactModel):
    filename: str
    start: Position
    end: Position


class Snippet(ArtifactModel):
    """The source line around the range, and where in it the range falls."""

    code: str
    start_line: int
    highlight_start_offset: int
    highlight_end_offset: int


class Related(ArtifactModel):
    message: str
    range: Range | None = None  # absent: a note about no place in particular


class Diagnostic(ArtifactModel):
    severity: Literal["error", "warning"]
    code: str  # CCAI###: `ccaic explain CODE`
    summary: str
    detail: str  # the hint ("" when there is none)
    doc: str
    range: Range | None = None  # absent: a diagnostic about no place in a file
    snippet: Snippet | None = None  # absent when the line cannot be read
    related: list[Related]


class DiagnosticsArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    valid: bool  # no error
    error_count: int
    warning_count: int
    diagnostics: list[Diagnostic]
