"""Running a TrainingPlan: generation, critique/revision, SFT, pairs, AI labels, DPO.

torch / transformers / trl are imported inside functions only. `run_plan` is the entry point.
"""

from __future__ import annotations

from typing import Any


def run_plan(*args: Any, **kwargs: Any) -> Any:
    from ccaic.train.runner import run_plan as _run

    return _run(*args, **kwargs)


__all__ = ["run_plan"]
