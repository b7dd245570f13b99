"""Assemblies: statements and votes from public input, moderation, Polis opinion math, selection.

The math knows nothing of the .ccai language: callers build the small frozen dataclasses in
`moderation`, `selection` and `sources` and pass them in. Everything works on a `VoteTable`
(see `votes`): a scipy.sparse CSR matrix of vote codes, participants in first-vote order.
"""

from __future__ import annotations
