"""What a report is made from, read from a build folder's artifacts plus in-memory extras.

Everything is optional except that there is something to report: a build stopped after its
constitution has no training runs or evaluations, and those sections are left out with a note.
The layout read here (relative to the build folder); a build's files are typed (the models
and schemas in ccaic.artifacts, `ccaic schema NAME`), but the report reads them as plain data
so an older or hand-made file still reports what it has:

    assemblies/<name>.json                 ccaic.assembly.stage.artifact()
    constitutions/<name>.json              ccaic.constitution.model.Constitution
    run.json, */run.json, */*/run.json     a training run (ccaic.train.runner): its stages/
                                           folders with manifest.json, build.log
    */eval/bbq.json, */eval/hhh.json       a run's evaluate stage (ccaic.evaluate.stage): BBQ
                                           bodies labelled <plan>-base / <plan>-final, HHH
                                           judge accuracy labelled <plan>-judge
    evaluations/*.json                     `ccaic evaluate bbq --format json` bodies, and HHH
                                           judge-accuracy bodies (ccaic.evaluate.hhh,
                                           bench/hhh_accuracy.py); the file stem is the label
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccaic.registry.steps import LOSS_STEPS
from ccaic.report.projections import OpinionMap

RUN_DEPTH = 3  # run.json at most this many folders below the build folder


@dataclass(frozen=True)
class TrainingRun:
    """One training run's numbers: the run record, stage counts, losses and principle draws."""

    name: str
    run: dict[str, Any]
    counts: dict[str, dict[str, Any]]  # stage name -> manifest counts
    losses: dict[str, list[tuple[int, float]]]  # sft / dpo -> (step, loss)
    critiques: dict[str, int]  # principle id -> times drawn for a critique/revision
    comparisons: dict[str, int]  # principle id -> times drawn for an AI comparison label
    principles: tuple[str, ...] = ()  # the plan's principle ids, in order (zero draws kept)


@dataclass
class ReportInputs:
    """Artifacts keyed by name. Build one with `from_build_dir`, or directly in tests."""

    assemblies: dict[str, dict[str, Any]] = field(default_factory=dict)
    constitutions: dict[str, dict[str, Any]] = field(default_factory=dict)
    training: dict[str, TrainingRun] = field(default_factory=dict)
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    opinion_maps: dict[str, OpinionMap] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)  # history/watch.json's

    @classmethod
    def from_build_dir(cls, out_dir: str | Path, *,
                       opinion_maps: dict[str, OpinionMap] | None = None,
                       evaluations: dict[str, dict[str, Any]] | None = None) -> ReportInputs:
        """Read a build folder; extras given in memory win over files of the same name."""
        from ccaic.report.timeline import read_timeline

        root = Path(out_dir)
        evals: dict[str, dict[str, Any]] = {}
        for name, folder in run_folders(root).items():
            evals.update(_run_evaluations(folder, name))
        evals.update(_read_named(root / "evaluations"))
        evals.update(evaluations or {})
        return cls(assemblies=_read_named(root / "assemblies"),
                   constitutions=_read_named(root / "constitutions"),
                   training=read_training_runs(root), evaluations=evals,
                   opinion_maps=dict(opinion_maps or {}), timeline=read_timeline(root))


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_named(folder: Path) -> dict[str, dict[str, Any]]:
    """name -> parsed JSON for every *.json in a folder (sorted, so order never varies)."""
    if not folder.is_dir():
        return {}
    return {p.stem: _read_json(p) for p in sorted(folder.glob("*.json")) if p.is_file()}


# ---------------------------------------------------------------- training runs


def run_folders(root: Path) -> dict[str, Path]:
    """Every training run folder (a run.json with steps) within RUN_DEPTH folders of root,
    keyed by plan name; `ccaic build` puts them at plans/<plan>/."""
    found: dict[str, Path] = {}
    for depth in range(RUN_DEPTH + 1):
        for path in sorted(root.glob("/".join(["*"] * depth + ["run.json"]))):
            try:
                run = _read_json(path)
            except (OSError, ValueError):
                continue
            if isinstance(run, dict) and "steps" in run:
                found.setdefault(_plan_name(run, path.parent), path.parent)
    return found


def read_training_runs(root: Path) -> dict[str, TrainingRun]:
    """Every training run under root, keyed by plan name (or folder)."""
    found: dict[str, TrainingRun] = {}
    for folder in run_folders(root).values():
        run = read_training_run(folder)
        if run is not None:
            found.setdefault(run.name, run)
    return found


