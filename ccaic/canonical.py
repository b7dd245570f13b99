"""One canonical JSON for every artifact and content hash.

Equal data must give equal bytes, or a hash, a cache key or a diff disagrees with itself:
sorted keys, two-space indent, UTF-8 (no escapes), a final newline. Every artifact
(constitution, assembly, plan, run, eval, report, diff JSON) and every hash of such a body is
this text; the compact form is only for cache keys and cache entries, which nobody reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel


def canonical_json(data: Any, *, ascii: bool = False) -> str:
    """The canonical text of `data` (a pydantic model dumps in JSON mode first).

    `ascii` escapes non-ASCII characters: only for the few outputs that always did
    (`build --format json`, `schema`, a delivered adapter config), so their bytes stay put."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=ascii) + "\n"


def canonical_sha256(data: Any) -> str:
    """sha256 of the canonical text: the identity of a body (plan_sha256, stage keys)."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def canonical_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    """One sorted-key UTF-8 object per line, each ending in a newline (stage parts, histories)."""
    return "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)


def compact_json(data: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Sorted keys, no whitespace, no final newline: cache keys and entries, small and stable.

    `default` (e.g. `str`) lets a key's inputs hold paths; entries pass none, so a value that
    would not read back the same fails loudly instead."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=default)
