"""The shared plan fixture: a .ccai file compiled to its training plans through the build
driver (ccaic.build.run_until), the way `ccaic build --until plan` compiles them, without
writing a file or reading assembly data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ccaic.build import run_until
from ccaic.check.checker import Program
from ccaic.diagnostics import Diagnostic
from ccaic.plan.model import TrainingPlan


def compile_source(path: str | Path, var_args: Sequence[str] = ()
                   ) -> tuple[list[TrainingPlan], list[Diagnostic], Program | None]:
    """(plans, diagnostics, program) for a .ccai file; no plans when a stage reported an
    error."""
    result = run_until("plan", str(path), None, var_args, data=False)
    return result.plans, result.diagnostics, result.programs[0] if result.programs else None


def compiled(path: str | Path, var_args: Sequence[str] = ()) -> TrainingPlan:
    """The one plan of a .ccai file that must compile cleanly."""
    plans, diags, _ = compile_source(path, var_args)
    assert not [d for d in diags if d.is_error], diags
    assert len(plans) == 1, plans
    return plans[0]
