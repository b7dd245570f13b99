"""`builtin:tiny`: a 2-layer Qwen2-style causal LM (hidden 64) and a character-level tokenizer,
created locally and deterministically from a seed. No download, no training corpus.

The tokenizer is a WordLevel model over a fixed character vocabulary (special tokens first,
then printable ASCII and a few common typographic characters); anything else maps to <|unk|>.
Its chat template is ChatML with `{% generation %}` markers so assistant-only losses work.
Built once per (seed, version) into a cache folder ($CCAIC_CACHE, else ~/.cache/ccaic).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import string
import tempfile
from pathlib import Path
from typing import Any

TINY_VERSION = "1"
SPECIALS = ("<|pad|>", "<|im_start|>", "<|im_end|>", "<|unk|>")
EXTRA_CHARS = "’‘“”–—…é"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|im_start|>assistant\n{% generation %}{{ message['content'] }}<|im_end|>{% endgeneration %}\n"
    "{% else %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def cache_root() -> Path:
    env = os.environ.get("CCAIC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ccaic"


def vocabulary() -> list[str]:
    chars: list[str] = []
    for ch in string.printable + EXTRA_CHARS:
        if ch not in chars and ch not in "\x0b\x0c\r":
            chars.append(ch)
    return list(SPECIALS) + chars


def build_tokenizer() -> Any:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(vocabulary())}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(list(SPECIALS))
    fast_class: Any = PreTrainedTokenizerFast  # untyped in transformers
    fast = fast_class(
        tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|im_end|>",
        unk_token="<|unk|>", padding_side="left", model_max_length=4096,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer: Any, seed: int) -> Any:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=4096, tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = None
    return model


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file()
               for name in ("config.json", "model.safetensors", "tokenizer.json"))


def _save_on_every_rank(model: Any) -> None:
    """transformers skips the weights and config on ranks other than 0 once torch.distributed
    is up (`should_save_on_this_rank`): each rank builds its own copy of the tiny model into a
    private folder here, so every rank must write it, or a rank-1 folder holding only the
    tokenizer could become the cached model."""
    model.should_save_on_this_rank = lambda is_main_process: True


def tiny_path(seed: int = 0, root: Path | None = None) -> Path:
    """The folder of builtin:tiny for this seed, building it on first use (atomically: a
    folder is renamed into place only when complete; an incomplete one is set aside)."""
    root = root or cache_root()
    target = root / "models" / f"tiny-v{TINY_VERSION}-seed{seed}"
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-", dir=target.parent))
    try:
        import transformers

        tf: Any = transformers  # its logging helpers are untyped
        tf.utils.logging.disable_progress_bar()
        tok = build_tokenizer()
        model = build_model(tok, seed)
        _save_on_every_rank(model)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if not _complete(tmp):
            raise RuntimeError(f"builtin:tiny was not written completely to {tmp}")
        if target.exists() and not _complete(target):
            # left by an older ccaic (or a crash): move it out of the way, never reuse it
            with contextlib.suppress(OSError):
                os.replace(target, Path(tempfile.mkdtemp(prefix=".tiny-broken-",
                                                         dir=target.parent)) / "old")
        try:
            os.replace(tmp, target)
        except OSError:  # another process built it first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
