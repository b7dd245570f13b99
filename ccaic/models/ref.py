"""A model reference as a plan names it, and the one parser of its text (no torch).

`builtin:tiny`, a Hugging Face id (`org/name`, pinned with `org/name@revision`), a local folder
(relative to the .ccai file's folder) or an OpenAI-compatible endpoint
(`openai:<model>@<base_url>`, feedback models only). The plan, the evaluate command and the
HHH judge all read a reference through `parse_model_ref`, so they agree on what it names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ccaic.files import FileRefused, path_kind, relative_posix

BUILTIN_MODELS = ("tiny",)
HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9_.\-]+(@[A-Za-z0-9_.\-/]+)?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?!\\|/)")  # `kind:`, not `C:\` or `C:/`

class ModelRef(BaseModel):
    """A model: builtin:tiny, a Hugging Face id, a local path, or an OpenAI-compatible endpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str  # as written in the plan block
    kind: Literal["builtin", "hf", "local", "openai"]
    name: str  # builtin name, HF id, path relative to the .ccai folder, or remote model name
    base_url: str | None = None  # openai only
    revision: str | None = None  # HF revision, when pinned (org/name@rev)

    def folder(self, base_dir: str | Path | None) -> Path:
        """A local model's folder: its name (relative to the .ccai file's folder, `base_dir`;
        the working directory when None) as an absolute path."""
        return (Path(base_dir or Path.cwd()) / self.name).resolve()


Parsed = tuple[ModelRef | None, str, str]  # (ref, code, message): see parse_model_ref


def parse_model_ref(text: str, base: Path, *, remote_ok: bool) -> Parsed:
    """(ref, code, message): ref is None when the reference is wrong (code and message say
    why); `base` is the folder local paths are relative to, `remote_ok` whether an
    `openai:` endpoint may be named (it can label but cannot be trained)."""
    text = text.strip()
    if text.startswith("builtin:"):
        return _builtin(text)
    if text.startswith("openai:"):
        return _remote(text, remote_ok)
    if _SCHEME.match(text):
        return None, "CCAI501", f"unknown model kind `{text.split(':', 1)[0]}:`"
    return _folder_or_hub(text, base)


def _builtin(text: str) -> Parsed:
    name = text.split(":", 1)[1]
    if name in BUILTIN_MODELS:
        return ModelRef(ref=text, kind="builtin", name=name), "", ""
    return None, "CCAI501", f"unknown built-in model `{text}`"


def _remote(text: str, remote_ok: bool) -> Parsed:
    model, sep, url = text.split(":", 1)[1].partition("@")
    if not sep or not model or not re.match(r"https?://", url):
        return None, "CCAI501", f"malformed remote model reference `{text}`"
    if not remote_ok:
        return None, "CCAI501", (f"`{text}` is a remote model: it can label preferences but "
                                 "cannot be trained")
    return ModelRef(ref=text, kind="openai", name=model, base_url=url), "", ""


def _folder_or_hub(text: str, base: Path) -> Parsed:
    """A folder that exists is local (even when it also reads as a Hub id); a path that
    looks local but is missing is CCAI502; else a Hub id, `@` pinning its revision."""
    candidate = Path(os.path.expanduser(text))
    local = candidate if candidate.is_absolute() else base / candidate
    looks_local = text.startswith((".", "/", "~")) or candidate.is_absolute()
    try:
        present = path_kind(local) != "missing"
    except FileRefused as exc:  # a name too long, a symlink loop, ...
        return None, exc.code, f"cannot read model folder `{text}`: {exc.strerror}"
    if present:
        name = relative_posix(str(local.resolve()), base)
        return ModelRef(ref=text, kind="local", name=name), "", ""
    if looks_local:
        return None, "CCAI502", f"model folder `{text}` does not exist"
    if HF_ID.fullmatch(text):
        name, _, rev = text.partition("@")
        return ModelRef(ref=text, kind="hf", name=name, revision=rev or None), "", ""
    return None, "CCAI501", f"unknown model kind `{text}`"
