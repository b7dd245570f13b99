"""The build's evaluate stage: BBQ on the base and the trained model, HHH on the judge.

Run after `run_plan` when the plan has an `evaluate` block. Writes, under the run folder:

    eval/bbq.json       {"models": {"base": <BBQ body>, "final": <BBQ body>}, ...}
    eval/hhh.json       the feedback model's judge accuracy (ccaic.evaluate.hhh body)
    eval/manifest.json  per output: its input key and sha256 (written last: the commit marker)

Every file is canonical JSON (sorted keys, no timestamps, no absolute paths), written
atomically. Each output is content-addressed: its key hashes the plan's evaluate section (the
data's sha256s), the seed, the models' identities and, for BBQ, the final model's files. When
the key is unchanged and the file still has the recorded sha256 it is reused, not recomputed,
so a second `ccaic build` with nothing changed evaluates nothing. The BBQ body of each model is
exactly `ccaic evaluate bbq --format json`'s, so the report and `ccaic diff` read either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json, canonical_sha256
from ccaic.diagnostics import DiagnosticError, error
from ccaic.evaluate.data import load_comparisons, pin_bbq_folder
from ccaic.models.identity import model_files_digest, model_identity
from ccaic.plan.model import EvalData, TrainingPlan

EVAL_CODE_VERSION = "1"
FORMAT_VERSION = "1.0"
MANIFEST = "manifest.json"

Log = Callable[[str], None]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- input identities


def _check_pinned(kind: str, data: EvalData, base: Path) -> Path:
    """The data's path, after checking it still has the sha256 the plan pinned (CCAI498)."""
    path = base / data.path
    if kind == "bbq":
        found = pin_bbq_folder(path)[0] if path.is_dir() else None
    else:
        found = _sha256(path.read_bytes()) if path.is_file() else None
    if found is None:
        raise DiagnosticError([error(
            "CCAI498", f"evaluation data `{data.path}` is missing since the plan was compiled",
            help=f"it is resolved against {base}; restore it, or re-run `ccaic build`")])
    if found != data.sha256:
        raise DiagnosticError([error(
            "CCAI498", f"evaluation data `{data.path}` changed since the plan was compiled",
            help="re-run `ccaic build` so the plan pins the new data")])
    return path


# ---------------------------------------------------------------- reuse


