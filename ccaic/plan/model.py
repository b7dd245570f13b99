"""The TrainingPlan: everything a training run needs, validated, as canonical JSON (plan.json).

A plan is compiled from a `plan` block (ccaic.lowering.plan) before anything runs. It holds no
timestamps and no absolute paths: prompt files are named relative to the .ccai file's folder and
pinned by sha256 and row count, the constitution's principles are embedded, and `plan_sha256`
is the sha256 of the canonical JSON of every other field. The same inputs give the same bytes.

Steps (stable addresses; ccaic.registry.steps lists them and their implementations) and the
DAG between them:

    step.initial              initial answers to red-team + helpful prompts (policy model)
    step.sl_cai.critique      critique of the latest answer, one principle drawn per round
    step.sl_cai.revision      revision after each critique        (needs step.sl_cai.critique)
    step.sft_data             conversational `messages` rows      (needs step.sl_cai.revision)
    step.sft                  SFTTrainer on step.sft_data         (needs step.sft_data)
    step.pairs                2 samples per prompt from the SFT model   (needs step.sft)
    step.label                AI preference labels, both A/B orders     (needs step.pairs)
    step.dpo                  DPOTrainer, soft labels             (method "dpo": needs step.label;
                              method "revision_pairs": needs step.sl_cai.revision and starts
                              from step.sft when it is on, else from the policy model)
    step.final                the last trained model, with plan.json and the constitution

Importable without torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from ccaic.canonical import canonical_json, canonical_sha256
from ccaic.models.ref import ModelRef

PLAN_FORMAT_VERSION = "1.0"


class Model(BaseModel):
    """A frozen plan part. Fields named in `_omit_default` were added after plans were first
    written: their dump leaves them out while they hold their default, so plan.json and the
    runner's stage keys of plans that do not use them keep their bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    _omit_default: ClassVar[frozenset[str]] = frozenset()

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        pruned: dict[str, Any] = _prune(self, super().model_dump(**kwargs))
        return pruned


def _prune(model: BaseModel, data: Any) -> Any:
    """`data` (the dump of `model`) without its omitted defaults, at every depth."""
    if not isinstance(data, dict):
        return data
    omit: frozenset[str] = getattr(model, "_omit_default", frozenset())
    fields = type(model).model_fields
    for name in list(data):
        value = getattr(model, name, None)
        if name in omit and value == fields[name].default:
            data.pop(name)
        elif isinstance(value, BaseModel):
            data[name] = _prune(value, data[name])
        elif isinstance(value, tuple) and isinstance(data[name], list):
            data[name] = [_prune(v, d) if isinstance(v, BaseModel) else d
                          for v, d in zip(value, data[name], strict=True)]
    return data


class PromptSet(Model):
    name: Literal["red_team", "helpful"]
    path: str  # relative to the .ccai file's folder, POSIX separators
    sha256: str
    rows: int


class Message(Model):
    role: Literal["system", "user", "assistant"]
    content: str


class Exemplar(Model):
    """A few-shot critique/revision conversation, placed before each new task."""

    messages: tuple[Message, ...]


class PrincipleRef(Model):
    id: str
    address: str
    text: str
    critique: str
    revision: str
    weight: float


class ConstitutionRef(Model):
    name: str
    sha256: str  # sha256 of the constitution's canonical JSON
    principles: tuple[PrincipleRef, ...]


class Sampling(Model):
    max_new_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    batch_size: int = 8


class Lora(Model):
    _omit_default = frozenset({"merge"})

    r: int = 16
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: tuple[str, ...] | Literal["all-linear"] = "all-linear"
    merge: bool = True  # final/: merged weights (true) or the adapters alone (false)


PRECISIONS = ("mixed", "bf16", "fp32")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")


class Training(Model):
    _omit_default = frozenset({"precision", "lr_scheduler", "warmup_ratio", "eval_fraction"})

    epochs: float = 1.0
    learning_rate: float = 2e-5
    batch_size: int = 8  # per device
    gradient_accumulation: int = 1
    total_batch_size: int = 8  # batch_size * gradient_accumulation * devices
    max_length: int = 1024
    max_steps: int = -1
    save_steps: int = 50  # checkpoint interval (resume after a kill)
    lora: Lora | None = None
    # mixed: fp32 master weights + bf16 autocast on CUDA (LoRA: bf16 frozen base, fp32
    # adapters); bf16: pure bf16 weights (updates below bf16 resolution round away); fp32
    precision: Literal["mixed", "bf16", "fp32"] = "mixed"
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] | None = None
    warmup_ratio: float | None = None  # None: the trainer's default (no warmup)
    eval_fraction: float = 0.0  # rows held out for eval loss (0: no eval split)


class InitialStage(Model):
    sampling: Sampling = Sampling()


