"""The artifact registry: every JSON artifact ccaic publishes, the pydantic model that types
it, the paths (relative to a build folder) where a build writes it, and (ast, plan) the
function that prints the schema it has always published. `ccaic schema NAME` lists these."""

from __future__ import annotations

from pydantic import BaseModel

from ccaic.registry import Entry, Registry

ARTIFACTS: Registry[type[BaseModel]] = Registry("artifact", [
    Entry("ast", "ccaic.syntax.ast:File", "The abstract syntax tree of a .ccai file.",
          meta={"schema": "ccaic.syntax.ast:json_schema"}),
    Entry("plan", "ccaic.plan.model:TrainingPlan", "A compiled training plan.",
          meta={"schema": "ccaic.plan.model:plan_json_schema",
                "paths": ("plans/*/plan.json", "plans/*/final/plan.json")}),
    Entry("constitution", "ccaic.constitution.model:Constitution",
          "A built constitution: its principles and where each came from.",
          meta={"paths": ("constitutions/*.json",)}),
    Entry("assembly", "ccaic.artifacts.assembly:AssemblyArtifact",
          "An analyzed assembly: moderation, opinion groups, statement scores, the selection, "
          "its stability and Polis's report blocks.",
          meta={"paths": ("assemblies/*.json",)}),
    Entry("run", "ccaic.artifacts.run:RunArtifact",
          "A training run: each step's stage folder and counts.",
          meta={"paths": ("plans/*/run.json",)}),
    Entry("final-source", "ccaic.artifacts.final:FinalSourceArtifact",
          "A delivered model's origin: the stage folder and step final/ was copied from.",
          meta={"paths": ("plans/*/final/source.json",), "version": "1.0"}),
    Entry("bbq", "ccaic.artifacts.evaluation:BbqStageArtifact",
          "A plan's BBQ evaluation: one body per model scored (base, final).",
          meta={"paths": ("plans/*/eval/bbq.json",)}),
    Entry("bbq-result", "ccaic.artifacts.evaluation:BbqBody",
          "`ccaic evaluate bbq --format json`: one model's BBQ scores.", meta={"version": "1.0"}),
    Entry("hhh", "ccaic.artifacts.evaluation:HhhStageArtifact",
          "A plan's HHH judge-accuracy evaluation of its feedback model.",
          meta={"paths": ("plans/*/eval/hhh.json",)}),
    Entry("report", "ccaic.artifacts.report:ReportArtifact",
          "The build report's numbers (report.md and report.html render the same).",
          meta={"paths": ("report.json",)}),
    Entry("diagnostics", "ccaic.artifacts.diagnostics:DiagnosticsArtifact",
          "`--format json` diagnostics: validity, counts, and each error and warning."),
    Entry("build-result", "ccaic.artifacts.build:BuildResultArtifact",
          "`ccaic build --format json`: the files a build wrote, its runs and diagnostics."),
    Entry("principles-lock", "ccaic.artifacts.drafting:PrinciplesLockArtifact",
          "principles.lock.json beside a .ccai file: each principle's draft and its review, and "
          "the topic names."),
    Entry("polis-snapshot", "ccaic.artifacts.sources:PolisSnapshotArtifact",
          "The polis_api source's snapshot: the files last downloaded and their sha256.",
          meta={"paths": ("sources/*/polis_api/snapshot.json",)}),
    Entry("diff", "ccaic.artifacts.diff:DiffArtifact",
          "`ccaic diff --format json`: two constitutions' principles paired by meaning."),
    Entry("analyze", "ccaic.artifacts.analyze:AnalyzeArtifact",
          "`ccaic analyze --format json`: one vote source's groups, scores and Polis blocks."),
    Entry("watch-state", "ccaic.artifacts.watch:WatchStateArtifact",
          "`ccaic watch`'s last good poll and its timeline.",
          meta={"paths": ("history/watch.json",)}),
    Entry("history-summary", "ccaic.artifacts.watch:HistorySummaryArtifact",
          "A watch history entry's assemblies and the statements that crossed the selection.",
          meta={"paths": ("history/*/summary.json",), "version": "1.0"}),
    Entry("history-diff", "ccaic.artifacts.watch:HistoryDiffArtifact",
          "A watch history entry's constitutions against the previous entry's (ccaic diff).",
          meta={"paths": ("history/*/diff.json",), "version": "1.0"}),
])
