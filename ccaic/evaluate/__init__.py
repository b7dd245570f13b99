"""Evaluations run on a model after (or without) training: BBQ bias scores first.

Nothing here imports torch at module import time; only `HFScorer` does, when built.
"""
