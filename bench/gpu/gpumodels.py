"""Random-weight models in the shapes of Qwen2.5-0.5B / -1.5B, with a BPE tokenizer of the same
vocabulary size built locally (nothing downloaded).

The tokenizer's merges are generated, not learned: " x" word starts, letter pairs, capitalised
pairs, triples, then a seeded sample of four-letter pieces until the vocabulary is full. Text
costs about as many tokens as with a real BPE, every id the model can sample decodes, and the
chat template is ccaic's builtin one (ChatML with generation markers).
"""

from __future__ import annotations

import itertools
import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Shape:
    """A Qwen2 architecture (the configs of the released checkpoints, random weights)."""

    name: str
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int


QWEN25_05B = Shape("qwen2.5-0.5b", 896, 4864, 24, 14, 2, 151936)
QWEN25_15B = Shape("qwen2.5-1.5b", 1536, 8960, 28, 12, 2, 151936)
TINY = Shape("tiny", 64, 128, 2, 4, 2, 4096)  # the dry run's stand-in for both


def merges(alphabet: list[str], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` BPE merges over `alphabet`, in rank order; each merges two existing tokens."""
    lower, upper = string.ascii_lowercase, string.ascii_uppercase
    assert set(lower + upper + " ") <= set(alphabet)
    pairs = [(a, b) for a, b in itertools.product(lower, repeat=2)]
    out: list[tuple[str, str]] = [(" ", c) for c in lower + upper]  # word starts bind first
    out += pairs
    out += [(u, c) for u, c in itertools.product(upper, lower)]
    out += [(a + b, c) for (a, b), c in itertools.product(pairs, lower)]
    starts = [" " + c for c in lower + upper]
    out += [(s, c) for s, c in itertools.product(starts, lower)]
    out += [(s + c, d) for s, c, d in itertools.product(starts, lower, lower)]
    out += [(u + c, d) for u, c, d in itertools.product(upper, lower, lower)]
    if len(out) < count:
        quads = [(a + b, c + d) for (a, b), (c, d) in itertools.product(pairs, repeat=2)]
        random.Random(seed).shuffle(quads)
        out += quads[: count - len(out)]
    if len(out) < count:
        raise ValueError(f"at most {len(out)} merges can be generated, {count} asked")
    return out[:count]


def build_tokenizer(vocab_size: int) -> Any:
    """A fast BPE tokenizer with exactly `vocab_size` ids (ccaic's specials first)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from ccaic.models.tiny import CHAT_TEMPLATE, SPECIALS, vocabulary

    base = vocabulary()  # specials, then the builtin character alphabet
    rules = merges([t for t in base if t not in SPECIALS], vocab_size - len(base))
    vocab = {tok: i for i, tok in enumerate(base)}
    for a, b in rules:
        vocab.setdefault(a + b, len(vocab))
    if len(vocab) != vocab_size:
        raise ValueError(f"tokenizer has {len(vocab)} ids, not {vocab_size}")
    tok = Tokenizer(models.BPE(vocab=vocab, merges=rules, unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r" ?[A-Za-z]+| ?[^A-Za-z ]| +"),
                                             behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(list(SPECIALS))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|im_end|>",
        unk_token="<|unk|>", padding_side="left", model_max_length=32768)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(shape: Shape, tokenizer: Any, device: str, dtype: Any, seed: int = 0) -> Any:
    """A Qwen2ForCausalLM with random weights, created directly on `device`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        hidden_size=shape.hidden_size, intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers, num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads, vocab_size=shape.vocab_size,
        max_position_embeddings=32768, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen2ForCausalLM(cfg).to(dtype)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = None
    return model


def save_model(shape: Shape, folder: Path, device: str, dtype: Any) -> tuple[str, int]:
    """Build and save model + tokenizer into folder/<name>; (path, parameter count)."""
    tok = build_tokenizer(shape.vocab_size)
    model = build_model(shape, tok, device, dtype)
    params = sum(p.numel() for p in model.parameters())  # tied embeddings counted once
    path = folder / shape.name
    model.save_pretrained(path)
    tok.save_pretrained(path)
    del model
    return str(path), params


def filler_text(tokenizer: Any, min_tokens: int, seed: int) -> str:
    """Pseudo-words that tokenize to at least `min_tokens` tokens (deterministic per seed)."""
    rng = random.Random(seed)
    words: list[str] = []
    text = ""
    while len(tokenizer(text, add_special_tokens=False)["input_ids"]) < min_tokens:
        for _ in range(max(min_tokens // 2, 8)):
            n = rng.randint(1, 9)
            words.append("".join(rng.choice(string.ascii_lowercase) for _ in range(n)))
        text = " ".join(words) + "."
    return text
