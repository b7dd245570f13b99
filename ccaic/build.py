"""`ccaic build`: run the stages in order, write artifacts atomically, report what changed.

Stages: check -> assemblies (resolve, analyze, select) -> constitution -> plan -> run (the
training steps, ccaic.train, then evaluate) -> report. `run_until` is the one driver: `ccaic
build`, `ccaic diff` and the tests all go through it. Each stage is a pure function of the
previous stage's typed output (BuildResult keeps them); this module only sequences them and
writes files. torch is imported only when the run stage starts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccaic.artifacts import validate_file, validate_text
from ccaic.atomic import write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.check.checker import Program, check_paths
from ccaic.check.templates import check_interpolated
from ccaic.check.variables import Value, parse_cli_vars, resolve_variables
from ccaic.diagnostics import Diagnostic, DiagnosticError, error
from ccaic.registry.steps import STEPS
from ccaic.train.dist import world  # light: no torch unless several processes run

if TYPE_CHECKING:
    from ccaic.constitution.model import Constitution
    from ccaic.constitution.render import SelectedStatements
    from ccaic.lowering.assembly import AssemblySpec
    from ccaic.lowering.constitution import ConstitutionSpec
    from ccaic.plan.model import TrainingPlan
    from ccaic.report.projections import OpinionMap
    from ccaic.train.runner import RunResult

STAGES = ("check", "assemblies", "constitution", "plan", "run")
# Training steps `--until` also accepts: the step registry's names (pure data, so the CLI
# does not import the runner to print its help).
RUN_STEPS = STEPS.names()
RUN_ARTIFACTS = ("run.json", "eval/bbq.json", "eval/hhh.json")  # under plans/NAME/


@dataclass
class Artifact:
    path: str  # relative to the output folder
    sha256: str
    changed: bool


@dataclass
class BuildResult:
    """What the driver did: diagnostics and artifacts, and each stage's typed output, which
    the next stage (and `ccaic diff`, and the tests) read instead of the files."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    stopped_after: str = "check"
    programs: list[Program] = field(default_factory=list)
    runs: dict[str, RunResult] = field(default_factory=dict)  # plan name -> its run
    notes: list[str] = field(default_factory=list)  # summary lines the CLI prints (assemblies)
    variables: dict[str, Value] = field(default_factory=dict)
    assemblies: list[AssemblySpec] = field(default_factory=list)  # as lowered (data=True)
    selections: dict[str, SelectedStatements] = field(default_factory=dict)  # per assembly
    opinion_maps: dict[str, OpinionMap] = field(default_factory=dict)  # per assembly, report
    constitutions: list[Constitution] = field(default_factory=list)
    plans: list[TrainingPlan] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def changed(self) -> bool:
        return any(a.changed for a in self.artifacts) or any(r.ran for r in self.runs.values())


