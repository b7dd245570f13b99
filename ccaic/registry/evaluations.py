"""Evaluations: `evaluate { <name> = ... }` inside a plan, run by the build's evaluate stage.

An entry's `name` is the `evaluate` block attribute naming its data and the field of the plan's
`Evaluate` (ccaic.plan.model: the lowered evaluate block) holding that data pinned; `target` is
its `ccaic.evaluate.evaluations.base.Evaluation`; `attrs` are the block attributes it reads,
with their defaults. The stage runs the entries in this order, writing eval/<name>.json; the
checker's `evaluate` block takes the union of every entry's attributes.

A new evaluation: its module under ccaic/evaluate/evaluations/, one Entry here, its field in
`Evaluate` and its pinning in the lowering (ccaic/lowering/plan.py `_evaluate`), plus docs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccaic.registry import Attr, Entry, Registry

if TYPE_CHECKING:
    from ccaic.evaluate.evaluations.base import Evaluation

EVALUATIONS: Registry[Evaluation] = Registry("evaluation", [
    Entry("bbq", "ccaic.evaluate.evaluations.bbq:BBQ",
          "BBQ bias benchmark on the base and the trained model",
          attrs={"bbq": Attr("path", "folder of BBQ category files (JSONL)"),
                 "limit": Attr("int", "examples per category", minimum=1)}),
    Entry("hhh", "ccaic.evaluate.evaluations.hhh:HHH",
          "Anthropic's HHH comparisons: judge accuracy of the feedback model",
          attrs={"hhh": Attr("path", "Anthropic's HHH comparisons (JSONL)")}),
])
