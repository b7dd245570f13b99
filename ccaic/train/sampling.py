"""Seeded, order-independent random choices (principles per round), no torch.

Every draw is keyed by (seed, purpose, item, round), so it does not depend on batch sizes,
on which rows were already generated before a resume, or on other draws.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any


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


def comparison_principle(plan_principles: Sequence[tuple[str, str, float]],
                         helpful: Sequence[str], row_set: str, seed: int,
                         item: str) -> tuple[str, str]:
    """(principle id, text) judging one pair: a helpfulness criterion for pairs from
    helpfulness prompts (the CAI paper never judges "tips for a job interview" by "least
    racist"), else a constitution principle drawn by weight. plan_principles: (id, text,
    weight). Red-team draws are the same as before helpfulness criteria existed."""
    if row_set == "helpful" and helpful:
        ids = [f"helpful:{k}" for k in range(len(helpful))]
        pid = draw_principle(ids, [1.0] * len(ids), seed, "label", item)
        return pid, helpful[ids.index(pid)]
    pid = draw_principle([p[0] for p in plan_principles], [p[2] for p in plan_principles],
                         seed, "label", item)
    return pid, next(p[1] for p in plan_principles if p[0] == pid)


def _order(seed: int, purpose: str, ids: Sequence[str]) -> list[str]:
    """ids in a seeded order that does not depend on their input order."""
    return sorted(ids, key=lambda i: (derived_seed(seed, purpose, i), i))


def held_out(ids: Sequence[str], fraction: float, seed: int) -> set[str]:
    """The ids held out of SFT for preference pairs: round(fraction x n), seeded (the HF
    recipe's sft / prefs halves, at any ratio)."""
    if fraction <= 0:
        return set()
    return set(_order(seed, "split", ids)[:round(len(ids) * fraction)])


def mix_counts(harmless: int, helpful: int, fraction: float) -> tuple[int, int]:
    """How many of each to keep so helpfulness pairs are `fraction` of the set, keeping as
    many rows as the scarcer side allows."""
    if fraction <= 0:
        return harmless, 0
    if fraction >= 1:
        return 0, helpful
    if helpful > fraction * (harmless + helpful):  # too many helpfulness pairs
        return harmless, min(helpful, round(harmless * fraction / (1 - fraction)))
    return min(harmless, round(helpful * (1 - fraction) / fraction)), helpful


def mix(rows: Sequence[dict[str, Any]], fraction: float | None,
        seed: int) -> list[dict[str, Any]]:
    """DPO rows with helpfulness pairs (set "helpful") at `fraction` of the whole, a seeded
    choice of each side, in their input order; None keeps every row."""
    if fraction is None:
        return list(rows)
    help_ids = [r["id"] for r in rows if r["set"] == "helpful"]
    harm_ids = [r["id"] for r in rows if r["set"] != "helpful"]
    n_harm, n_help = mix_counts(len(harm_ids), len(help_ids), fraction)
    keep = set(_order(seed, "mix", harm_ids)[:n_harm]) | set(_order(seed, "mix", help_ids)[:n_help])
    return [r for r in rows if r["id"] in keep]


def row_seeds(batch_seed: int, n: int) -> list[int]:
    """One seed per request of a batch (vLLM seeds each request), from the batch's seed and
    the row's place in it: a request samples the same text whichever call carries it."""
    return [derived_seed(batch_seed, "row", i) for i in range(n)]
