"""Typed artifacts: a pydantic model for every JSON file ccaic writes for people and CI to
read, each versioned by its `format_version` (or its entry's `meta["version"]` when the file
has none of its own), and the JSON Schema `ccaic schema NAME` publishes.

The writers keep producing their bytes as before (canonical JSON of plain data); the build
validates each artifact against its model (ccaic.build) and every other writer calls
`checked`, so a writer that drifts from the published shape fails in the tests instead of
surprising a reader. Which model belongs to which file is the `ARTIFACTS` registry
(ccaic/registry/artifacts.py): a new artifact is its model, one `Entry` line and, outside a
build, its writer's `checked` call.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

from ccaic.registry import load_target
from ccaic.registry.artifacts import ARTIFACTS

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class ArtifactModel(BaseModel):
    """Base of the artifact models: a key the model does not name is an error, not ignored,
    so the schema says everything a file may hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def names() -> tuple[str, ...]:
    """Every artifact `ccaic schema` can print, in registry order."""
    return ARTIFACTS.names()


def model(name: str) -> type[BaseModel]:
    return ARTIFACTS.load(name)


def json_schema(name: str) -> dict[str, Any]:
    """The published JSON Schema of one artifact: the model's own, with the draft, an $id
    carrying the format version, and a title; ast and plan keep the schemas they always had."""
    entry = ARTIFACTS.entry(name)
    custom = entry.meta.get("schema")
    if custom is not None:
        return cast(Callable[[], dict[str, Any]], load_target(str(custom)))()
    cls = model(name)
    schema = cls.model_json_schema()
    version = entry.meta.get("version") or cls.model_fields["format_version"].default
    return {"$schema": DRAFT, "$id": f"https://ccaic.dev/schemas/{name}-{version}.json",
            **schema, "title": f"ccaic {name} artifact", "description": entry.doc}


def kind_of(relative: str) -> str | None:
    """The artifact a path relative to a build folder holds (None: not a typed artifact)."""
    path = PurePosixPath(relative)
    for entry in ARTIFACTS:
        if any(path.match(pattern) and len(path.parts) == len(PurePosixPath(pattern).parts)
               for pattern in entry.meta.get("paths", ())):
            return entry.name
    return None


def validate_text(relative: str, text: str) -> None:
    """Check the text of the artifact at `relative` against its model (pydantic's
    ValidationError when it does not match); text at an untyped path passes."""
    name = kind_of(relative)
    if name is not None:
        model(name).model_validate_json(text)


def checked(name: str, text: str) -> str:
    """The text of artifact `name`, once checked against its model: a writer outside the
    build's Writer calls it so a drifted file raises (pydantic's ValidationError) unwritten."""
    model(name).model_validate_json(text)
    return text


def validate_file(root: Path, relative: str) -> None:
    """validate_text for a file a stage wrote under root (nothing when it is absent)."""
    target = root / relative
    if target.is_file():
        validate_text(relative, target.read_text(encoding="utf-8"))


def validate_tree(root: Path) -> list[str]:
    """Validate every typed artifact under a build folder; the paths checked, sorted."""
    found = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json") if p.is_file())
    typed = [relative for relative in found if kind_of(relative) is not None]
    for relative in typed:
        validate_file(root, relative)
    return typed
