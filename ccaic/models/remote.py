"""A remote feedback model behind an OpenAI-compatible completions endpoint (stdlib only).

Only option scoring is needed for labels: POST {base_url}/completions with `echo: true`,
`logprobs: 1`, `max_tokens: 0` returns the prompt+option token log-probs; the option's are the
tokens past the prompt's length. Both options of a comparison go in one request (`prompt` as
a list, which the OpenAI completions API and vLLM's server accept); a server that refuses a list
(HTTP 400/422) gets one request per option from then on. Concurrency limit (the plan's
`label.concurrency`), retries with exponential backoff, timeouts; the API key comes from
$OPENAI_API_KEY (or $CCAIC_FEEDBACK_API_KEY).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ccaic.models.ref import ModelRef
from ccaic.plan.model import Sampling


class RemoteLM:
    def __init__(self, ref: ModelRef, concurrency: int = 4, retries: int = 4,
                 timeout: float = 60.0):
        self.ref = ref
        self.url = (ref.base_url or "").rstrip("/") + "/completions"
        self.key = os.environ.get("CCAIC_FEEDBACK_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = timeout
        self.list_prompts = True  # until the server refuses a list of prompts

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                req = urllib.request.Request(self.url, data=data, headers=headers)
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    answer: dict[str, Any] = json.loads(resp.read())
                    return answer
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
                status = getattr(exc, "code", None)
                if attempt == self.retries or (status is not None and status < 500
                                               and status != 429):
                    raise
                time.sleep(delay)
                delay *= 2
        raise RuntimeError("unreachable")

    def _echo(self, texts: str | list[str]) -> list[dict[str, Any]]:
        out = self._post({"model": self.ref.name, "prompt": texts, "max_tokens": 0,
                          "echo": True, "logprobs": 1, "temperature": 0})
        return sorted(out["choices"], key=lambda c: int(c.get("index", 0)))

    def _scores(self, prompt: str, options: tuple[str, ...]) -> list[float]:
        """Each option's log-prob after `prompt`: one request for all of them when the
        server takes a list of prompts, else one per option."""
        if self.list_prompts:
            try:
                choices = self._echo([prompt + o for o in options])
                if len(choices) == len(options):
                    return [_option_logprob(c, len(prompt)) for c in choices]
            except urllib.error.HTTPError as exc:
                if exc.code not in (400, 422):
                    raise
            self.list_prompts = False
        return [_option_logprob(self._echo(prompt + o)[0], len(prompt)) for o in options]

    def option_logprobs(self, prompts: list[str], options: tuple[str, ...],
                        batch_size: int = 8) -> list[list[float]]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda p: self._scores(p, options), prompts))

    def generate_texts(self, texts: list[str], sampling: Sampling, seed: int,
                       add_special_tokens: bool = False) -> list[Any]:
        from ccaic.models.lm import Generation

        def one(t: str) -> Generation:
            out = self._post({"model": self.ref.name, "prompt": t, "seed": seed,
                              "max_tokens": sampling.max_new_tokens,
                              "temperature": sampling.temperature})
            c = out["choices"][0]
            return Generation(c.get("text", ""), "length" if c.get("finish_reason") == "length"
                              else "stop", 0)

        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(one, texts))

    def free(self) -> None:
        pass


def _option_logprob(choice: dict[str, Any], prompt_chars: int) -> float:
    """Sum of the echoed token log-probs past the prompt (the option's tokens)."""
    lp = choice["logprobs"]
    return float(sum(v for o, v in zip(lp["text_offset"], lp["token_logprobs"], strict=False)
                     if o >= prompt_chars and v is not None))
