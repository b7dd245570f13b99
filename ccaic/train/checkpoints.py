"""Trainer checkpoints that are safe to resume from (no torch at import).

The Hugging Face Trainer writes `checkpoint-N/` file by file (weights, optimizer, RNG state,
trainer_state.json), so a kill or a full disk mid-save leaves a folder that looks like the
newest checkpoint but cannot be loaded. ccaic marks a checkpoint complete once the Trainer's
save has returned on every rank (`MARKER`, written atomically) and resumes only from a marked
one; unmarked folders are moved aside into `incomplete/` (kept for inspection until the stage
commits and its checkpoints folder is removed).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic

MARKER = "ccaic-complete.json"
ASIDE = "incomplete"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_step(folder: Path) -> int | None:
    """N for a folder named checkpoint-N, else None."""
    m = _CHECKPOINT.match(folder.name)
    return int(m.group(1)) if m else None


def is_complete(folder: Path) -> bool:
    """True when the folder carries ccaic's marker for its own step and the trainer state."""
    try:
        marker = json.loads((folder / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(marker, dict) and marker.get("step") == checkpoint_step(folder)
            and (folder / "trainer_state.json").is_file())


def mark_complete(folder: Path) -> None:
    """Record that the Trainer finished saving this checkpoint."""
    write_text_atomic(folder / MARKER, json.dumps({"step": checkpoint_step(folder)}) + "\n")


def checkpoints(work: Path) -> list[Path]:
    """checkpoint-N folders directly under work, by step."""
    if not work.is_dir():
        return []
    found = [p for p in work.iterdir() if p.is_dir() and checkpoint_step(p) is not None]
    return sorted(found, key=lambda p: checkpoint_step(p) or 0)


def last_complete(work: Path) -> str | None:
    """The highest-numbered complete checkpoint (what `resume_from_checkpoint` gets)."""
    done = [p for p in checkpoints(work) if is_complete(p)]
    return str(done[-1]) if done else None


def set_aside_incomplete(work: Path, say: Callable[[str], None]) -> list[str]:
    """Move every incomplete checkpoint into work/incomplete/ (one log line each), so neither
    the resume nor the Trainer's checkpoint rotation ever reads one; returns their names."""
    moved: list[str] = []
    for folder in checkpoints(work):
        if is_complete(folder):
            continue
        target = work / ASIDE / folder.name
        n = 1
        while target.exists():
            target = work / ASIDE / f"{folder.name}.{n}"
            n += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, target)
        say(f"set aside incomplete trainer checkpoint {folder.name} "
            f"(saved only in part; now {ASIDE}/{target.name})")
        moved.append(folder.name)
    return moved


def marker_callback() -> Any:
    """A TrainerCallback that marks each checkpoint complete after the Trainer saved it; under
    several processes it waits for every rank (each writes its own shards and RNG state)."""
    from transformers import TrainerCallback

    from ccaic.train.dist import world

    class MarkComplete(TrainerCallback):
        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            w = world()
            w.barrier()
            if w.is_main:
                folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                if folder.is_dir():
                    mark_complete(folder)

    return MarkComplete()


HISTORY = "log_history.jsonl"
# per-step entries keep what the step computed; wall-clock figures differ run to run, and
# TRL's running `num_tokens` restarts at 0 when a run resumes (it is not in trainer_state)
_TIMED = ("runtime", "per_second", "flos", "num_tokens")


def history_rows(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Trainer's per-step log entries without timings or run-local counters. The Trainer
    restores its log history from the checkpoint it resumes, so this is the whole run's
    history, the same for a resumed run as for an uninterrupted one."""
    return [{k: v for k, v in entry.items() if not any(t in k for t in _TIMED)}
            for entry in log_history if "loss" in entry and "step" in entry]


def write_history(log_history: list[dict[str, Any]], stage: Path) -> None:
    """stage/log_history.jsonl (read by the report's loss curves), atomically, by rank 0."""
    from ccaic.canonical import canonical_jsonl
    from ccaic.train.dist import world

    if world().is_main:
        write_text_atomic(stage / HISTORY, canonical_jsonl(history_rows(log_history)))
