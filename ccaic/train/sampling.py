"""Seeded, order-independent random choices (principles per round), no torch.

Every draw is keyed by (seed, purpose, item, round), so it does not depend on batch sizes,
on which rows were already generated before a resume, or on other draws.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence


def rng_for(seed: int, *key: object) -> random.Random:
    digest = hashlib.sha256(":".join([str(seed), *map(str, key)]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def derived_seed(seed: int, *key: object) -> int:
    digest = hashlib.sha256(":".join([str(seed), *map(str, key)]).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def draw_principle(ids: Sequence[str], weights: Sequence[float], seed: int, purpose: str,
                   item: int | str, round_: int = 0) -> str:
    """One principle, drawn with probability proportional to its weight (with replacement)."""
    if not ids:
        raise ValueError("no principles to draw from")
    rng = rng_for(seed, purpose, item, round_)
    return rng.choices(list(ids), weights=list(weights), k=1)[0]
