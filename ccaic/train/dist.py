"""The process world under `accelerate launch` / torchrun, detected lazily (no torch import
for a single process).

A plan runs the same way on one process or many: generation stages shard their batches across
ranks and gather the rows on every rank; rank 0 alone writes plan.json, stage files, manifests,
run.json and build.log; trainer stages run on every rank through TRL/accelerate. The output
folder must be visible to every rank (one machine, or a shared filesystem across nodes), as for
the Hugging Face Trainer's own checkpoint resume.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place in the run; collectives are no-ops for a single process."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def shard(self, n: int) -> list[int]:
        """The item indices (batch numbers) this rank owns: round-robin, so shares differ by at
        most one and do not depend on anything but n and the world size."""
        return list(range(self.rank, n, self.size))

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as td

            td.barrier()

    def all_gather(self, obj: T) -> list[T]:
        """Every rank's object, in rank order, on every rank."""
        if not self.distributed:
            return [obj]
        import torch.distributed as td

        out: list[Any] = [None] * self.size
        td.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: T) -> T:
        """Rank 0's value on every rank (so ranks never disagree on, e.g., a cache hit)."""
        if not self.distributed:
            return obj
        import torch.distributed as td

        box: list[T] = [obj]
        td.broadcast_object_list(box, src=0)
        return box[0]


SINGLE = World()


@lru_cache(maxsize=1)
def world() -> World:
    """The world from accelerate's PartialState when launched with several processes
    (`WORLD_SIZE` > 1); initialising it joins the process group (nccl on GPU, gloo on CPU) and
    pins this process to its local GPU, which the trainers later share."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return SINGLE
    import torch
    from accelerate import PartialState

    # cpu=True is what makes accelerate join a gloo group on a machine without CUDA; it is
    # also what the trainers' TrainingArguments(use_cpu=...) pass, so the singleton agrees
    state = PartialState(cpu=not torch.cuda.is_available())
    atexit.register(_leave)
    return World(rank=state.process_index, size=state.num_processes,
                 local_rank=state.local_process_index)


def _leave() -> None:
    """Leave the process group before exit: a gloo group still alive at interpreter shutdown
    aborts the process ("terminate called without an active exception")."""
    import torch.distributed as td

    if td.is_available() and td.is_initialized():
        td.destroy_process_group()


def accumulation_steps(total: int, per_device: int, world_size: int, stage: str = "") -> int:
    """Gradient accumulation that keeps the plan's total_batch_size (examples per optimiser
    step over all devices) whatever the number of processes; CCAI521 when it cannot."""
    per_step = per_device * world_size
    if total >= per_step and total % per_step == 0:
        return total // per_step
    from ccaic.diagnostics import DiagnosticError, error

    where = f"`{stage}`: " if stage else ""
    fits = [b for b in range(per_device, 0, -1) if total % (b * world_size) == 0]
    hint = (f"set batch_size = {fits[0]} (per device) in this block, or " if fits else "") + \
        f"make total_batch_size a multiple of {per_step} (batch_size x {world_size} processes)"
    raise DiagnosticError([error(
        "CCAI521", f"{where}total_batch_size {total} cannot be split over {world_size} "
        f"processes of batch_size {per_device}", help=hint)])
