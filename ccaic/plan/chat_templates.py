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

# The fix every template diagnostic suggests (CCAI530 at compile time and at generation, CCAI540).
SET_TEMPLATE = 'set `chat_template = "chatml"` (or "zephyr", or file("template.jinja")) in the plan'
NO_TEMPLATE_HELP = SET_TEMPLATE + ", or use an instruct model that ships a template"


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


# The conversations ccaic renders: user/assistant turns, with and without a generation prompt.
SAMPLE_CONVERSATIONS = (
    ([{"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "Hi."},
      {"role": "user", "content": "Again?"}], True),
    ([{"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "Hi."}], False),
)


def _raise_exception(message: str) -> None:
    from jinja2.exceptions import TemplateError

    raise TemplateError(message)


def render_problem(text: str) -> str | None:
    """Why a chat template cannot render the conversations ccaic sends, or None. Compiled and
    rendered as transformers does (sandbox, trim_blocks, tojson, raise_exception), so an
    unknown filter, a missing field or a raise_exception fails at compile time instead of
    as a crash at the first generation."""
    from jinja2 import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])
    env.filters["tojson"] = lambda value, **kw: json.dumps(value, ensure_ascii=False, **kw)
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: "1 Jan 2026"
    try:
        template = env.from_string(text)
        for messages, prompt in SAMPLE_CONVERSATIONS:
            template.render(messages=messages, add_generation_prompt=prompt,
                            tools=None, documents=None, bos_token="<s>", eos_token="</s>")
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        return (f"line {line}: " if line else "") + (exc.message or type(exc).__name__)
    except Exception as exc:  # any failure of the user's template is theirs to fix
        return f"{type(exc).__name__}: {exc}"
    return None
