"""What a row of a plan's prompt or preference file must look like, and its chat messages.

The lowering checks every row with these before anything runs (CCAI507), and the runner reads
the rows back into chat messages with `prompt_messages`; both read the same definition, and
neither needs the syntax tree or torch.
"""

from __future__ import annotations

import json
from typing import Any

from ccaic.plan.model import Message

ROLES = ("system", "user", "assistant")


def messages_problem(value: Any) -> str | None:
    """Why `value` is not a conversation (a non-empty list of {role, content} with a user
    turn), or None."""
    if not isinstance(value, list) or not value:
        return "messages must be a non-empty list"
    for m in value:
        if not isinstance(m, dict) or not isinstance(m.get("content"), str) or \
                m.get("role") not in ROLES:
            return 'each message needs "role" (system, user or assistant) and "content"'
    if not any(m["role"] == "user" for m in value):
        return "the conversation has no user message"
    return None


def prompt_row_problem(line: str) -> str | None:
    """Why a prompt JSONL line is not {"prompt": text or messages} or {"messages": ...}, or
    None."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg})"
    if not isinstance(row, dict):
        return "not a JSON object"
    if "prompt" in row:
        p = row["prompt"]
        if isinstance(p, str):
            return None if p.strip() else "empty prompt"
        return messages_problem(p)
    if "messages" in row:
        return messages_problem(row["messages"])
    return 'no "prompt" or "messages" field'


def preference_row_problem(line: str) -> str | None:
    """Why a preference JSONL line is not {prompt, chosen, rejected}, or None."""
    problem = prompt_row_problem(line)
    if problem:
        return problem
    row = json.loads(line)
    for side in ("chosen", "rejected"):
        value = row.get(side)
        if isinstance(value, str):
            if not value.strip():
                return f'empty "{side}"'
        elif not isinstance(value, list) or not value or not all(
                isinstance(m, dict) and m.get("role") == "assistant"
                and isinstance(m.get("content"), str) for m in value):
            return f'"{side}" must be a string or a list of assistant messages'
    return None


def prompt_messages(row: dict[str, Any]) -> list[dict[str, str]]:
    """A prompt row as chat messages ending in a user turn (trailing assistant turns dropped)."""
    value = row.get("prompt", row.get("messages"))
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    messages = [{"role": m["role"], "content": m["content"]} for m in value or []]
    while messages and messages[-1]["role"] == "assistant":
        messages.pop()
    return messages


def as_message(m: dict[str, str]) -> Message:
    """One checked {role, content} dict as the plan's Message (extra keys dropped)."""
    return Message.model_validate({"role": m["role"], "content": m["content"]})
