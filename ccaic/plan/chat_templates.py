"""Chat templates a plan can name, and whether a model folder already has one (no torch).

Base checkpoints often ship no chat template (or one whose end of turn is not the EOS), and
every generation stage renders conversations with one; a plan can set `chat_template` to a
built-in name or a Jinja file. Which model folders have a template is read from their
tokenizer files, so a plan without one fails at compile time (CCAI530), not mid-build.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# HuggingFaceH4/zephyr-7b-beta's template: turns end in the tokenizer's EOS.
ZEPHYR = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}"
    "{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
BUILTIN_TEMPLATES = {"chatml": CHATML, "zephyr": ZEPHYR}


def folder_has_template(folder: Path) -> bool | None:
    """True / False from a saved tokenizer's files; None when the folder holds no tokenizer
    config (nothing to say: loading it fails with its own error)."""
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    config = folder / "tokenizer_config.json"
    if not config.is_file():
        return None
    try:
        data = json.loads(config.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return bool(isinstance(data, dict) and data.get("chat_template"))


def _hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache",
                                                     "huggingface")
    return Path(home) / "hub"


def hub_has_template(model_id: str, revision: str | None = None) -> bool | None:
    """Whether a Hub model in the local cache has a template; None when it is not cached
    (offline, we cannot know; loading it later says so with a diagnostic)."""
    repo = _hub_cache() / ("models--" + model_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / (revision or "main")
    commit = ref.read_text("utf-8").strip() if ref.is_file() else (revision or "")
    folders = [snapshots / commit] if commit and (snapshots / commit).is_dir() \
        else sorted(p for p in snapshots.iterdir() if p.is_dir())
    answers = [folder_has_template(f) for f in folders]
    known = [a for a in answers if a is not None]
    return any(known) if known else None
