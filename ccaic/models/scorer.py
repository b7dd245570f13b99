"""Log-likelihoods of continuations from a transformers causal LM (torch, imported when built).

`HFScorer.score(prompts, continuations)` is the `Scorer` the BBQ evaluation asks
(ccaic.evaluate.scoring): for each pair, the summed log-probability of the continuation's
tokens given the prompt (lm-evaluation-harness's `loglikelihood`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class HFScorer:
    """Log-likelihoods from a transformers causal LM: CPU in fp32, CUDA in bf16, batched.

    Tokenization follows lm-evaluation-harness: the whole string prompt+continuation is
    encoded and the continuation's tokens are those past the prompt's encoding, with trailing
    prompt whitespace moved into the continuation; no special tokens unless the prompt is empty.
    """

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 16,
                 device: str | None = None):
        import torch

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.model = model.to(device=self.device, dtype=dtype).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
        self.max_length = int(limit) if isinstance(limit, int) and limit > 0 else 2048

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Token ids of the prompt and of the continuation, split as the harness does."""
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        whole = self._encode(context + continuation)
        head = self._encode(context)
        if not head:
            prefix = self.tokenizer.bos_token_id
            if prefix is None:
                prefix = self.tokenizer.eos_token_id
            return [int(prefix)], whole
        return head, whole[len(head):]

    def _encode(self, text: str) -> list[int]:
        return [int(t) for t in self.tokenizer(text, add_special_tokens=False)["input_ids"]]

    def score(self, prompts: Sequence[str], conts: Sequence[str]) -> list[float]:
        pairs = [self.encode_pair(p, c) for p, c in zip(prompts, conts, strict=True)]
        # Longest first, ties by position: batches of similar length, same order every run.
        order = sorted(range(len(pairs)), key=lambda i: (-sum(map(len, pairs[i])), i))
        scores = [0.0] * len(pairs)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start: start + self.batch_size]
            for i, value in zip(chunk, self._score_batch([pairs[i] for i in chunk]),
                                strict=True):
                scores[i] = value
        return scores

    def _score_batch(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[float]:
        torch = self.torch
        rows = [(head + tail)[-(self.max_length + 1):][:-1] for head, tail in pairs]
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        pad = 0 if pad is None else int(pad)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, row in enumerate(rows):
            ids[r, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[r, : len(row)] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=ids.to(self.device),
                                attention_mask=mask.to(self.device)).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
        out: list[float] = []
        for r, (_, tail) in enumerate(pairs):
            end = len(rows[r])
            positions = torch.arange(end - len(tail), end)
            targets = torch.tensor(tail, dtype=torch.long)
            out.append(float(logprobs[r, positions, targets].sum()))
        return out
