"""Models: what a plan's model reference names, what it is, and loading it.

`ref` (ModelRef and its parser), `identity` (the content identity every cache key uses),
`load` (location, the Hub checks, and the one loader every `from_pretrained` goes through, so
a pinned revision reaches each), `tiny` (builtin:tiny), and the models built on them: `lm`
(LM, a local causal LM), `remote` (RemoteLM, an OpenAI-compatible endpoint), `labels` (the
Labeller), `scorer` (HFScorer, log-likelihoods for BBQ), `card` (the trained model's card).
train and evaluate both use these; neither imports the other.

Nothing here imports torch at module level; ccaic check/fmt/diff never load this package's
heavy parts.
"""
