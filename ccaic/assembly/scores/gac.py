"""Group-aware consensus (Polis; CCAI paper), with red-dwarf's `standard` variants.

Per group g, a statement's agreement estimate is P_g = (A_g + c) / (S_g + 2c), S_g counting
every vote seen (passes too), with pseudo-count c = 1 (`prior = "laplace"`, Polis since 2017),
0.5 (`"jeffreys"`) or 0 (`"none"`: A_g / S_g, and 0 for a group that never saw the statement,
no evidence of agreement). `agreement = "effective"` uses P_g(agree) * (1 - P_g(disagree)).
`combine = "product"` multiplies over groups (Polis), `"geometric"` takes the product's k-th
root, so scores stay comparable as groups multiply (red-dwarf PR #120 `standard` mode is
jeffreys + effective + geometric). `smoothing = "polis" | "none"` is today's spelling of
`prior = "laplace" | "none"`; an explicit `prior` wins.
"""

from __future__ import annotations

import numpy as np

from ccaic.assembly.scores import Scored, ScoreInputs, ScoreMethod

PSEUDO_COUNTS = {"laplace": 1.0, "jeffreys": 0.5, "none": 0.0}
SMOOTHING_PRIORS = {"polis": "laplace", "none": "none"}


def share(n: np.ndarray, seen: np.ndarray, prior: str) -> np.ndarray:
    """(n + c) / (S + 2c); with no prior n / S, 0 where S = 0."""
    n, seen = np.asarray(n, dtype=np.float64), np.asarray(seen, dtype=np.float64)
    c = PSEUDO_COUNTS[prior]
    if c == 0.0:
        return np.asarray(np.divide(n, seen, out=np.zeros_like(n), where=seen > 0))
    return (n + c) / (seen + 2.0 * c)


def group_aware(success: np.ndarray, other: np.ndarray, seen: np.ndarray,
                prior: str = "laplace", agreement: str = "agree", combine: str = "product"
                ) -> np.ndarray:
    """The consensus of (k, C) per-group counts: `success` is A for agreement (D for the
    disagree variant), `other` the opposite side (used by `effective`)."""
    p = share(success, seen, prior)
    if agreement == "effective":
        p = p * (1.0 - share(other, seen, prior))
    out = np.ones(p.shape[1:])
    for row in p:  # group by group, in order: the exact float products Polis computes
        out = out * row
    if combine == "geometric" and len(p):
        out = out ** (1.0 / len(p))
    return np.asarray(out)


def prior_of(smoothing: str, prior: str | None) -> str:
    return prior if prior is not None else SMOOTHING_PRIORS[smoothing]


def score(inputs: ScoreInputs, /, smoothing: str = "polis", prior: str | None = None,
          agreement: str = "agree", combine: str = "product") -> Scored:
    a, d, p = inputs.group_counts
    return Scored(group_aware(a, d, a + d + p, prior_of(smoothing, prior), agreement, combine))


def describe(smoothing: str = "polis", prior: str | None = None, agreement: str = "agree",
             combine: str = "product") -> str:
    """`polis smoothing`, as the selection line always said; the variants after it."""
    words = [f"{smoothing} smoothing" if prior is None else f"{prior} prior"]
    if agreement != "agree":
        words.append(f"{agreement} agreement")
    if combine != "product":
        words.append(f"{combine} mean")
    return ", ".join(words)


GAC = ScoreMethod(score, describe)
