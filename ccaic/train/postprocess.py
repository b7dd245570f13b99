"""Cleaning generated critiques and revisions (no torch)."""

from __future__ import annotations

import re
from collections.abc import Sequence

DEFAULT_STOPS = ("<|im_end|>", "<|endoftext|>", "</s>", "\nHuman:", "\nUser:", "\n###",
                 "\nCritiqueRequest:", "\nRevisionRequest:")
_PREFIX = re.compile(
    r"^\s*(?:(?:sure|okay|ok|certainly)[,.!]?\s*)?"
    r"(?:(?:here(?:'s| is)\s+)?(?:a|the|my)?\s*(?:revised|rewritten|new|improved)\s+"
    r"(?:response|answer|version)|revision|new_response|critique)\s*[:\-]\s*",
    re.IGNORECASE)
_ROLE = re.compile(r"^\s*(?:human|user|assistant|system)\s*:", re.IGNORECASE)

DROP_REASONS = ("empty", "truncated", "unchanged", "role_tag")


def cut_at_stops(text: str, stops: Sequence[str] = ()) -> tuple[str, bool]:
    """Text up to the first stop string; whether one was found."""
    cut = len(text)
    for stop in (*DEFAULT_STOPS, *stops):
        if not stop:
            continue
        i = text.find(stop)
        if i != -1:
            cut = min(cut, i)
    return text[:cut], cut < len(text)


def strip_prefix(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1)
    return text.strip()


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def clean_revision(text: str, finish_reason: str, previous: str, stops: Sequence[str] = (),
                   drop_truncated: bool = True) -> tuple[str, str | None]:
    """(cleaned text, drop reason or None)."""
    text, stopped = cut_at_stops(text, stops)
    if stopped:
        finish_reason = "stop"
    text = strip_prefix(text)
    if not text:
        return text, "empty"
    if _ROLE.match(text):
        return text, "role_tag"
    if drop_truncated and finish_reason == "length":
        return text, "truncated"
    if _norm(text) == _norm(previous):
        return text, "unchanged"
    return text, None


def clean_text(text: str, stops: Sequence[str] = ()) -> str:
    text, _ = cut_at_stops(text, stops)
    return strip_prefix(text) if text.strip() else ""
