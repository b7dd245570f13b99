"""Report test inputs: a real quickstart build, and a training run and evaluations on disk
written by hand in the runner's layout (so these tests need no torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "quickstart.ccai"


def build_quickstart(out: Path) -> dict[str, Any]:
    """`ccaic build --until constitution` the quickstart into out (no torch); returns its
    opinion maps (the assembly stage's output the report reads; no artifact holds them)."""
    from ccaic.build import build

    result = build(str(QUICKSTART), str(out), [], until="constitution")
    assert result.ok, result.diagnostics
    return dict(result.opinion_maps)


def quickstart_maps() -> dict[str, Any]:
    """The quickstart's opinion maps alone: the driver up to the assemblies, no files."""
    from ccaic.build import run_until

    result = run_until("assemblies", str(QUICKSTART), None)
    assert result.ok and result.opinion_maps, result.diagnostics
    return dict(result.opinion_maps)


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_training_run(root: Path, principles: list[str], name: str = "quickstart",
                       loss_file: bool = False) -> Path:
    """A run folder as ccaic.train.runner leaves it: run.json, plan.json, stage manifests,
    labelled pairs and build.log (timestamps included, as the real log has them)."""
    run = root / "plans" / name
    critiques = {p: (i % 3) for i, p in enumerate(principles)}
    sl = {"prompts": 12, "revisions": 12, "kept": 9, "prompts_without_revision": 3,
          "dropped": {"empty": 1, "truncated": 2, "unchanged": 0, "role_tag": 0},
          "principles": {p: n for p, n in critiques.items() if n}}
    steps = {
        "step.initial": {"dir": "stages/initial-aaaa", "counts": {"responses": 16}},
        "step.sl_cai.critique": {"dir": "stages/sl_cai-bbbb", "counts": sl},
        "step.sl_cai.revision": {"dir": "stages/sl_cai-bbbb", "counts": sl},
        "step.sft_data": {"dir": "stages/sft_data-cccc", "counts": {"rows": 13}},
        "step.sft": {"dir": "stages/sft-dddd", "counts": {"steps": 3, "train_loss": 4.5,
                                                          "rows": 13}},
        "step.pairs": {"dir": "stages/pairs-eeee", "counts": {
            "prompts": 16, "pairs": 14, "dropped": {"empty": 1, "identical": 1}}},
        "step.label": {"dir": "stages/label-ffff", "counts": {
            "labels": 14, "mean_p_chosen": 0.61, "position_bias": 0.02}},
        "step.dpo": {"dir": "stages/dpo-gggg", "counts": {"steps": 2, "train_loss": 0.69,
                                                          "rows": 14}},
        "step.final": {"dir": "final", "from": "dpo-gggg"},
    }
    _write(run / "run.json", {"format_version": "1.0", "plan": f"plan.{name}",
                              "plan_sha256": "0" * 64, "stopped_after": "final",
                              "steps": steps})
    _write(run / "plan.json", {"constitution": {"principles": [{"id": p} for p in principles]}})
    for step in steps.values():
        if str(step["dir"]).startswith("stages/"):
            _write(run / str(step["dir"]) / "manifest.json", {"counts": step["counts"]})
    labels = run / "stages" / "label-ffff" / "pairs_labelled.jsonl"
    labels.write_text("".join(json.dumps({"id": i, "principle_id": principles[i % 2]}) + "\n"
                              for i in range(14)), encoding="utf-8")
    (run / "build.log").write_text(
        "2026-01-01T00:00:00 run plan.x\n"
        "2026-01-01T00:00:01 sft: running (sft-dddd)\n"
        "2026-01-01T00:00:02   step 1: epoch=0.3, loss=5.1, learning_rate=2e-05\n"
        "2026-01-01T00:00:03   step 2: epoch=0.6, loss=4.4\n"
        "2026-01-01T00:00:04   step 3: epoch=1, loss=4.0\n"
        "2026-01-01T00:00:04   step 3: epoch=1, train_loss=4.5, train_runtime=0.3\n"
        "2026-01-01T00:00:05 sft: done in 2.7s counts={}\n"
        "2026-01-01T00:00:06 dpo: running (dpo-gggg)\n"
        "2026-01-01T00:00:07   step 1: loss=0.6931, p_chosen=0.5\n"
        "2026-01-01T00:00:08   step 2: loss=0.6925, p_chosen=0.5\n"
        "2026-01-01T00:00:09 dpo: done in 2.6s counts={}\n", encoding="utf-8")
    if loss_file:
        (run / "stages" / "sft-dddd" / "log_history.jsonl").write_text(
            '{"step": 1, "loss": 9.0}\n{"step": 2, "loss": 8.0}\n', encoding="utf-8")
    return run


CATEGORIES = ("Age", "Disability_status", "Gender_identity")


def bbq_body(model: str, shift: float) -> dict[str, Any]:
    """A `ccaic evaluate bbq --format json` body with made-up numbers and intervals."""
    def entry(i: int) -> dict[str, Any]:
        bd, ba = round(0.2 - shift + 0.05 * i, 6), round(0.1 - shift / 2 + 0.02 * i, 6)
        return {"accuracy_ambiguous": 0.4 + 0.1 * i, "accuracy_disambiguated": 0.55,
                "bias_ambiguous": ba, "bias_disambiguated": bd,
                "bias_ambiguous_unscaled": 0.2, "n_ambiguous": 20, "n_disambiguated": 20,
                "intervals": {"accuracy_ambiguous": [0.3, 0.6], "accuracy_disambiguated":
                              [0.4, 0.7], "bias_ambiguous": [round(ba - 0.1, 6),
                                                             round(ba + 0.1, 6)],
                              "bias_disambiguated": [round(bd - 0.15, 6), round(bd + 0.15, 6)]}}
    return {"format_version": "1.0", "benchmark": "bbq", "model": model,
            "limit_per_category": 40, "seed": 0,
            "categories": {c: entry(i) for i, c in enumerate(CATEGORIES)},
            "overall": entry(1)}


def hhh_body(model: str, accuracy: float) -> dict[str, Any]:
    """bench/hhh_accuracy.py's output (its `seconds` must not reach the report)."""
    return {"model": model, "seed": 0, "items": 438, "accuracy_debiased": accuracy,
            "accuracy_given_order": 0.51, "mean_position_bias": 0.019, "seconds": 107.3}


def write_evaluations(root: Path, shift: float = 0.0) -> None:
    _write(root / "evaluations" / "base.json", bbq_body("builtin:tiny", 0.0))
    _write(root / "evaluations" / "quickstart.json", bbq_body("plans/quickstart/final", shift))
    _write(root / "evaluations" / "judge.json", hhh_body("builtin:tiny", 0.495))


def full_build(out: Path) -> dict[str, Any]:
    """Quickstart build + training run + evaluations; returns the opinion maps."""
    maps = build_quickstart(out)
    constitution = json.loads((out / "constitutions" / "quickstart.json").read_text("utf-8"))
    write_training_run(out, [p["id"] for p in constitution["principles"]])
    write_evaluations(out, shift=0.1)
    return maps