def _manifest(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _cached(out: Path, manifest: dict[str, Any], name: str, key: str) -> dict[str, Any] | None:
    entry = manifest.get("outputs", {}).get(name)
    path = out / name
    if not isinstance(entry, dict) or entry.get("key") != key or not path.is_file():
        return None
    data = path.read_bytes()
    if _sha256(data) != entry.get("sha256"):
        return None
    body: dict[str, Any] = json.loads(data)
    return body


def _key(inputs: dict[str, Any]) -> str:
    return canonical_sha256({"code": EVAL_CODE_VERSION, "inputs": inputs})


# ---------------------------------------------------------------- the stage


def evaluate_plan(plan: TrainingPlan, run_dir: Path, *, base_dir: str | Path | None = None,
                  log: Log | None = None, batch_size: int = 16) -> dict[str, Any] | None:
    """Score the plan's evaluations into run_dir/eval; None when the plan has no evaluate block.

    BBQ is scored on the base policy model and, when the plan trains, on run_dir/final (the
    comparison the CCAI paper reports); HHH judge accuracy on the feedback model, which labels
    the preference pairs. Raises DiagnosticError (CCAI49x) for missing or changed data, a
    missing trained model, or a model that cannot be loaded.
    """
    ev = plan.evaluate
    if ev is None or (ev.bbq is None and ev.hhh is None):
        return None
    say = log or (lambda _: None)
    run_dir = Path(run_dir)
    base = Path(base_dir or plan.base_dir or Path.cwd())
    out = run_dir / "eval"
    final = run_dir / "final"
    if plan.enabled("step.final") and not (final / "config.json").is_file():
        raise DiagnosticError([error(
            "CCAI499", f"{plan.address} trains a model, but {final.name}/ has no saved model "
            "to evaluate", help="run the plan to the end first (`ccaic build` without "
            "--until), then evaluate; an interrupted run resumes where it stopped")])
    trained = plan.enabled("step.final")
    # Every input is checked before any model is loaded: a bad file fails in a second.
    folder = _check_pinned("bbq", ev.bbq, base) if ev.bbq is not None else None
    path = _check_pinned("hhh", ev.hhh, base) if ev.hhh is not None else None
    from ccaic.models.load import check_plan_models

    check_plan_models(plan, "CCAI494")  # a Hub id that cannot be had fails in seconds
    manifest = _manifest(out)
    outputs: dict[str, dict[str, str]] = {}
    status: dict[str, str] = {}
    bodies: dict[str, dict[str, Any]] = {}

    if ev.bbq is not None and folder is not None:
        key = _key({"bbq": ev.bbq.model_dump(mode="json"), "limit": ev.limit,
                    "seed": plan.seed, "base": model_identity(plan.policy, base, plan.seed),
                    "final": model_files_digest(final) if trained else None})
        body = _cached(out, manifest, "bbq.json", key)
        status["bbq"] = "cached" if body is not None else "ran"
        if body is None:
            say("evaluate: bbq on the base" + (" and final models" if trained else " model"))
            body = _run_bbq(plan, folder, base, final if trained else None, ev.limit,
                            batch_size)
            write_text_atomic(out / "bbq.json", canonical_json(body))
        bodies["bbq"] = body
        outputs["bbq.json"] = {"key": key, "sha256": canonical_sha256(body)}

    if ev.hhh is not None and path is not None:
        key = _key({"hhh": ev.hhh.model_dump(mode="json"), "seed": plan.seed,
                    "judge": model_identity(plan.feedback, base, plan.seed),
                    "batch_size": plan.stages.label.batch_size})
        body = _cached(out, manifest, "hhh.json", key)
        status["hhh"] = "cached" if body is not None else "ran"
        if body is None:
            say("evaluate: hhh judge accuracy of the feedback model")
            body = _run_hhh(plan, path, ev.hhh.sha256, base)
            write_text_atomic(out / "hhh.json", canonical_json(body))
        bodies["hhh"] = body
        outputs["hhh.json"] = {"key": key, "sha256": canonical_sha256(body)}

    record = canonical_json({"format_version": FORMAT_VERSION, "plan": plan.address,
                             "outputs": outputs})
    if not (out / MANIFEST).is_file() or (out / MANIFEST).read_text("utf-8") != record:
        write_text_atomic(out / MANIFEST, record)
    if trained:  # the model card states the evaluation results
        from ccaic.models.card import write_model_card

        write_model_card(plan, run_dir, base)
    return summary(plan, bodies, status)


def _run_bbq(plan: TrainingPlan, folder: Path, base: Path, final: Path | None,
             limit: int | None, batch_size: int) -> dict[str, Any]:
    from ccaic.evaluate import bbq
    from ccaic.evaluate.run import evaluate_bbq, load_scorer
    from ccaic.models.load import model_location, model_revision

    dataset = bbq.load(folder)
    models: dict[str, Any] = {}
    targets = [("base", model_location(plan.policy, str(base), plan.seed), plan.policy.ref,
                model_revision(plan.policy))]
    if final is not None:
        targets.append(("final", str(final), "final", None))
    for name, location, label, revision in targets:
        scorer = load_scorer(location, plan.seed, batch_size=batch_size, revision=revision)
        try:
            models[name] = evaluate_bbq(dataset, scorer, model=label, limit=limit,
                                        seed=plan.seed)
        finally:
            _release(scorer)
    return {"format_version": FORMAT_VERSION, "benchmark": "bbq", "plan": plan.address,
            "data": plan.evaluate.bbq.path if plan.evaluate and plan.evaluate.bbq else None,
            "models": models}


def _run_hhh(plan: TrainingPlan, path: Path, sha256: str, base: Path) -> dict[str, Any]:
    from ccaic.evaluate.hhh import free_judge, judge_for_ref, run_comparisons

    comparisons = load_comparisons(path)
    judge = judge_for_ref(plan.feedback, plan.seed, plan.stages.label.batch_size, base)
    try:
        body = run_comparisons(comparisons, judge, model=plan.feedback.ref, seed=plan.seed,
                               data_sha256=sha256)
    finally:
        free_judge(judge)
    assert plan.evaluate is not None and plan.evaluate.hhh is not None
    return {**body, "plan": plan.address, "data": plan.evaluate.hhh.path, "role": "feedback"}


def _release(scorer: Any) -> None:
    """Drop a scorer's model before the next one loads (two models never share the GPU)."""
    scorer.model = None
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


# ---------------------------------------------------------------- what callers see


BBQ_SUMMARY = ("accuracy_ambiguous", "accuracy_disambiguated", "bias_ambiguous",
               "bias_disambiguated")


def summary(plan: TrainingPlan, bodies: dict[str, dict[str, Any]],
            status: dict[str, str]) -> dict[str, Any]:
    """The headline numbers (overall BBQ per model, judge accuracy) and what ran or was reused."""
    out: dict[str, Any] = {"plan": plan.address, "status": status,
                           "files": {k: f"eval/{k}.json" for k in bodies}}
    if "bbq" in bodies:
        out["bbq"] = {name: {k: body["overall"].get(k) for k in BBQ_SUMMARY}
                      for name, body in sorted(bodies["bbq"]["models"].items())}
    if "hhh" in bodies:
        h = bodies["hhh"]
        out["hhh"] = {k: h[k] for k in ("model", "n", "accuracy_given_order",
                                        "accuracy_swapped_order", "accuracy_debiased",
                                        "mean_position_bias")}
    return out


def report_evaluations(run_dir: Path, plan_name: str) -> dict[str, dict[str, Any]]:
    """The eval/ bodies keyed the way ccaic.report reads `evaluations/*.json` (label -> body):
    `<plan>-base`, `<plan>-final` (BBQ) and `<plan>-judge` (HHH). Empty when none exist."""
    out: dict[str, dict[str, Any]] = {}
    folder = Path(run_dir) / "eval"
    if (folder / "bbq.json").is_file():
        for name, body in json.loads((folder / "bbq.json").read_text("utf-8"))["models"].items():
            out[f"{plan_name}-{name}"] = body
    if (folder / "hhh.json").is_file():
        out[f"{plan_name}-judge"] = json.loads((folder / "hhh.json").read_text("utf-8"))
    return out