def _run_evaluations(folder: Path, plan: str) -> dict[str, dict[str, Any]]:
    """The evaluate stage's outputs in a run folder (eval/bbq.json with one body per model,
    eval/hhh.json), labelled `<plan>-base`, `<plan>-final`, `<plan>-judge`."""
    out: dict[str, dict[str, Any]] = {}
    with contextlib.suppress(OSError, ValueError, AttributeError):
        bbq = _read_json(folder / "eval" / "bbq.json")
        out.update({f"{plan}-{m}": body for m, body in sorted(bbq.get("models", {}).items())})
    with contextlib.suppress(OSError, ValueError):
        out[f"{plan}-judge"] = _read_json(folder / "eval" / "hhh.json")
    return out


def _plan_name(run: dict[str, Any], folder: Path) -> str:
    address = str(run.get("plan") or "")
    return address.split(".")[-1] if address else folder.name


def read_training_run(folder: Path) -> TrainingRun | None:
    """One run folder; None when its run.json is not a training run record."""
    try:
        run = _read_json(folder / "run.json")
    except (OSError, ValueError):
        return None
    if not isinstance(run, dict) or "steps" not in run:
        return None
    counts: dict[str, dict[str, Any]] = {}
    stage_dirs: dict[str, Path] = {}
    for step in run["steps"].values():
        rel = step.get("dir")
        if not rel or not rel.startswith("stages/"):
            continue
        stage = Path(rel).name.rsplit("-", 1)[0]
        stage_dirs[stage] = folder / rel
        counts[stage] = dict(step.get("counts") or {})
    critiques = {str(k): int(v) for k, v in counts.get("sl_cai", {}).get("principles",
                                                                            {}).items()}
    comparisons = _comparison_draws(stage_dirs.get("label"))
    log = folder / "build.log"
    losses = {s: _losses(stage_dirs[s], log) for s in LOSS_STEPS if s in stage_dirs}
    return TrainingRun(name=_plan_name(run, folder), run=run, counts=counts,
                       losses={k: v for k, v in losses.items() if v}, critiques=critiques,
                       comparisons=comparisons, principles=_plan_principles(folder))


def _plan_principles(folder: Path) -> tuple[str, ...]:
    """The plan's principle ids, so principles never drawn still show (with 0)."""
    try:
        plan = _read_json(folder / "plan.json")
        return tuple(str(p["id"]) for p in plan["constitution"]["principles"])
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def _comparison_draws(stage: Path | None) -> dict[str, int]:
    """Principle per AI comparison label, counted from the labelled pairs."""
    if stage is None or not (stage / "pairs_labelled.jsonl").is_file():
        return {}
    out: dict[str, int] = {}
    with open(stage / "pairs_labelled.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                pid = json.loads(line).get("principle_id")
                if pid is not None:
                    out[str(pid)] = out.get(str(pid), 0) + 1
    return out


_STEP = re.compile(r"^\S+\s+step (\d+): (.*)$")
_LOSS = re.compile(r"(?:^|, )loss=([-+0-9.eE]+|nan|inf)")


def _losses(stage: Path, log: Path) -> list[tuple[int, float]]:
    """Per-step training loss: `log_history.jsonl` in the stage folder when the trainer writes
    one, else the trainer's lines in build.log for this stage folder's last run."""
    history = stage / "log_history.jsonl"
    if history.is_file():
        rows = [json.loads(x) for x in history.read_text("utf-8").splitlines() if x.strip()]
        return [(int(r["step"]), float(r["loss"])) for r in rows if "loss" in r and "step" in r]
    if not log.is_file():
        return []
    return _losses_from_log(log.read_text(encoding="utf-8").splitlines(), stage.name)


def _losses_from_log(lines: list[str], stage_dir: str) -> list[tuple[int, float]]:
    block: list[tuple[int, float]] | None = None
    last: list[tuple[int, float]] = []
    for text in lines:
        if f"running ({stage_dir})" in text:
            block = []
        elif block is not None:
            m = _STEP.match(text)
            if m:
                loss = _LOSS.search(m.group(2))
                if loss:
                    block.append((int(m.group(1)), float(loss.group(1))))
            elif " done in " in text or "running (" in text:
                last, block = block, None
    return block if block else last
