"""The Jinja2 environment principle templates run in: sandboxed, strict, with our filters.

A .ccai file from a stranger may carry templates, so they run in a SandboxedEnvironment with
StrictUndefined; the checker also rejects attribute escapes (`__class__`) before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment


def _sentence(text: Any) -> str:
    """Capitalised, one final full stop."""
    s = str(text).strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?" else s + "."


def _strip_period(text: Any) -> str:
    return str(text).strip().rstrip(".!").rstrip()


def _lower_first(text: Any) -> str:
    s = str(text).strip()
    return s[:1].lower() + s[1:]


def filters() -> dict[str, Callable[..., Any]]:
    """Filter name -> function; the statement rewrites live in ccaic.rewrite."""
    table: dict[str, Callable[..., Any]] = {
        "sentence": _sentence,
        "strip_period": _strip_period,
        "lower_first": _lower_first,
    }
    from ccaic.rewrite import FILTERS

    table.update(FILTERS)
    return table


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=False)
    env.globals.clear()  # no range(), lipsum(), cycler(): a template sees its context, nothing else
    env.filters.update(filters())
    return env


# Tags that reach other templates (files) or define callables; a principle template needs none.
FORBIDDEN_TAGS = ("Macro", "CallBlock", "Include", "Import", "FromImport", "Extends", "Block")
