"""Helpers for tests: compile a .ccai source into plans, with the plan attributes this package
reads that the language schema (ccaic/check/schema.py) may not list yet.

`PROPOSED_ATTRS` is exactly the schema change requested from the schema's owner; once it is in
ccaic/check/schema.py, `extended_schema()` is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ccaic.check.schema import LORA, SCHEMA, Attr

# (path of nested block names under `plan`, attribute name, Attr)
PROPOSED_ATTRS: tuple[tuple[tuple[str, ...], str, Attr], ...] = (
    (("sl_cai",), "stop", Attr("list:string", "extra stop strings cut from generations")),
    (("sl_cai",), "all_rounds", Attr("bool", "SFT on every round's revision, not only the last")),
    (("sl_cai",), "drop_truncated", Attr("bool", "drop revisions cut off at max_new_tokens "
                                         "(default true)")),
    (("sft",), "total_batch_size", Attr("int", "examples per optimiser step over all devices; "
                                        "a multiple of batch_size", minimum=1)),
    (("sft",), "save_steps", Attr("int", "checkpoint every this many steps (resume)", minimum=1)),
    (("rlaif",), "total_batch_size", Attr("int", "examples per optimiser step over all devices; "
                                          "a multiple of batch_size", minimum=1)),
    (("rlaif",), "save_steps", Attr("int", "checkpoint every this many steps (resume)",
                                    minimum=1)),
    (("rlaif",), "soft_labels", Attr("bool", "train on the labeller's probabilities (default "
                                     "true) instead of hard 0/1 labels")),
    (("pairs",), "samples", Attr("int", "responses sampled per prompt (2)", minimum=2,
                                 maximum=2)),
    (("label",), "batch_size", Attr("int", "comparisons scored together", minimum=1)),
    (("lora",), "enabled", Attr("bool", "train LoRA adapters (default true when the block is "
                                "present)")),
)


@contextmanager
def extended_schema() -> Iterator[None]:
    added: list[tuple[dict[str, Attr], str]] = []
    for path, name, attr in PROPOSED_ATTRS:
        target = LORA.attrs if path == ("lora",) else SCHEMA["plan"].blocks[path[0]].attrs
        if name not in target:
            target[name] = attr
            added.append((target, name))
    try:
        yield
    finally:
        for target, name in added:
            target.pop(name, None)


def compile_source(path: str | Path, var_args: list[str] | None = None
                   ) -> tuple[list[Any], list[Any], Any]:
    """(plans, diagnostics, program) for a .ccai file, checked with the extended schema."""
    from ccaic.check.checker import check_paths
    from ccaic.check.variables import parse_cli_vars, resolve_variables
    from ccaic.constitution.render import build_constitutions
    from ccaic.lowering.lower_constitution import lower_constitutions
    from ccaic.lowering.plan import compile_plans

    with extended_schema():
        programs, diags = check_paths([str(path)])
    if any(d.is_error for d in diags):
        return [], diags, programs[0] if programs else None
    program = programs[0]
    parsed, more = parse_cli_vars(var_args or [])
    values, more2 = resolve_variables(program, parsed, require_values=True)
    diags = [*diags, *more, *more2]
    constitutions, rdiags = build_constitutions(lower_constitutions(program, values), {})
    diags.extend(rdiags)
    plans, pdiags = compile_plans(program, values, {c.name: c for c in constitutions})
    return plans, [*diags, *pdiags], program
