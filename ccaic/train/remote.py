"""A remote feedback model behind an OpenAI-compatible completions endpoint (stdlib only).

Only option scoring is needed for labels: POST {base_url}/completions with `echo: true`,
`logprobs: 1`, `max_tokens: 0` returns the prompt+option token log-probs; the option's are the
tokens past the prompt's length. Concurrency limit, retries with exponential backoff, timeouts;
the API key comes from $OPENAI_API_KEY (or $CCAIC_FEEDBACK_API_KEY).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ccaic.plan.model import ModelRef, Sampling


class RemoteLM:
    def __init__(self, ref: ModelRef, concurrency: int = 4, retries: int = 4,
                 timeout: float = 60.0):
        self.ref = ref
        self.url = (ref.base_url or "").rstrip("/") + "/completions"
        self.key = os.environ.get("CCAIC_FEEDBACK_API_KEY") or os.environ.get("OPENAI_API_KEY")
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = timeout

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
                    return json.loads(resp.read())
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
                status = getattr(exc, "code", None)
                if attempt == self.retries or (status is not None and status < 500
                                               and status != 429):
                    raise
                time.sleep(delay)
                delay *= 2
        raise RuntimeError("unreachable")

    def _score(self, prompt: str, option: str) -> float:
        out = self._post({"model": self.ref.name, "prompt": prompt + option, "max_tokens": 0,
                          "echo": True, "logprobs": 1, "temperature": 0})
        lp = out["choices"][0]["logprobs"]
        offsets, values = lp["text_offset"], lp["token_logprobs"]
        return float(sum(v for o, v in zip(offsets, values, strict=False)
                         if o >= len(prompt) and v is not None))

    def option_logprobs(self, prompts: list[str], options: tuple[str, ...],
                        batch_size: int = 8) -> list[list[float]]:
        jobs = [(p, o) for p in prompts for o in options]
        with ThreadPoolExecutor(self.concurrency) as pool:
            scores = list(pool.map(lambda j: self._score(*j), jobs))
        n = len(options)
        return [scores[k * n:(k + 1) * n] for k in range(len(prompts))]

    def generate_texts(self, texts: list[str], sampling: Sampling, seed: int,
                       add_special_tokens: bool = False) -> list[Any]:
        from ccaic.train.lm import Generation

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
