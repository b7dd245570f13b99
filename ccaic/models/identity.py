"""What a model is, for cache keys: the one identity every stage key uses (no torch).

A stage that reads a model is reused only while the model is the same, so the identity must
change whenever the weights can: a local folder is keyed by the content of its files
(weights, config, tokenizer), a Hub id by its pinned revision and the commit the local
Hugging Face cache resolves it to, `builtin:tiny` by its version and seed, a remote endpoint by
its URL and model name (its weights are not ours to see).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ccaic.models.ref import ModelRef

# Files `run_plan` writes into final/ beside the model; they are not the model.
FINAL_METADATA = ("plan.json", "constitution.json", "source.json", "README.md")

_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    """sha256 of a file, memoised on (path, size, mtime) so a build hashes big weights once."""
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo not in _DIGESTS:
        h = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
        _DIGESTS[memo] = h.hexdigest()
    return _DIGESTS[memo]


def model_files_digest(folder: Path, skip: tuple[str, ...] = FINAL_METADATA) -> dict[str, str]:
    """sha256 of every file of a saved model (relative POSIX path -> hash), sorted; hidden
    files (temporaries, caches) and the names in `skip` left out."""
    out: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel in skip or "/." in f"/{rel}":
            continue
        out[rel] = _file_sha256(path)
    return out


def folder_sha256(folder: Path) -> str:
    """One hash over a model folder's file names and contents."""
    files = model_files_digest(folder, ())
    listing = "".join(f"{rel}\t{digest}\n" for rel, digest in files.items())
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def cached_file(repo_id: str, filename: str, revision: str | None) -> Path | None:
    """repo_id's `filename` at revision (a branch, tag or commit; None: main) in the local
    Hugging Face cache, without any network access; None when it is not cached."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    import os

    try:
        found = try_to_load_from_cache(repo_id, filename, revision=revision,
                                       cache_dir=os.environ.get("HF_HUB_CACHE") or None)
    except ValueError:  # not a repo id at all (a path): nothing cached under it
        return None
    return Path(found) if isinstance(found, str) else None


def cached_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit the local Hugging Face cache holds for repo_id at revision (None: main);
    None when it is not cached."""
    found = cached_file(repo_id, "config.json", revision)
    return found.parent.name if found is not None else None  # .../snapshots/<commit>/config.json


def model_identity(ref: ModelRef, base_dir: str | Path | None, seed: int) -> dict[str, Any]:
    """The identity of the model `ref` names (see the module docstring); JSON data."""
    data: dict[str, Any] = ref.model_dump(mode="json")
    if ref.kind == "builtin":
        from ccaic.models.tiny import TINY_VERSION

        data.update(builtin_version=TINY_VERSION, seed=seed)
    elif ref.kind == "local":
        folder = ref.folder(base_dir)
        data["content_sha256"] = folder_sha256(folder) if folder.is_dir() else None
    elif ref.kind == "hf":
        data["commit"] = cached_commit(ref.name, ref.revision)
    return data