class Writer:
    """Writes artifacts under the output folder, noting which ones changed; with no folder
    (root None) it only records them, for callers that want the stage outputs alone."""

    def __init__(self, root: Path | None, result: BuildResult):
        self.root = root
        self.result = result

    def note(self, lines: Sequence[str]) -> None:
        """Summary lines for the build output (what moderation removed, ...)."""
        self.result.notes.extend(lines)

    def warn(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Warnings a stage found on its way (the build goes on)."""
        self.result.diagnostics.extend(diagnostics)

    def text(self, relative: str, text: str) -> None:
        """Write one artifact; a typed one is first checked against its model (ccaic.artifacts:
        a mismatch is a bug in its writer, never written)."""
        validate_text(relative, text)
        target = None if self.root is None else self.root / relative
        old = target.read_text(encoding="utf-8") if target and target.is_file() else None
        if target is not None and old != text and world().is_main:  # rank 0 alone writes
            write_text_atomic(target, text)
        self.result.artifacts.append(Artifact(
            path=relative, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            changed=old != text))


@dataclass(frozen=True)
class _Run:
    """One driver run: where it writes, how far it goes, and the checked program."""

    program: Program
    writer: Writer
    until: str
    data: bool  # False: no assembly is analyzed (no data read), constitutions only
    cli_vars: tuple[str, ...]  # the --var values as given: CCAI481 names them

    @property
    def result(self) -> BuildResult:
        return self.writer.result


Stage = Callable[[_Run], bool]  # records its output in the result; False: stop here


def build(path: str, out_dir: str, cli_vars: Sequence[str], until: str = "run"
          ) -> BuildResult:
    """`ccaic build`: the stages up to `until`, then the reports (run_until)."""
    return run_until(until, path, out_dir, cli_vars)


def run_until(until: str, path: str, out_dir: str | Path | None, cli_vars: Sequence[str] = (),
              *, data: bool = True, report: bool = True) -> BuildResult:
    """Run the stages up to `until` (a stage of STAGES or a training step of RUN_STEPS).

    out_dir None writes no file. data=False renders constitutions without analyzing any
    assembly (those rendered from one come out empty and are not checked), as `ccaic diff`
    needs for a hand-written constitution. With report, report.json / report.md / report.html
    are written whenever the build got as far as its constitutions (the reports summarize
    every artifact written so far).
    """
    result = BuildResult()
    program = _check(path, cli_vars, until, result)
    if program is None:
        return result
    run = _Run(program, Writer(None if out_dir is None else Path(out_dir), result), until, data,
               tuple(cli_vars))
    for stage in _STAGE_FUNCTIONS:
        if not stage(run) or result.stopped_after == until:
            break
    if report and out_dir is not None and result.ok and world().is_main \
            and result.stopped_after not in ("check", "assemblies"):
        write_build_reports(Path(out_dir), result)
    return result


def _check(path: str, cli_vars: Sequence[str], until: str, result: BuildResult
           ) -> Program | None:
    """The check stage and the variables: the program, or None to stop (an error, or
    `--until check`)."""
    programs, diagnostics = check_paths([path])
    result.programs = programs
    result.diagnostics.extend(diagnostics)
    if not result.ok or until == "check":
        return None
    program = programs[0]
    parsed, var_diags = parse_cli_vars(cli_vars)
    values, more = resolve_variables(program, parsed, require_values=True)
    result.diagnostics.extend(var_diags + more + check_interpolated(program, values))
    result.variables = values
    return program if result.ok else None


def _assemblies(run: _Run) -> bool:
    from ccaic.assembly.stage import assembly_stage
    from ccaic.lowering.lower_assembly import lower_assemblies

    if run.data and run.program.blocks("assembly"):
        specs, lowering = lower_assemblies(run.program, run.result.variables)
        if lowering:
            run.result.diagnostics.extend(lowering)
            return False
        run.result.assemblies = specs
        try:
            out = assembly_stage(specs, run.result.variables,
                                 Path(run.program.root).resolve().parent, run.writer,
                                 root=run.writer.root, explore=run.until == "assemblies")
        except DiagnosticError as exc:
            run.result.diagnostics.extend(exc.diagnostics)
            return False
        run.result.selections, run.result.opinion_maps = out.selected, out.opinion_maps
    run.result.stopped_after = "assemblies"
    return True


def _constitutions(run: _Run) -> bool:
    from ccaic.constitution.drafting import drafts_command
    from ccaic.constitution.interchange import to_markdown
    from ccaic.constitution.render import build_constitutions
    from ccaic.lowering.lower_constitution import lower_constitutions

    result = run.result
    specs = lower_constitutions(run.program, result.variables)
    constitutions, render_diags = build_constitutions(
        specs, result.selections, drafts_command(run.program.root, run.cli_vars))
    result.diagnostics.extend(render_diags)
    if run.data:
        result.diagnostics.extend(_empty_constitutions(specs, constitutions))
    if not result.ok:
        return False
    result.constitutions = constitutions
    for c in constitutions:
        run.writer.text(f"constitutions/{c.name}.json", canonical_json(c))
        run.writer.text(f"constitutions/{c.name}.md", to_markdown(c))
    result.stopped_after = "constitution"
    return True


def _plans(run: _Run) -> bool:
    from ccaic.lowering.plan import compile_plans
    from ccaic.plan.model import plan_json

    result = run.result
    plans, plan_diags = compile_plans(run.program, result.variables,
                                      {c.name: c for c in result.constitutions})
    result.diagnostics.extend(plan_diags)
    if not result.ok:
        return False
    result.plans = plans
    for plan in plans:
        run.writer.text(f"plans/{plan.name}/plan.json", plan_json(plan))
    result.stopped_after = "plan"
    return bool(plans)


def _train(run: _Run) -> bool:
    """The run stage: every plan's training steps (up to a step of RUN_STEPS), then, after a
    full run, its evaluations."""
    from ccaic.train import run_plan

    result = run.result
    root = run.writer.root
    if root is None:
        raise ValueError("the run stage writes its steps into a folder: give run_until one")
    missing = _missing_training_packages()
    if missing:
        result.diagnostics.append(error(
            "CCAI516", f"training needs {', '.join(missing)}, which is not installed",
            help="install the training extra (pip install 'ccaic[train]', or ./scripts/setup), "
            "or stop before training with --until plan"))
        return False
    step = None if run.until == "run" else run.until
    for plan in result.plans:
        folder = root / "plans" / plan.name
        try:
            done = run_plan(plan, folder, until=step)
            if step is None:  # evaluation needs the final model of a full run
                from ccaic.evaluate.stage import evaluate_plan

                evaluate_plan(plan, folder)
        except DiagnosticError as exc:
            result.diagnostics.extend(exc.diagnostics)
            return False
        for written in RUN_ARTIFACTS:  # the runner and evaluate write these themselves
            validate_file(root, f"plans/{plan.name}/{written}")
        result.runs[plan.name] = done
    result.stopped_after = run.until if step else "run"
    return True


_STAGE_FUNCTIONS: tuple[Stage, ...] = (_assemblies, _constitutions, _plans, _train)


def write_build_reports(root: Path, result: BuildResult) -> None:
    """The report stage: it reads the artifacts written so far, and the opinion maps (which
    no artifact holds) from the assembly stage's output; `ccaic watch` calls it after its
    state is committed (run_until(report=False)), so the timeline includes the poll."""
    from ccaic.report import ReportInputs, write_reports

    write_reports(root, ReportInputs.from_build_dir(root, opinion_maps=result.opinion_maps),
                  Writer(root, result))


def _empty_constitutions(specs: Sequence[ConstitutionSpec], constitutions: Sequence[Any]
                         ) -> list[Diagnostic]:
    """CCAI424 for a constitution without principles (training on it would teach nothing),
    naming what removed them."""
    by_name = {spec.name: spec for spec in specs}
    out = []
    for c in constitutions:
        if c.principles:
            continue
        spec = by_name[c.name]
        drops = spec.source.drops if spec.source is not None else ()
        why = (f"its `drop statements` rules dropped all {len(c.dropped)} selected statements"
               if c.dropped else "it renders no principle")
        out.append(error(
            "CCAI424", f"constitution `{c.name}` has no principles: {why}",
            drops[0].span if c.dropped and drops else spec.label_span,
            help="drop fewer statements, or add a `principle` block"))
    return out


def _missing_training_packages() -> list[str]:
    from importlib.util import find_spec

    return [name for name in ("torch", "transformers", "trl") if find_spec(name) is None]
