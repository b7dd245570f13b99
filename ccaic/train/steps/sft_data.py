"""step.sft_data: the SFT set, conversational rows from the kept revisions and the initial
helpful answers (prompts held out for preference pairs are left out)."""

from __future__ import annotations

import json
from typing import Any

from ccaic.diagnostics import DiagnosticError, error
from ccaic.store import StageDir
from ccaic.train.steps.base import Computed, StoredStep, upstream
from ccaic.train.steps.context import RunContext


class SftData(StoredStep):
    name = "sft_data"
    dataset = "sft.jsonl"

    def key(self, ctx: RunContext) -> dict[str, Any]:
        return {"stage": "sft_data", "sl_cai": upstream(ctx, "sl_cai").key,
                "initial": upstream(ctx, "initial").key,
                "all_rounds": ctx.plan.stages.sl_cai.all_rounds, **ctx.split_key}

    def compute(self, ctx: RunContext, stage: StageDir) -> Computed:
        from ccaic.train.stages import sft_rows

        sl_cai = upstream(ctx, "sl_cai")
        helpful = [r for r in upstream(ctx, "initial").rows if r["set"] == "helpful"]
        rows = sft_rows([r for r in sl_cai.rows if r["id"] not in ctx.held],
                        [h for h in helpful if h["id"] not in ctx.held],
                        ctx.plan.stages.sl_cai.all_rounds)
        if not any(r["source"] == "red_team" for r in rows):
            assert sl_cai.stage is not None
            dropped = sl_cai.stage.manifest()["counts"].get("dropped", {})
            raise DiagnosticError([error(
                "CCAI512", "every revision was dropped, so the SFT set has no "
                f"critique/revision rows (dropped: {json.dumps(dropped)})",
                help="raise sl_cai.max_new_tokens (most drops are `truncated`), or set "
                "sl_cai.drop_truncated = false for smoke runs with builtin:tiny")])
        return Computed(rows, {
            "rows": len(rows), "red_team": sum(r["source"] == "red_team" for r in rows),
            "helpful": sum(r["source"] == "helpful" for r in rows)})
