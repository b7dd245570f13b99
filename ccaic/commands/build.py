"""`ccaic build FILE -o DIR`: compile a .ccai file into artifacts."""

from __future__ import annotations

import argparse
import json
import os

from ccaic.canonical import canonical_json
from ccaic.commands.common import (
    add_offline,
    add_out,
    add_vars,
    not_a_folder,
    program_sources,
)
from ccaic.diagnostics import Diagnostic, DiagnosticError, SourceCache
from ccaic.output import Output


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ccaic.build import RUN_STEPS, STAGES

    p = sub.add_parser("build", help="build a .ccai file into artifacts",
                       description="Compile a .ccai file: load and analyze its assemblies, render "
                       "its constitutions, compile and run its training plans, evaluate, and "
                       "write the artifacts and reports (report.md/json/html) to the output "
                       "folder. Stages whose inputs did not change are reused.")
    p.add_argument("file", help="the .ccai file to build")
    add_out(p)
    add_vars(p)
    p.add_argument("--until", choices=(*STAGES, *RUN_STEPS), default=STAGES[-1],
                   metavar="STAGE",
                   help="stop after this stage: " + ", ".join(STAGES) + ", or a training step ("
                   + ", ".join(RUN_STEPS) + "); default: run everything")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json prints a build summary on stdout")
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 2 when an artifact changed, 0 when none did, 1 on error")
    p.add_argument("--as-of", metavar="TIME",
                   help="build the assemblies as they stood at TIME (ISO-8601 or a Polis "
                   "timestamp in ms): only votes and statements up to then")
    add_offline(p)
    p.set_defaults(run=run, outputs=lambda a: [a.out])  # a write error there is CCAI601


def run(args: argparse.Namespace, out: Output) -> int:
    from ccaic.artifacts import checked
    from ccaic.assembly.sources.as_of import moment, parse_time
    from ccaic.assembly.sources.polis_api import offline
    from ccaic.build import BuildResult, build
    from ccaic.train.dist import world

    if world().distributed and not world().is_main:
        out = Output(open(os.devnull, "w"), out.err)  # noqa: SIM115 (lives as long as the run)
    blocked = not_a_folder(args.out)
    try:
        when = parse_time(args.as_of) if args.as_of is not None else None
    except DiagnosticError as exc:
        out.diagnostics(exc.diagnostics, args.format)
        return 1
    with offline(args.offline), moment(when):
        result = BuildResult(diagnostics=[blocked]) if blocked is not None else \
            build(args.file, args.out, args.var, until=args.until)
    # a plan check runs at `check` and again when the plan compiles: say each thing once
    result.diagnostics = list({d.model_dump_json(): d for d in result.diagnostics}.values())
    sources = program_sources(result.programs)
    if args.format == "json":
        out.write(checked("build-result", canonical_json({
            "format_version": "1.0",
            "ok": result.ok,
            "stopped_after": result.stopped_after,
            "artifacts": [{"path": a.path, "sha256": a.sha256, "changed": a.changed}
                          for a in result.artifacts],
            "runs": {name: {"ran": run.ran, "steps": sorted(run.steps)}
                     for name, run in result.runs.items()},
            "diagnostics": json.loads(_diagnostics_json(result.diagnostics, sources)),
        }, ascii=True)))
    else:
        for line in result.notes:
            out.info(line)
        out.diagnostics(result.diagnostics, "text", sources, quiet_ok=True)
        for artifact in result.artifacts:
            mark = "~" if artifact.changed else " "
            out.info(f"{mark} {args.out}/{artifact.path}")
        for name, run in result.runs.items():
            ran, reused, off = run.count("ran"), run.count("cached"), run.count("off")
            out.info(f"{'~' if ran else ' '} {args.out}/plans/{name}/: {ran} training steps ran, "
                     f"{reused} reused" + (f", {off} off" if off else ""))
        if result.ok:
            n = sum(a.changed for a in result.artifacts)
            out.info(f"build ok (until {result.stopped_after}): {len(result.artifacts)} artifacts, "
                     f"{n} changed")
    if not result.ok:
        return 1
    if args.detailed_exitcode and result.changed and not world().distributed:
        # torchrun reads exit code 2 as a failed worker: under accelerate, changes exit 0
        return 2
    return 0


def _diagnostics_json(diagnostics: list[Diagnostic], sources: SourceCache) -> str:
    from ccaic.diagnostics import render_json

    return render_json(diagnostics, sources)
