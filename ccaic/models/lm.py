"""Batched generation and option scoring with a transformers causal LM (imports torch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ccaic.plan.chat_templates import NO_TEMPLATE_HELP, SET_TEMPLATE
from ccaic.plan.model import Sampling


@dataclass
class Generation:
    text: str
    finish_reason: str  # "stop" (EOS) or "length" (max_new_tokens reached)
    tokens: int


PROBE = "\u2063ccaic-probe\u2063"


def turn_stop_ids(tok: Any, eos: Any = None) -> list[int]:
    """Token ids that end an assistant turn: the EOS (tokenizer's and `eos`, the generation
    config's) and every special token the chat template writes around turns.

    A base checkpoint with a ChatML template ends turns in `<|im_end|>` while its EOS is
    `<|endoftext|>`; Llama 3 ends them in `<|eot_id|>`, Gemma in `<end_of_turn>`. A model
    that emits any of them has finished its turn (or started the next one), so generation
    stops there. Which ones a template uses is read off a rendered probe conversation.
    """
    from jinja2 import TemplateError

    ids = set(eos if isinstance(eos, list) else [eos]) | {tok.eos_token_id}
    if getattr(tok, "chat_template", None):
        try:
            text = str(tok.apply_chat_template(
                [{"role": "user", "content": PROBE}, {"role": "assistant", "content": PROBE}],
                tokenize=False))
        except TemplateError:  # the first render() says why (CCAI540)
            text = ""
        specials = {t.content: i for i, t in tok.added_tokens_decoder.items() if t.special}
        ids |= {i for content, i in specials.items() if content and content in text}
    ids.discard(None)
    return sorted(int(i) for i in ids)


def apply_chat_template(tok: Any, chat_template: str | None) -> None:
    """Set the plan's chat template on a tokenizer (the model's own otherwise)."""
    if chat_template:
        tok.chat_template = chat_template


def render(tok: Any, location: str, conversation: list[dict[str, str]]) -> str:
    """A conversation as the model's prompt text; CCAI530 when there is no template to
    render it with (the plan did not set one and the model ships none)."""
    if not getattr(tok, "chat_template", None):
        from ccaic.diagnostics import DiagnosticError, error

        raise DiagnosticError([error(
            "CCAI530", f"model `{location}` has no chat template to render conversations with",
            help=NO_TEMPLATE_HELP)])
    from jinja2 import TemplateError

    try:
        return str(tok.apply_chat_template(conversation, tokenize=False,
                                           add_generation_prompt=True))
    except TemplateError as exc:  # the model's own template refuses ccaic's conversations
        from ccaic.diagnostics import DiagnosticError, error

        raise DiagnosticError([error(
            "CCAI540", f"the chat template of model `{location}` cannot render a "
            f"conversation: {exc}",
            help=SET_TEMPLATE + " to use a template that renders user and assistant "
            "turns")]) from None


def cut_at_ids(ids: list[int], stops: set[int]) -> tuple[list[int], bool]:
    """ids up to the first stop id, and whether one was found."""
    cut = next((i for i, t in enumerate(ids) if t in stops), None)
    return (ids, False) if cut is None else (ids[:cut], True)


def keep_last(ids: list[int], start: int, limit: int) -> tuple[list[int], int]:
    """(ids, start of the scored tokens) cut from the left to `limit` positions, as
    generation cuts over-long prompts: a comparison longer than the context keeps its end
    (the options and "The answer is:"), instead of overflowing the position embeddings."""
    if not limit or len(ids) <= limit:
        return ids, start
    cut = len(ids) - limit
    return ids[cut:], max(start - cut, 1)


class LM:
    def __init__(self, location: str, revision: str | None = None,
                 chat_template: str | None = None):
        from ccaic.models.load import load_causal_lm

        self.location = location
        self.model, self.tok = load_causal_lm(location, revision)
        apply_chat_template(self.tok, chat_template)
        self.device = next(self.model.parameters()).device
        self.max_positions = int(getattr(self.model.config, "max_position_embeddings", 0) or 0)
        self.stop_ids = turn_stop_ids(self.tok, self.model.generation_config.eos_token_id)

    def render(self, conversation: list[dict[str, str]]) -> str:
        return render(self.tok, self.location, conversation)

    def generate_texts(self, texts: list[str], sampling: Sampling, seed: int,
                       add_special_tokens: bool = False,
                       stop: Sequence[str] = ()) -> list[Generation]:
        """One batch, left-padded, sampled under one seed. `stop` is accepted for the
        generator interface but not applied here: the stages' post-processing cuts at stop
        strings, so generating on past one changes nothing but time."""
        import torch

        self.tok.padding_side = "left"
        enc = self.tok(texts, return_tensors="pt", padding=True,
                       add_special_tokens=add_special_tokens)
        if self.max_positions and enc["input_ids"].shape[1] + sampling.max_new_tokens > \
                self.max_positions:
            keep = max(self.max_positions - sampling.max_new_tokens, 1)
            enc = {k: v[:, -keep:] for k, v in enc.items()}  # left-truncate over-long prompts
        enc = {k: v.to(self.device) for k, v in enc.items()}
        torch.manual_seed(seed)
        kwargs: dict[str, Any] = {"max_new_tokens": sampling.max_new_tokens,
                                  "pad_token_id": self.tok.pad_token_id,
                                  "eos_token_id": self.stop_ids}
        if sampling.temperature > 0:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p,
                          top_k=0)
        else:
            kwargs.update(do_sample=False)
        with torch.no_grad():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        stops = set(self.stop_ids)
        results = []
        for ids in new:
            ids, stopped = cut_at_ids(ids, stops)
            results.append(Generation(self.tok.decode(ids, skip_special_tokens=True),
                                      "stop" if stopped else "length", len(ids)))
        return results

    def chat(self, conversations: list[list[dict[str, str]]], sampling: Sampling,
             seed: int, stop: Sequence[str] = ()) -> list[Generation]:
        return self.generate_texts([self.render(c) for c in conversations], sampling, seed,
                                   stop=stop)

    def option_logprobs(self, prompts: list[str], options: tuple[str, ...],
                        batch_size: int = 8) -> list[list[float]]:
        """Sum of log-probs of each option's tokens after each prompt (joint tokenization)."""
        import torch

        seqs: list[tuple[list[int], int]] = []
        for prompt in prompts:
            p_ids = self.tok(prompt, add_special_tokens=True)["input_ids"]
            for option in options:
                full = self.tok(prompt + option, add_special_tokens=True)["input_ids"]
                start = 0
                while start < min(len(p_ids), len(full)) and p_ids[start] == full[start]:
                    start += 1
                start = max(min(start, len(full) - 1), 1)
                seqs.append(keep_last(full, start, self.max_positions))
        scores: list[float] = []
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        for i in range(0, len(seqs), batch_size):
            chunk = seqs[i:i + batch_size]
            width = max(len(s) for s, _ in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for j, (s, _) in enumerate(chunk):
                ids[j, :len(s)] = torch.tensor(s)
                mask[j, :len(s)] = 1
            with torch.no_grad():
                logits = self.model(input_ids=ids.to(self.device),
                                    attention_mask=mask.to(self.device)).logits.float()
            for j, (s, start) in enumerate(chunk):
                lp = torch.log_softmax(logits[j, start - 1:len(s) - 1], dim=-1)
                target = torch.tensor(s[start:], device=lp.device)
                scores.append(float(lp.gather(1, target[:, None]).sum()))
        n = len(options)
        return [scores[k * n:(k + 1) * n] for k in range(len(prompts))]

    def free(self) -> None:
        import gc

        import torch

        del self.model
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
