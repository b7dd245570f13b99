"""What trainer steps (SFT, DPO, and any other trainer) share: resume from the last complete
checkpoint, a full disk as CCAI520, and the cleanup once the model is saved."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.plan.model import Training
from ccaic.store import StageDir
from ccaic.train.steps.context import RunContext

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full(exc: BaseException) -> bool:
    """True when exc, or an exception it was raised from, is "no space left on device"
    (torch.save and safetensors wrap the OSError in their own errors)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _DISK_FULL:
            return True
        if "No space left on device" in str(seen) or "Disk quota exceeded" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def disk_full_is_a_diagnostic(stage: str, out: Path) -> Iterator[None]:
    """A full disk while training (usually mid-checkpoint) is CCAI520, not a crash: the
    half-written checkpoint is set aside on the next run, which resumes from the last good one."""
    try:
        yield
    except DiagnosticError:
        raise
    except Exception as exc:
        if not disk_full(exc):
            raise
        raise DiagnosticError([error(
            "CCAI520", f"{stage}: the disk filled up while training wrote to {out}",
            help="free some space and run the build again: it sets the half-written "
            "checkpoint aside and resumes from the last complete one")]) from None


def prepare_resume(ctx: RunContext, stage: str, work: Path) -> None:
    """Before a trainer stage: rank 0 sets half-saved checkpoints aside and says which one
    training resumes from; the other ranks wait, then all read the same folder."""
    from ccaic.train.checkpoints import last_complete, set_aside_incomplete

    if ctx.world.is_main:
        set_aside_incomplete(work, lambda line: ctx.log(f"{stage}: {line}"))
        last = last_complete(work)
        if last is not None:
            ctx.log(f"{stage}: resuming from the last trainer checkpoint ({Path(last).name})")
    ctx.world.barrier()


def check_batches(training: Training, world_size: int, block: str) -> None:
    """total_batch_size splits over the processes (CCAI521), checked before anything runs so
    a launch on the wrong number of devices fails in a second, not after generation."""
    from ccaic.train.dist import accumulation_steps

    accumulation_steps(training.total_batch_size, training.batch_size, world_size, block)


Trainer = Callable[[Path, Path], dict[str, Any]]  # (checkpoints, model folder) -> counts


def train(ctx: RunContext, name: str, stage: StageDir, trainer: Trainer,
          hub_base: str | None) -> dict[str, Any]:
    """Run trainer into stage/model, resuming from stage/checkpoints; once saved, rank 0
    drops the checkpoints and points the adapter config at hub_base (None: this build's
    model, not on the Hub). Returns the trainer's counts."""
    from ccaic.models.card import portable_adapter_config

    ctx.models.free()  # the generation model leaves the device first
    ctx.progress.start(f"step.{name}", 1)
    work, model = stage.file("checkpoints"), stage.file("model")
    prepare_resume(ctx, name, work)
    with disk_full_is_a_diagnostic(name, ctx.out):
        counts = trainer(work, model)
    ctx.progress.advance(1)
    ctx.progress.finish()
    if ctx.world.is_main:
        shutil.rmtree(work, ignore_errors=True)
        portable_adapter_config(model / "adapter", hub_base, ctx.policy.revision)
    return counts
