"""Every model load goes through ccaic.models.load, and a pinned Hub revision reaches each one.

The transformers loaders are replaced by recorders that note the keyword arguments of every
`from_pretrained` call and then load builtin:tiny in place of the Hub id `org/tiny`, so each
path that loads a model (LM, the trainers, the vLLM generator, `ccaic evaluate`'s scorer, the
HHH judge) runs for real against a pin `org/tiny@abc123` without a Hub or a cache.
"""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from ccaic.diagnostics import DiagnosticError

REPO = Path(__file__).resolve().parents[2]
LOADER = REPO / "ccaic" / "models" / "load.py"
PIN = "abc123"

Calls = list[tuple[str, str, dict[str, Any]]]


def _from_pretrained_calls(path: Path) -> list[int]:
    """Lines of `<anything>.from_pretrained(...)` calls in a Python file."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "from_pretrained"]


def test_only_the_loader_calls_from_pretrained() -> None:
    """A loader elsewhere could drop the revision again (the trainers, LM and the vLLM
    generator each did); ccaic.models.load passes it."""
    found = {str(p.relative_to(REPO)): lines for p in sorted((REPO / "ccaic").rglob("*.py"))
             if p != LOADER and (lines := _from_pretrained_calls(p))}
    assert found == {}
    assert _from_pretrained_calls(LOADER)  # the check itself sees calls


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from ccaic.models.tiny import tiny_path

    return tiny_path(0, tmp_path_factory.mktemp("models"))


@pytest.fixture
def calls(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Recorded (class, location, kwargs) of every from_pretrained ccaic calls (not those
    transformers makes inside one, such as the model's config); `org/tiny` loads tiny."""
    import transformers

    seen: Calls = []
    inside = [0]
    for name in ("AutoTokenizer", "AutoConfig", "AutoModelForCausalLM", "GenerationConfig"):
        cls = getattr(transformers, name)
        real = cls.from_pretrained

        def record(location: str, *args: Any, _name: str = name, _real: Any = real,
                   **kwargs: Any) -> Any:
            if not inside[0]:
                seen.append((_name, location, dict(kwargs)))
            kwargs.pop("revision", None)
            inside[0] += 1
            try:
                return _real(str(tiny) if location == "org/tiny" else location, *args, **kwargs)
            finally:
                inside[0] -= 1

        monkeypatch.setattr(cls, "from_pretrained", record)
    import ccaic.models.load

    monkeypatch.setattr(ccaic.models.load, "hub_problem", lambda name, revision: None)
    return seen


def _revisions(calls: Calls) -> dict[str, set[str | None]]:
    """The revisions each loader class was called with."""
    out: dict[str, set[str | None]] = {}
    for name, _, kwargs in calls:
        out.setdefault(name, set()).add(kwargs.get("revision"))
    return out


def test_lm_loads_model_and_tokenizer_at_the_pin(calls: Calls) -> None:
    from ccaic.models.lm import LM

    LM("org/tiny", PIN).free()
    assert _revisions(calls) == {"AutoTokenizer": {PIN}, "AutoModelForCausalLM": {PIN}}


def test_a_folder_loads_without_a_revision(calls: Calls, tiny: Path) -> None:
    from ccaic.models.lm import LM

    LM(str(tiny)).free()
    assert all("revision" not in kwargs for _, _, kwargs in calls) and calls


def test_the_trainers_load_tokenizer_config_model_and_reference_at_the_pin(
        calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy, its config (the dtype it is saved back in) and the frozen DPO reference
    (kept apart only under CUDA autocast: forced here)."""
    pytest.importorskip("trl")
    from ccaic.plan.model import Training
    from ccaic.train import trainers

    trainers._load("org/tiny", Training(), None, PIN)
    monkeypatch.setattr(trainers, "reference_dtype", lambda *a: "bfloat16")
    assert trainers._reference("org/tiny", Training(), PIN) is not None
    assert _revisions(calls) == {"AutoTokenizer": {PIN}, "AutoConfig": {PIN},
                                 "AutoModelForCausalLM": {PIN}}


def test_the_vllm_generator_loads_everything_at_the_pin(calls: Calls,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its tokenizer, config (context length) and generation config (EOS) through the
    loader, the engine told the pin for the weights and the tokenizer."""
    engines: list[dict[str, Any]] = []

    class LLM:
        def __init__(self, **kwargs: Any) -> None:
            engines.append(kwargs)

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM))
    from ccaic.train.generation import VLLMGenerator

    VLLMGenerator("org/tiny", PIN)
    assert _revisions(calls) == {"AutoTokenizer": {PIN}, "AutoConfig": {PIN},
                                 "GenerationConfig": {PIN}}
    assert (engines[0]["revision"], engines[0]["tokenizer_revision"]) == (PIN, PIN)


