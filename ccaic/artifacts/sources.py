"""sources/ASSEMBLY/polis_api/snapshot.json (format 1.0): what the polis_api source last
downloaded (ccaic.assembly.sources.polis_api), written after the files it lists, so an offline
build or CI can rebuild from a committed snapshot."""

from __future__ import annotations

from typing import Literal

from ccaic.artifacts import ArtifactModel


class SnapshotFile(ArtifactModel):
    """One downloaded file: where from, its bytes' sha256 and size, and the HTTP validators a
    later sync sends to skip an unchanged download."""

    url: str
    sha256: str
    bytes: int
    etag: str | None
    last_modified: str | None


class PolisSnapshotArtifact(ArtifactModel):
    format_version: Literal["1.0"] = "1.0"
    base_url: str
    conversation_id: str | None
    report_id: str | None  # set: the report's CSV export; None: the conversation's JSON API
    format: Literal["polis-csv", "polis-json"]
    files: dict[str, SnapshotFile]  # file name in the folder -> its record
