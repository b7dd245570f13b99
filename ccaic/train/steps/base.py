"""The training-step protocol, and the base class of the steps that live in stages/.

A step is named in ccaic.registry.steps (name, plan addresses, block, attributes) and
implemented here as a `TrainStep`: `execute(ctx)` runs it, or reuses its committed stage, and
says what it did. The runner knows nothing else about any step.

Most steps are a `StoredStep`: they declare `key(ctx)` (the content of their inputs: settings,
seed, model identities and the keys of the steps they read), `compute(ctx, stage)` (rows and
counts) and `dataset` (the JSONL file they commit), and get the content-addressed folder
`stages/<name>-<key16>/`, the cached / running / done log lines, resume of finished batches and
the commit for free.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ccaic.plan.model import TrainingPlan
from ccaic.store import StageDir, content_key, read_jsonl
from ccaic.train.steps.context import Output, Row, RunContext


@dataclass(frozen=True)
class Outcome:
    """What one step did: run.json's entry for each of its addresses, and its output."""

    status: str  # "ran" or "cached"
    output: Output
    dir: str | None  # its folder, relative to the run folder
    extra: dict[str, Any] = field(default_factory=dict)  # counts, or final's `from`


class TrainStep(Protocol):
    name: str

    def preflight(self, plan: TrainingPlan, world_size: int) -> None:
        """Checks that need no data, run for every enabled step before any step runs, so a
        bad setting fails in a second, not after an hour of generation."""
        ...

    def execute(self, ctx: RunContext) -> Outcome:
        """Run the step (or reuse its committed result) and return what it did."""
        ...


@dataclass(frozen=True)
class Computed:
    """A stored step's fresh result."""

    rows: list[Row]  # committed as `dataset` (when the step has one) and handed on
    counts: dict[str, Any]


class StoredStep(ABC):
    """A step with a content-addressed folder in stages/ (see the module docstring)."""

    name: ClassVar[str]
    dataset: ClassVar[str | None] = None  # the JSONL file it commits, None: none
    model: ClassVar[str | None] = None  # the model folder it trains, None: none
    reads_back: ClassVar[bool] = True  # a reused stage hands its dataset on (read from disk)

    def preflight(self, plan: TrainingPlan, world_size: int) -> None:
        """Nothing to check before the run by default."""
        del plan, world_size

    @abstractmethod
    def key(self, ctx: RunContext) -> dict[str, Any]:
        """The step's inputs (settings, seed, model identities, upstream keys): its folder."""

    @abstractmethod
    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        """Run the step into stage (batches as parts, a model under stage/model)."""

    def execute(self, ctx: RunContext) -> Outcome:
        """Reuse the committed folder of this key, else compute into it and commit it."""
        stage = StageDir(ctx.out, self.name, content_key(self.key(ctx)))
        where = stage.path.relative_to(ctx.out).as_posix()
        if ctx.world.broadcast(stage.done):  # rank 0 decides, so no rank runs a stage alone
            ctx.log(f"{self.name}: cached ({stage.path.name})")
            rows = read_jsonl(stage.file(self.dataset)) if self.dataset and self.reads_back \
                else []
            return Outcome("cached", self._output(stage, rows), where,
                           {"counts": stage.manifest().get("counts", {})})
        stage.path.mkdir(parents=True, exist_ok=True)
        ctx.log(f"{self.name}: running ({stage.path.name})")
        t0 = time.perf_counter()
        done = self.compute(ctx, stage)
        self._commit(ctx, stage, done, t0)
        return Outcome("ran", self._output(stage, done.rows), where, {"counts": done.counts})

    def _output(self, stage: StageDir, rows: list[Row]) -> Output:
        model = stage.file(self.model) if self.model else None
        return Output(key=stage.key, stage=stage, rows=rows, model=model)

    def _commit(self, ctx: RunContext, stage: StageDir, done: Computed, t0: float) -> None:
        """Rank 0 writes the dataset and the manifest; every rank waits for the commit."""
        if ctx.world.is_main:
            files = {self.dataset: stage.write_jsonl(self.dataset, done.rows)} \
                if self.dataset else {}
            stage.commit({"counts": done.counts, "files": files})
            stage.clear_parts()
        ctx.world.barrier()  # the others go on only once the stage is committed
        if stage.reused:
            ctx.log(f"{self.name}: resumed, {stage.reused} batch(es) kept from an "
                    "interrupted run")
        dt = time.perf_counter() - t0
        ctx.log(f"{self.name}: done in {dt:.1f}s "
                f"counts={json.dumps(done.counts, sort_keys=True)}")


def upstream(ctx: RunContext, name: str) -> Output:
    """The output of an earlier step this one needs (the runner runs a step only when every
    step it needs has one)."""
    found = ctx.output(name)
    if found is None:
        raise RuntimeError(f"step {name} has no output")  # the runner's rule makes this a bug
    return found
