"""The one content-addressed store: training stage folders and evaluation outputs (no torch).

Every result is found by `content_key` of its inputs and trusted only once committed.

A stage's folder is `stages/<name>-<key16>` where key is the sha256 of the stage's inputs
(its settings, the plan seed, the models it reads and its upstream stages' keys). A stage is
done when `manifest.json` exists: it is written last, atomically. Generation writes one
`parts/NNNNNN.jsonl` file per batch, atomically, so a killed run keeps every finished batch
and redoes only the one it was in (batch seeds depend on the batch index only, so the redone
batch is identical).

Named outputs (eval/*.json) share one folder: `manifest.json` records each file's key and the
sha256 of its bytes, and a file is reused only when both still match (`cached_output`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json, canonical_jsonl, canonical_sha256

STAGE_CODE_VERSION = "1"


def content_key(data: Any, code: str = STAGE_CODE_VERSION) -> str:
    """The key of a result: its inputs' canonical sha256, with the version of the code that
    computes it (bumping `code` invalidates every result of that kind)."""
    return canonical_sha256({"code": code, "inputs": data})


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class StageDir:
    def __init__(self, out_dir: Path, name: str, key: str):
        self.name = name
        self.key = key
        self.path = out_dir / "stages" / f"{name}-{key[:16]}"
        self.reused = 0  # batches found on disk from an interrupted run

    @property
    def done(self) -> bool:
        return (self.path / "manifest.json").is_file()

    def manifest(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / "manifest.json").read_text("utf-8"))
        return data

    def commit(self, manifest: dict[str, Any]) -> None:
        write_text_atomic(self.path / "manifest.json",
                          canonical_json({"stage": self.name, "key": self.key, **manifest}))

    def file(self, name: str) -> Path:
        return self.path / name

    def write_jsonl(self, name: str, rows: list[dict[str, Any]]) -> str:
        text = canonical_jsonl(rows)
        write_text_atomic(self.path / name, text)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    # batches
    def part(self, index: int) -> Path:
        return self.path / "parts" / f"{index:06d}.jsonl"

    def read_part(self, index: int) -> list[dict[str, Any]] | None:
        p = self.part(index)
        return read_jsonl(p) if p.is_file() else None

    def write_part(self, index: int, rows: list[dict[str, Any]]) -> None:
        write_text_atomic(self.part(index), canonical_jsonl(rows))

    def clear_parts(self) -> None:
        shutil.rmtree(self.path / "parts", ignore_errors=True)


# ---------------------------------------------------------------- named outputs


def read_manifest(path: Path) -> dict[str, Any]:
    """A folder's manifest of named outputs ({"outputs": {name: {"key", "sha256"}}}); empty
    when it is missing or unreadable, so every output is then computed again."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cached_output(folder: Path, manifest: dict[str, Any], name: str,
                  key: str) -> dict[str, Any] | None:
    """The JSON body of folder/name when the manifest records it under this key and the file
    still has the recorded sha256 (an edited or half-written file is computed again)."""
    entry = manifest.get("outputs", {}).get(name)
    path = folder / name
    if not isinstance(entry, dict) or entry.get("key") != key or not path.is_file():
        return None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        return None
    body: dict[str, Any] = json.loads(data)
    return body
