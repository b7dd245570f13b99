"""What every training step reads: the plan, the run folder, the models, earlier outputs.

`RunContext` is built once per run by the runner; a step reads its settings from `plan`, the
outputs of the steps before it from `outputs` (by step name), and loads models through
`models`, which holds one model at a time. No torch at import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.files import read_data_bytes
from ccaic.plan.model import TrainingPlan
from ccaic.plan.rows import prompt_messages
from ccaic.store import StageDir
from ccaic.train.dist import World
from ccaic.train.progress import BuildLog, Progress

Row = dict[str, Any]


@dataclass(frozen=True)
class Output:
    """What a finished (or reused) step hands to the steps after it."""

    key: str  # the content key of its inputs: later steps fold it into theirs
    stage: StageDir | None = None  # its committed folder (None: not stored in stages/)
    rows: list[Row] = field(default_factory=list)  # its dataset, for steps that make one
    model: Path | None = None  # the model folder it trained, for trainer steps


@dataclass(frozen=True)
class Policy:
    """The plan's policy model: where it loads from and what identifies its weights."""

    location: str
    identity: dict[str, Any]  # model_identity (+ the plan's chat template): in stage keys
    revision: str | None  # the Hub revision the plan pins
    hub_id: str | None  # the Hub id, for a portable adapter config


class Models:
    """Loads each model location once at a time (frees the previous one).

    `get(loc)` is the transformers model (scoring and, with the transformers backend,
    generation); `generator(loc)` is whatever the generation backend is (vLLM or the same
    transformers model)."""

    def __init__(self, backend: str = "transformers", chat_template: str | None = None,
                 plan: TrainingPlan | None = None) -> None:
        self.backend = backend
        self.chat_template = chat_template  # the plan's, set on every tokenizer loaded
        self.plan = plan  # sizes vLLM's context and batched tokens
        self.location: tuple[str, str | None, str] | None = None
        self.lm: Any = None

    def generator(self, location: str, revision: str | None = None) -> Any:
        return self.get(location, self.backend, revision)

    def get(self, location: str, backend: str = "transformers",
            revision: str | None = None) -> Any:
        """revision: the Hub revision the plan pins (None for folders and unpinned ids)."""
        if self.location != (location, revision, backend):
            self.free()
            try:
                self.lm = self._load(location, backend, revision)
            except OSError as exc:
                raise DiagnosticError([error(
                    "CCAI513", f"model `{location}` could not be loaded: {exc}",
                    help="check the id or folder; without network access only models already "
                    "in the Hugging Face cache or on disk can be used")]) from None
            self.location = (location, revision, backend)
        return self.lm

    def _load(self, location: str, backend: str, revision: str | None) -> Any:
        if backend == "vllm":
            from ccaic.train.generation import VLLMGenerator

            return VLLMGenerator(location, revision, chat_template=self.chat_template,
                                 plan=self.plan)
        from ccaic.models.lm import LM

        return LM(location, revision, chat_template=self.chat_template)

    def free(self) -> None:
        if self.lm is not None:
            self.lm.free()
        self.lm = None
        self.location = None


def pinned_rows(base: Path, rel: str, sha256: str, what: str) -> list[Row]:
    """The JSONL rows of a file the plan pinned; CCAI511 when it is gone or changed."""
    path = base / rel
    try:
        data = read_data_bytes(path)
    except OSError as exc:
        raise DiagnosticError([error(
            "CCAI511", f"{what} `{rel}` cannot be read: {exc.strerror or exc}",
            help=f"it is resolved against {base}; run from the .ccai file's folder or pass "
            "base_dir")]) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DiagnosticError([error(
            "CCAI511", f"{what} `{rel}` changed since the plan was compiled",
            help="re-run `ccaic build` so the plan pins the new file")])
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def prompt_rows(plan: TrainingPlan, base: Path) -> dict[str, list[Row]]:
    """Each prompt set's rows as conversations, with stable ids (`red_team:00003`)."""
    out: dict[str, list[Row]] = {}
    for ps in plan.prompts:
        rows = pinned_rows(base, ps.path, ps.sha256, "prompt file")
        out[ps.name] = [{"id": f"{ps.name}:{i:05d}", "set": ps.name,
                         "prompt": prompt_messages(r)} for i, r in enumerate(rows)]
    return out


@dataclass
class RunContext:
    """One run's shared state; `outputs` grows as the runner walks plan.steps."""

    plan: TrainingPlan
    out: Path  # the run folder
    base: Path  # where the plan's relative paths resolve
    text: str  # plan.json, as written
    world: World
    log: BuildLog
    progress: Progress
    models: Models
    policy: Policy
    prompts: dict[str, list[Row]]  # prompt set name -> rows (prompt_rows)
    held: set[str]  # prompt ids held out of SFT (rlaif.split): preference pairs come from them
    step_of: Mapping[str, str]  # plan address -> the name of the step that covers it
    gen_key: dict[str, Any]  # in generation keys: the backend, when not transformers
    world_key: dict[str, Any]  # in trainer keys: the world size, when data-parallel
    outputs: dict[str, Output] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.plan.seed

    @property
    def template(self) -> str | None:
        """The plan's chat template text (None: each model's own)."""
        return self.plan.chat_template.text if self.plan.chat_template else None

    @property
    def split_key(self) -> dict[str, Any]:
        """In the keys of steps that depend on which prompts are held out."""
        split = self.plan.stages.dpo.split
        return {"split": split} if split > 0 else {}

    @property
    def all_prompts(self) -> list[Row]:
        return self.prompts.get("red_team", []) + self.prompts.get("helpful", [])

    def for_pairs(self, rows: list[Row]) -> list[Row]:
        """The rows preference pairs come from: those held out of SFT, or all when none is."""
        return [r for r in rows if not self.held or r["id"] in self.held]

    @cached_property
    def preferences(self) -> list[Row]:
        """The plan's helpfulness preference pairs as DPO rows (hard labels), read once."""
        if self.plan.preferences is None:
            return []
        from ccaic.models.labels import preference_row

        ps = self.plan.preferences
        rows = pinned_rows(self.base, ps.path, ps.sha256, "preference file")
        return [preference_row(r, i, prompt_messages(r)) for i, r in enumerate(rows)]

    def preference_pin(self) -> dict[str, Any]:
        """`{"preferences": sha256}` for a key (empty without a preference file), once the file
        is read and found unchanged (CCAI511 otherwise), so a reused stage is checked too."""
        ps = self.plan.preferences
        if ps is None:
            return {}
        _ = self.preferences  # read now: a changed file stops a reused stage as well
        return {"preferences": ps.sha256}

    def output(self, name: str) -> Output | None:
        """The output of step `name`, None when it is off (or has not run)."""
        return self.outputs.get(name)
