"""Training plans: the validated, canonical description of a training run (no torch here)."""

from typing import Any

from ccaic.plan.model import TrainingPlan, load_plan, plan_json, plan_json_schema

__all__ = ["TrainingPlan", "compile_plans", "load_plan", "plan_json", "plan_json_schema"]


def compile_plans(*args: Any, **kwargs: Any) -> Any:
    from ccaic.lowering.plan import compile_plans as _compile

    return _compile(*args, **kwargs)