class SlCaiStage(Model):
    enabled: bool = True
    rounds: int = 1
    sampling: Sampling = Sampling()
    fewshot: tuple[Exemplar, ...] = ()
    fewshot_source: str | None = None  # relative path, or "builtin"
    fewshot_sha256: str = ""
    stop: tuple[str, ...] = ()
    all_rounds: bool = False  # SFT on every round's revision (Anthropic) or the last only
    drop_truncated: bool = True  # drop revisions cut off at max_new_tokens (counted)


class SftStage(Model):
    enabled: bool = True
    training: Training = Training()


class PairsStage(Model):
    enabled: bool = True
    sampling: Sampling = Sampling()
    samples: int = 2


class LabelStage(Model):
    _omit_default = frozenset({"helpful", "concurrency"})

    enabled: bool = True
    chain_of_thought: bool = False
    clamp: float = 0.1  # CoT probabilities clamped to [0.5 - clamp, 0.5 + clamp]
    batch_size: int = 8
    cot_max_new_tokens: int = 64
    # comparison principles for pairs from helpfulness prompts (harmlessness principles judge
    # red-team pairs only); filled with DEFAULT_HELPFUL when the plan has helpful prompts
    helpful: tuple[str, ...] = ()
    concurrency: int = 4  # requests in flight to a remote (openai:) feedback model


DEFAULT_HELPFUL = ("Choose the response that is more helpful: it answers the question "
                   "accurately, clearly and completely.",)


class DpoStage(Model):
    _omit_default = frozenset({"split", "helpful_fraction"})

    enabled: bool = True
    method: Literal["dpo", "revision_pairs"] = "dpo"
    beta: float = 0.1
    soft_labels: bool = True
    training: Training = Training(learning_rate=5e-7)
    split: float = 0.0  # fraction of prompts held out of SFT; preference pairs come from them
    helpful_fraction: float | None = None  # share of helpfulness pairs in the DPO set


class Stages(Model):
    # Each step's settings. A built-in step's are a typed field; a step registered with no
    # plan model (ccaic.registry.steps) keeps its block's settings as a plain object under the
    # block's name, present only when the plan writes that block, so plans without one keep
    # their bytes.

    model_config = ConfigDict(frozen=True, extra="allow")
    __pydantic_extra__: dict[str, dict[str, Any]]

    initial: InitialStage = InitialStage()
    sl_cai: SlCaiStage = SlCaiStage()
    sft: SftStage = SftStage()
    pairs: PairsStage = PairsStage()
    label: LabelStage = LabelStage()
    dpo: DpoStage = DpoStage()

    def has(self, name: str) -> bool:
        """Whether the plan holds settings for stage `name`."""
        return name in type(self).model_fields or name in (self.model_extra or {})

    def value(self, name: str, key: str, default: Any = None) -> Any:
        """Setting `key` of stage `name` (typed field or registered step's object)."""
        stage = (self.model_extra or {}).get(name)
        if stage is not None:
            return stage.get(key, default)
        return getattr(getattr(self, name, None), key, default)

    def settings(self, name: str) -> dict[str, Any]:
        """A registered step's settings (its block's attributes, defaults filled in)."""
        return dict((self.model_extra or {})[name])

    def training(self, name: str) -> Training | None:
        """The training settings of trainer stage `name` (None: it has none)."""
        value = self.value(name, "training")
        if isinstance(value, dict):
            return Training.model_validate(value)
        return value if isinstance(value, Training) else None

    def turned_off(self, names: Iterable[str]) -> Stages:
        """These stages off (a step that replaces them is on)."""
        data = {name: getattr(self, name) for name in type(self).model_fields}
        data.update(self.model_extra or {})
        for name in names:
            stage = data[name]
            data[name] = {**stage, "enabled": False} if isinstance(stage, dict) else \
                stage.model_copy(update={"enabled": False})
        return Stages(**data)


def settings_text(settings: dict[str, Any]) -> str:
    """A registered step's settings as its block writes them (`enabled true, rounds 2`), for
    `ccaic show` and the model card; nested objects (a trainer's `training`) are theirs."""
    def text(value: Any) -> str:
        return f"{value:g}" if isinstance(value, float) else json.dumps(value)

    return ", ".join(f"{key} {text(value)}" for key, value in sorted(settings.items())
                     if not isinstance(value, dict))  # sorted: as plan.json holds them


class EvalData(Model):
    """An evaluation input pinned like a prompt file: relative path and sha256.

    For a BBQ folder, `sha256` covers the category files in `files` (name and content), so
    adding, removing or editing one changes it; for a single file it is the file's sha256.
    """

    path: str  # relative to the .ccai file's folder, POSIX separators
    sha256: str
    files: tuple[str, ...] = ()  # BBQ category files hashed (folders only)


class Evaluate(Model):
    """The plan's `evaluate` block: which benchmarks the build scores after training."""

    bbq: EvalData | None = None
    hhh: EvalData | None = None
    limit: int | None = None  # BBQ examples per category (None: all)


class ChatTemplate(Model):
    """The chat template the plan sets for its policy model (the model's own otherwise)."""

    source: str  # "chatml", "zephyr", or a file relative to the .ccai file's folder
    text: str
    sha256: str


class PreferenceSet(Model):
    """Human (or other) helpfulness preferences, JSONL rows with prompt, chosen, rejected,
    pinned like a prompt file."""

    path: str
    sha256: str
    rows: int


class Step(Model):
    address: str
    enabled: bool
    needs: tuple[str, ...] = ()
    model: Literal["policy", "feedback", "sft", "final"] | None = None


class TrainingPlan(Model):
    _omit_default = frozenset({"chat_template", "preferences"})

    format_version: str = PLAN_FORMAT_VERSION
    name: str
    address: str  # plan.<name>
    source: str  # the .ccai file, relative to its own folder (its file name)
    seed: int = 0
    policy: ModelRef
    feedback: ModelRef
    prompts: tuple[PromptSet, ...]
    constitution: ConstitutionRef
    stages: Stages
    steps: tuple[Step, ...]
    evaluate: Evaluate | None = None
    chat_template: ChatTemplate | None = None
    preferences: PreferenceSet | None = None
    plan_sha256: str = ""

    # Where relative paths resolve (the .ccai file's folder); never serialised.
    _base_dir: str | None = PrivateAttr(default=None)

    def step(self, address: str) -> Step:
        for s in self.steps:
            if s.address == address:
                return s
        raise KeyError(address)

    def enabled(self, address: str) -> bool:
        """Whether the plan runs the step at address (False for a step it does not have, so
        readers of one step list work on plans built from another registry)."""
        return any(s.enabled for s in self.steps if s.address == address)

    def prompt_set(self, name: str) -> PromptSet | None:
        return next((p for p in self.prompts if p.name == name), None)

    @property
    def base_dir(self) -> str | None:
        return self._base_dir

    def with_base_dir(self, base_dir: str | None) -> TrainingPlan:
        self._base_dir = base_dir
        return self


def _dump(plan: TrainingPlan) -> dict[str, Any]:
    """The plan as JSON data; a plan without an evaluate block leaves the key out, so it
    serialises (and hashes) exactly as plans did before the block was carried."""
    data = plan.model_dump(mode="json")
    if data.get("evaluate", ...) is None:
        data.pop("evaluate")
    return data


def _body(plan: TrainingPlan | dict[str, Any]) -> dict[str, Any]:
    data = _dump(plan) if isinstance(plan, TrainingPlan) else dict(plan)
    data.pop("plan_sha256", None)
    if data.get("evaluate", ...) is None:
        data.pop("evaluate", None)
    return data


def compute_plan_sha256(plan: TrainingPlan | dict[str, Any]) -> str:
    return canonical_sha256(_body(plan))


def seal(plan: TrainingPlan) -> TrainingPlan:
    """The plan with plan_sha256 filled in (the base dir carried over)."""
    sealed = plan.model_copy(update={"plan_sha256": compute_plan_sha256(plan)})
    sealed._base_dir = plan._base_dir
    return sealed


def plan_json(plan: TrainingPlan) -> str:
    return canonical_json(_dump(plan))


def load_plan(text: str) -> TrainingPlan:
    """Parse plan.json; raises ValueError (with a readable message) on a bad or tampered file."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("plan.json must hold a JSON object")
    version = data.get("format_version")
    if version != PLAN_FORMAT_VERSION:
        raise ValueError(f"unsupported plan format_version {version!r} "
                         f"(this ccaic reads {PLAN_FORMAT_VERSION})")
    plan = TrainingPlan.model_validate(data)
    if plan.plan_sha256 and plan.plan_sha256 != compute_plan_sha256(plan):
        raise ValueError("plan_sha256 does not match the plan's contents (edited by hand?)")
    return plan


def plan_json_schema() -> dict[str, Any]:
    from ccaic.registry.steps import settings_stages  # the registry reads this module

    schema = TrainingPlan.model_json_schema(mode="serialization")
    if not settings_stages():  # no registered step keeps its settings outside these fields
        schema["$defs"]["Stages"]["additionalProperties"] = False
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ccaic.dev/schemas/plan-1.0.json"
    schema["title"] = "ccaic TrainingPlan"
    return schema


__all__ = [
    "DEFAULT_HELPFUL", "PLAN_FORMAT_VERSION", "PRECISIONS", "SCHEDULERS",
    "ChatTemplate", "ConstitutionRef", "DpoStage", "EvalData", "Evaluate", "Exemplar",
    "InitialStage", "LabelStage", "Lora", "Message", "PairsStage", "PreferenceSet",
    "PrincipleRef",
    "PromptSet", "Sampling", "SftStage", "SlCaiStage", "Stages", "Step", "Training",
    "TrainingPlan", "compute_plan_sha256", "load_plan", "plan_json",
    "plan_json_schema", "seal", "settings_text",
]
