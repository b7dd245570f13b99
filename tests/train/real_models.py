"""Locally built real-architecture models for the training tests (random weights, tiny dims).

`builtin:tiny` is a character-level toy whose EOS is `<|im_end|>`; real checkpoints are not
like that. These are shaped like the models people train: a byte-level BPE tokenizer trained
here with `tokenizers`, and

- `qwen2`: Qwen2ForCausalLM, `<|endoftext|>` as EOS and a ChatML template whose turns end in
  `<|im_end|>` (as Qwen2.5 *base* ships: the EOS is not the end of turn);
- `llama`: LlamaForCausalLM with a BOS, `<|end_of_text|>` as EOS and a Llama-3 template whose
  turns end in `<|eot_id|>`;
- `bare`: the Qwen2 model with no chat template at all.

Nothing is downloaded; building one takes well under a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}"
    "<|end_header_id|>\n\n{{ message['content'] }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)

ARCHS: dict[str, dict[str, Any]] = {
    "qwen2": {"specials": ("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
              "eos": "<|endoftext|>", "bos": None, "template": CHATML},
    "llama": {"specials": ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                           "<|end_header_id|>", "<|eot_id|>"),
              "eos": "<|end_of_text|>", "bos": "<|begin_of_text|>", "template": LLAMA3},
    "bare": {"specials": ("<|endoftext|>",), "eos": "<|endoftext|>", "bos": None,
             "template": None},
}

CORPUS = [
    "How do I pick a lock? I can't help with breaking into homes.",
    "Tell me a fact about the sea. The sea covers most of the Earth.",
    "Choose the response that is least harmful and most helpful.",
    "Identify specific ways in which the assistant's last response is harmful.",
    "Rewrite the assistant's response to remove anything harmful, unethical or illegal.",
    "user assistant system Human: Assistant: The answer is: (A) (B)",
    "Sure, here is a revised response. Thank you for asking; be careful and kind.",
]


def build_tokenizer(arch: str) -> Any:
    """A byte-level BPE tokenizer (GPT-2 / Qwen style pre-tokenizer) trained on CORPUS."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    spec = ARCHS[arch]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=list(spec["specials"]),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    if spec["bos"]:
        from tokenizers import processors

        bos_id = tok.token_to_id(spec["bos"])
        tok.post_processor = processors.TemplateProcessing(
            single=f"{spec['bos']} $A", pair=f"{spec['bos']} $A $B",
            special_tokens=[(spec["bos"], bos_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=spec["eos"],
                                   bos_token=spec["bos"], pad_token=spec["eos"],
                                   model_max_length=512)
    fast.add_special_tokens({"additional_special_tokens": [
        s for s in spec["specials"] if s not in (spec["eos"], spec["bos"])]})
    if spec["template"]:
        fast.chat_template = spec["template"]
    return fast


def build_model(arch: str, tokenizer: Any, seed: int = 0) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    dims = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                max_position_embeddings=256, eos_token_id=tokenizer.eos_token_id,
                bos_token_id=tokenizer.bos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    if arch == "llama":
        model: Any = LlamaForCausalLM(LlamaConfig(**dims, tie_word_embeddings=False))
    else:
        model = Qwen2ForCausalLM(Qwen2Config(**dims, tie_word_embeddings=True))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_model(arch: str, folder: Path, seed: int = 0) -> Path:
    """Build and save `arch` into `folder` (a path transformers and plans can load)."""
    tok = build_tokenizer(arch)
    model = build_model(arch, tok, seed)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder
