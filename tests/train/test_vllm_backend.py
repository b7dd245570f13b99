"""The vLLM generation backend, against a fake `vllm` module (vLLM needs CUDA to install).

The fake follows vLLM's documented API: `LLM(model=..., **engine_args)`,
`LLM.generate(prompts, sampling_params)` with one `SamplingParams(n, temperature, top_p,
max_tokens, stop, seed)` per prompt, returning request outputs whose `.outputs[0]` has `.text`,
`.finish_reason` and `.token_ids`.
"""

from __future__ import annotations

import importlib.machinery
import random
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ccaic.diagnostics import DiagnosticError

WORDS = ("safe", "kind", "honest", "answer", "help", "careful", "sorry", "yes", "no", "maybe")


def fake_vllm() -> types.ModuleType:
    mod = types.ModuleType("vllm")
    mod.__spec__ = importlib.machinery.ModuleSpec("vllm", None)  # find_spec works on it

    class SamplingParams:
        def __init__(self, n: int = 1, temperature: float = 1.0, top_p: float = 1.0,
                     max_tokens: int | None = 16, stop: list[str] | None = None,
                     seed: int | None = None, **extra: Any) -> None:
            self.n, self.temperature, self.top_p = n, temperature, top_p
            self.max_tokens, self.stop, self.seed, self.extra = max_tokens, stop, seed, extra

    class LLM:
        instances: ClassVar[list[Any]] = []

        def __init__(self, model: str, **kwargs: Any) -> None:
            self.model, self.kwargs = model, kwargs
            self.calls: list[tuple[list[Any], list[SamplingParams]]] = []
            LLM.instances.append(self)

        def generate(self, prompts: list[Any], sampling_params: Any = None,
                     use_tqdm: bool = True) -> list[Any]:
            params = sampling_params if isinstance(sampling_params, list) \
                else [sampling_params] * len(prompts)
            assert len(params) == len(prompts)
            self.calls.append((prompts, params))
            outs = []
            for prompt, sp in zip(prompts, params, strict=True):
                ids = prompt["prompt_token_ids"]
                rng = random.Random(f"{sp.seed}:{len(ids)}:{ids[-5:]}")
                samples = []
                for _ in range(sp.n):  # n samples of one request share its seeded stream
                    n = rng.randint(1, sp.max_tokens)
                    text = " ".join(rng.choice(WORDS) for _ in range(n))
                    if rng.random() < 0.3:
                        text += "\nHuman: and more"  # must be cut by the stop strings
                    reason = "length" if n == sp.max_tokens else "stop"
                    for s in sp.stop or ():
                        if s in text:
                            text, reason = text[:text.index(s)], "stop"
                    samples.append(types.SimpleNamespace(
                        text=text, finish_reason=reason,
                        token_ids=list(range(len(text.split())))))
                outs.append(types.SimpleNamespace(prompt=prompt, outputs=samples))
            return outs

    mod.SamplingParams = SamplingParams  # type: ignore[attr-defined]
    mod.LLM = LLM  # type: ignore[attr-defined]
    return mod


@pytest.fixture
def vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    pytest.importorskip("trl")  # imported before the fake exists, as a real session would
    mod = fake_vllm()
    monkeypatch.setitem(sys.modules, "vllm", mod)
    return mod


def test_backend_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    from ccaic.train import generation

    monkeypatch.delenv(generation.ENV, raising=False)
    monkeypatch.setitem(sys.modules, "vllm", None)  # not importable
    monkeypatch.setattr(generation, "vllm_importable", lambda: False)
    assert generation.resolve_backend() == "transformers"
    with pytest.raises(DiagnosticError, match="not installed"):
        generation.resolve_backend("vllm")
    monkeypatch.setenv(generation.ENV, "tgi")
    with pytest.raises(DiagnosticError, match="unknown generation backend"):
        generation.resolve_backend()
    monkeypatch.setattr(generation, "vllm_importable", lambda: True)
    monkeypatch.setattr(generation, "_cuda", lambda: False)
    monkeypatch.setenv(generation.ENV, "auto")
    assert generation.resolve_backend() == "transformers"  # no GPU: auto stays on transformers
    monkeypatch.setattr(generation, "_cuda", lambda: True)
    assert generation.resolve_backend() == "vllm"
    assert generation.resolve_backend("transformers") == "transformers"  # explicit wins


def _rows(out: Path, stage: str, name: str) -> list[dict[str, Any]]:
    from ccaic.store import read_jsonl

    (folder,) = list((out / "stages").glob(f"{stage}-*"))
    return read_jsonl(folder / name)


def _shape(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [tuple(sorted(r)) for r in rows]


def test_runner_routes_generation_through_vllm(vllm: types.ModuleType, tiny_cache: Path,
                                               tmp_path: Path, plan_files,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    write_plan, compiled = plan_files
    from ccaic.models.tiny import tiny_path
    from ccaic.train.postprocess import DEFAULT_STOPS
    from ccaic.train.runner import run_plan

    plan = compiled(write_plan(tmp_path / "src"))
    monkeypatch.setenv("CCAIC_GENERATION_BACKEND", "vllm")
    out = tmp_path / "vllm"
    result = run_plan(plan, out, until="label")
    assert result.stopped_after == "label"
    assert "backend=vllm" in (out / "build.log").read_text()

    llms = vllm.LLM.instances
    assert llms[0].model == str(tiny_path(plan.seed))
    assert Path(llms[-1].model).parts[-2].startswith("sft-")  # pairs from the SFT model
    assert all(x.kwargs["tokenizer"] == x.model for x in llms)
    first_prompts, first_params = llms[0].calls[0]
    sp = first_params[0]
    assert sp.max_tokens == plan.stages.initial.sampling.max_new_tokens == 12
    assert sp.temperature == plan.stages.initial.sampling.temperature
    assert set(DEFAULT_STOPS) <= set(sp.stop)
    seeds = [p.seed for p in first_params]
    assert len(set(seeds)) == len(seeds)  # one seed per request
    assert all(isinstance(p["prompt_token_ids"], list) for p in first_prompts)

    initial = _rows(out, "initial", "responses.jsonl")
    assert not any("Human:" in r["response"] for r in initial)  # stop strings applied
    # the same dataset shape as the transformers backend writes
    monkeypatch.setenv("CCAIC_GENERATION_BACKEND", "transformers")
    ref = tmp_path / "transformers"
    run_plan(plan, ref, until="label")
    for stage, name in (("initial", "responses.jsonl"), ("sl_cai", "revisions.jsonl"),
                        ("pairs", "pairs.jsonl"), ("label", "pairs_labelled.jsonl")):
        got, want = _rows(out, stage, name), _rows(ref, stage, name)
        assert _shape(got) == _shape(want), stage
        assert [r["id"] for r in got] == [r["id"] for r in want], stage
    rounds = [x for r in _rows(out, "sl_cai", "revisions.jsonl") for x in r["rounds"]]
    assert {tuple(sorted(x)) for x in rounds} == {
        tuple(sorted(x)) for r in _rows(ref, "sl_cai", "revisions.jsonl") for x in r["rounds"]}
    # vLLM samples differently, so its generation stages are cached apart from transformers'
    names = {p.name for p in (out / "stages").iterdir()}
    assert not names & {p.name for p in (ref / "stages").iterdir() if
                        p.name.startswith(("initial", "sl_cai", "pairs"))}


def test_vllm_generator_is_deterministic_per_request(vllm: types.ModuleType,
                                                     tiny_cache: Path) -> None:
    pytest.importorskip("transformers")
    from ccaic.models.tiny import tiny_path
    from ccaic.plan.model import Sampling
    from ccaic.train.generation import VLLMGenerator

    gen = VLLMGenerator(str(tiny_path(3)))
    convs = [[{"role": "user", "content": f"question {i}"}] for i in range(4)]
    s = Sampling(max_new_tokens=8, temperature=0.7, top_p=0.9)
    a = gen.chat(convs, s, seed=11)
    b = gen.chat(convs, s, seed=11)
    assert [g.text for g in a] == [g.text for g in b]
    assert all(g.finish_reason in ("stop", "length") for g in a)
    params = gen.llm.calls[0][1]
    assert (params[0].top_p, params[0].max_tokens) == (0.9, 8)
    greedy = gen.generate_texts(["x"], Sampling(max_new_tokens=4, temperature=0.0), seed=1)
    assert gen.llm.calls[-1][1][0].temperature == 0.0 and len(greedy) == 1
    gen.free()
    assert not hasattr(gen, "llm")


def test_vllm_gets_windows_of_batches_with_the_same_text(vllm: types.ModuleType,
                                                         tiny_cache: Path, tmp_path: Path,
                                                         plan_files,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Several batches go to vLLM in one call (initial answers, each critique/revision round,
    and pairs as n=2 requests sharing the prefill); each request is seeded as in its own
    batch, so the window changes only speed."""
    pytest.importorskip("trl")
    write_plan, compiled = plan_files
    from ccaic.train.generation import plan_context
    from ccaic.train.runner import run_plan

    plan = compiled(write_plan(tmp_path / "src", n_red=8, batch=2))  # 5 initial batches
    monkeypatch.setenv("CCAIC_GENERATION_BACKEND", "vllm")
    datasets = {}
    for window in ("1", "64"):
        monkeypatch.setenv("CCAIC_VLLM_WINDOW", window)
        vllm.LLM.instances.clear()
        out = tmp_path / f"w{window}"
        run_plan(plan, out, until="pairs")
        datasets[window] = (_rows(out, "initial", "responses.jsonl"),
                            _rows(out, "sl_cai", "revisions.jsonl"),
                            _rows(out, "pairs", "pairs.jsonl"))
        policy, sft = vllm.LLM.instances[0], vllm.LLM.instances[-1]
        initial_calls = [c for c in policy.calls if len(c[0]) and
                         c[1][0].max_tokens == plan.stages.initial.sampling.max_new_tokens]
        if window == "64":
            assert len(initial_calls[0][0]) == 10  # every initial prompt in one call
            # 1 initial call, then one critique and one revision call per round for all
            # 8 red-team prompts (4 batches) at once
            assert [len(p) for p, _ in policy.calls] == [10, 8, 8, 8, 8]
            assert len(sft.calls) == 1  # every pair prompt in one call
        else:
            assert len(initial_calls[0][0]) == 2  # one batch per call
            assert len(policy.calls) == 5 + 4 * 2 * 2
        assert all(p.n == 2 for _, params in sft.calls for p in params)  # pairs: n=2
        context = plan_context(plan, 0)
        assert policy.kwargs["max_model_len"] >= context >= 1024
        assert policy.kwargs["max_num_batched_tokens"] >= policy.kwargs["max_model_len"]
    assert datasets["1"] == datasets["64"]


def test_vllm_loads_model_and_tokenizer_at_the_pinned_revision(vllm: types.ModuleType,
                                                               tiny_cache: Path) -> None:
    """Before: only `revision` reached vLLM, whose tokenizer (detokenizing, stop strings) then
    came from the Hub's main while the weights came from the pinned commit."""
    from ccaic.models.tiny import tiny_path
    from ccaic.train.generation import VLLMGenerator

    pinned = "a" * 40
    VLLMGenerator(str(tiny_path(0)), pinned)
    kwargs = vllm.LLM.instances[-1].kwargs
    assert (kwargs["revision"], kwargs["tokenizer_revision"]) == (pinned, pinned)
    VLLMGenerator(str(tiny_path(0)))
    assert not {"revision", "tokenizer_revision"} & set(vllm.LLM.instances[-1].kwargs)