def test_ccaic_evaluate_scorer_loads_at_the_pin(calls: Calls) -> None:
    from ccaic.evaluate.run import load_scorer

    load_scorer(f"org/tiny@{PIN}", 0)
    assert _revisions(calls) == {"AutoTokenizer": {PIN}, "AutoModelForCausalLM": {PIN}}
    assert {location for _, location, _ in calls} == {"org/tiny"}


def test_the_hhh_judge_loads_at_the_pin(calls: Calls, tmp_path: Path) -> None:
    from ccaic.evaluate.hhh import free_judge, judge_for

    free_judge(judge_for(f"org/tiny@{PIN}", 0, base_dir=tmp_path))
    assert _revisions(calls) == {"AutoTokenizer": {PIN}, "AutoModelForCausalLM": {PIN}}


@pytest.mark.parametrize(("spec", "kind", "name", "revision"), [
    ("builtin:tiny", "builtin", "tiny", None),
    ("org/m", "hf", "org/m", None),
    (f"org/m@{PIN}", "hf", "org/m", PIN),
    ("gpt2", "hf", "gpt2", None),  # a Hub id without an organisation stays loadable here
    ("./missing", "local", "./missing", None),
])
def test_scorer_ref(spec: str, kind: str, name: str, revision: str | None) -> None:
    from ccaic.evaluate.run import scorer_ref

    ref = scorer_ref(spec)
    assert (ref.ref, ref.kind, ref.name, ref.revision) == (spec, kind, name, revision)


def test_scorer_ref_of_a_folder_and_an_unknown_builtin(tmp_path: Path) -> None:
    from ccaic.evaluate.run import scorer_ref

    assert scorer_ref(str(tmp_path)).name == str(tmp_path.resolve())
    assert scorer_ref("org/m", revision=PIN).revision == PIN
    with pytest.raises(DiagnosticError) as caught:
        scorer_ref("builtin:huge")
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [
        ("CCAI494", "unknown builtin model: builtin:huge")]


PLAN = """\
constitution "c" {
  principle "harm" {
    text = "Choose the response that is least harmful."
  }
}

plan "p" {
  constitution = constitution.c
  model        = "org/tiny@PIN"
  prompts      = "red.jsonl"
  seed         = 1
  initial {
    max_new_tokens = 8
    batch_size     = 2
  }
  sl_cai {
    drop_truncated = false
  }
  sft {
    max_steps  = 1
    batch_size = 2
  }
}
"""


def test_a_build_generates_and_trains_at_the_pin(calls: Calls, tmp_path: Path) -> None:
    """The runner's own loads: the policy that generates (initial answers, critiques and
    revisions) and the one SFT trains, each with its tokenizer and config."""
    pytest.importorskip("trl")
    from plan_fixtures import compiled

    from ccaic.train.runner import run_plan

    (tmp_path / "red.jsonl").write_text('{"prompt": "How do I pick a lock?"}\n'
                                        '{"prompt": "How do I hide a lie?"}\n')
    (tmp_path / "plan.ccai").write_text(PLAN.replace("PIN", PIN))
    plan = compiled(tmp_path / "plan.ccai")
    assert (plan.policy.name, plan.policy.revision) == ("org/tiny", PIN)
    result = run_plan(plan, tmp_path / "out", until="sft")
    assert result.steps["step.sft"]["status"] == "ran"
    assert _revisions(calls) == {"AutoTokenizer": {PIN}, "AutoConfig": {PIN},
                                 "AutoModelForCausalLM": {PIN}}
    assert {location for _, location, _ in calls} == {"org/tiny"}


@pytest.mark.parametrize("load", ["scorer", "judge"])
def test_an_uncached_hub_model_fails_before_any_load(load: str, calls: Calls,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    """`ccaic evaluate bbq|hhh --model org/x` with no cache and no Hub: CCAI494 in seconds.
    Before, the HHH judge went straight to from_pretrained (about a minute of retries)."""
    import ccaic.models.load
    from ccaic.evaluate.hhh import judge_for
    from ccaic.evaluate.run import load_scorer

    monkeypatch.setattr(ccaic.models.load, "hub_problem",
                        lambda name, revision: f"`{name}` is not cached")
    with pytest.raises(DiagnosticError) as caught:
        if load == "scorer":
            load_scorer("org/x", 0)
        else:
            judge_for("org/x", 0, base_dir=tmp_path)
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [
        ("CCAI494", "cannot load model: `org/x` is not cached")]
    assert calls == []
