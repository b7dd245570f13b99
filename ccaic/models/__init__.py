"""Models: `builtin:tiny` (built locally, no download) and any Hugging Face causal LM.

Nothing here imports torch at module level; ccaic check/fmt/diff never load this package's
heavy parts.
"""
