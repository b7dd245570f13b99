"""`ccaic build`: run the stages in order, write artifacts atomically, report what changed.

Stages: check -> variables -> assemblies (resolve, analyze, select) -> constitution -> plan
-> run (the training steps, ccaic.train) -> report. Each stage is a pure function of the
previous stage's output; this module only sequences them and writes files. torch is imported
only when the run stage starts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.check.checker import Program, check_paths
from ccaic.check.templates import check_interpolated
from ccaic.check.variables import parse_cli_vars, resolve_variables
from ccaic.diagnostics import Diagnostic, DiagnosticError, error
from ccaic.syntax import ast
from ccaic.train.dist import world  # light: no torch unless several processes run

STAGES = ("check", "assemblies", "constitution", "plan", "run")
# Training steps `--until` also accepts (ccaic.train.runner.ORDER; a test keeps them in step,
# listed here so the CLI does not import the runner to print its help).
RUN_STEPS = ("initial", "sl_cai", "sft_data", "sft", "pairs", "label", "dpo", "final")


@dataclass
class Artifact:
    path: str  # relative to the output folder
    sha256: str
    changed: bool


@dataclass
class BuildResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    stopped_after: str = "check"
    programs: list[Program] = field(default_factory=list)
    runs: dict[str, Any] = field(default_factory=dict)  # plan name -> ccaic.train RunResult
    notes: list[str] = field(default_factory=list)  # summary lines the CLI prints (assemblies)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def changed(self) -> bool:
        return any(a.changed for a in self.artifacts) or any(r.ran for r in self.runs.values())


class Writer:
    """Writes artifacts under the output folder, noting which ones changed."""

    def __init__(self, root: Path, result: BuildResult, until: str = "run"):
        self.root = root
        self.result = result
        self.until = until  # stages read it: some results are errors only in a full build
        self.opinion_maps: dict[str, Any] = {}  # assembly -> ccaic.report OpinionMap

    def note(self, lines: Sequence[str]) -> None:
        """Summary lines for the build output (what moderation removed, ...)."""
        self.result.notes.extend(lines)

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Warnings a stage found on its way (the build goes on)."""
        self.result.diagnostics.extend(diagnostics)

    def text(self, relative: str, text: str) -> None:
        target = self.root / relative
        old = target.read_text(encoding="utf-8") if target.is_file() else None
        if old != text and world().is_main:  # under accelerate, rank 0 alone writes
            write_text_atomic(target, text)
        self.result.artifacts.append(Artifact(
            path=relative, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            changed=old != text))


AssemblyStage = Callable[[Program, dict[str, Any], Writer], dict[str, Any]]


def build(path: str, out_dir: str, cli_vars: Sequence[str], until: str = "run",
          assembly_stage: AssemblyStage | None = None) -> BuildResult:
    """The stages, then report.json / report.md / report.html whenever the build got as far
    as its constitutions (the reports summarize every artifact written so far)."""
    maps: dict[str, Any] = {}
    result = _build_stages(path, out_dir, cli_vars, until, assembly_stage, maps)
    if result.ok and result.stopped_after not in ("check", "assemblies") and world().is_main:
        from ccaic.report import ReportInputs, write_reports

        out = Path(out_dir)
        write_reports(out, ReportInputs.from_build_dir(out, opinion_maps=maps),
                      Writer(out, result))
    return result


def _build_stages(path: str, out_dir: str, cli_vars: Sequence[str], until: str,
                  assembly_stage: AssemblyStage | None, maps: dict[str, Any]) -> BuildResult:
    result = BuildResult()
    programs, diagnostics = check_paths([path])
    result.programs = programs
    result.diagnostics.extend(diagnostics)
    if not result.ok or until == "check":
        return result
    program = programs[0]
    parsed, var_diags = parse_cli_vars(cli_vars)
    values, more = resolve_variables(program, parsed, require_values=True)
    result.diagnostics.extend(var_diags + more + check_interpolated(program, values))
    if not result.ok:
        return result
    writer = Writer(Path(out_dir), result, until)
    writer.opinion_maps = maps
    selections: dict[str, Any] = {}
    if program.blocks("assembly"):
        stage = assembly_stage or _default_assembly_stage()
        try:
            selections = stage(program, values, writer)
        except DiagnosticError as exc:
            result.diagnostics.extend(exc.diagnostics)
            return result
    result.stopped_after = "assemblies"
    if until == "assemblies":
        return result
    from ccaic.constitution.interchange import to_markdown
    from ccaic.constitution.render import build_constitutions

    constitutions, render_diags = build_constitutions(program, values, selections)
    result.diagnostics.extend(render_diags + _empty_constitutions(program, constitutions))
    if not result.ok:
        return result
    for c in constitutions:
        writer.text(f"constitutions/{c.name}.json", canonical_json(c))
        writer.text(f"constitutions/{c.name}.md", to_markdown(c))
    result.stopped_after = "constitution"
    if until == "constitution":
        return result
    from ccaic.lowering.plan import compile_plans
    from ccaic.plan.model import plan_json

    plans, plan_diags = compile_plans(program, values, {c.name: c for c in constitutions})
    result.diagnostics.extend(plan_diags)
    if not result.ok:
        return result
    for plan in plans:
        writer.text(f"plans/{plan.name}/plan.json", plan_json(plan))
    result.stopped_after = "plan"
    if until == "plan" or not plans:
        return result
    from ccaic.train import run_plan

    missing = _missing_training_packages()
    if missing:
        result.diagnostics.append(error(
            "CCAI516", f"training needs {', '.join(missing)}, which is not installed",
            help="install the training extra (pip install 'ccaic[train]', or ./scripts/setup), "
            "or stop before training with --until plan"))
        return result
    step = None if until == "run" else until
    for plan in plans:
        try:
            run = run_plan(plan, Path(out_dir) / "plans" / plan.name, until=step)
            if step is None:  # evaluation needs the final model of a full run
                from ccaic.evaluate.stage import evaluate_plan

                evaluate_plan(plan, Path(out_dir) / "plans" / plan.name)
        except DiagnosticError as exc:
            result.diagnostics.extend(exc.diagnostics)
            return result
        result.runs[plan.name] = run
    result.stopped_after = until if step else "run"
    return result


def _empty_constitutions(program: Program, constitutions: Sequence[Any]) -> list[Diagnostic]:
    """CCAI424 for a constitution without principles (training on it would teach nothing),
    naming what removed them."""
    out = []
    for c in constitutions:
        if c.principles:
            continue
        block = program.symbols[("constitution", c.name)]
        rules = [i for i in block.body if isinstance(i, ast.Rule)]
        why = (f"its `drop statements` rules dropped all {len(c.dropped)} selected statements"
               if c.dropped else "it renders no principle")
        out.append(error(
            "CCAI424", f"constitution `{c.name}` has no principles: {why}",
            rules[0].span if c.dropped and rules else block.labels[0].span,
            help="drop fewer statements, or add a `principle` block"))
    return out


def _missing_training_packages() -> list[str]:
    from importlib.util import find_spec

    return [name for name in ("torch", "transformers", "trl") if find_spec(name) is None]


def _default_assembly_stage() -> AssemblyStage:
    from ccaic.resolve import assembly_stage

    return assembly_stage
