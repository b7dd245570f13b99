"""Build reports: report.json (canonical numbers), report.md and a self-contained report.html.

No torch or numpy at import time: the report reads the artifacts a build already wrote.
"""

from ccaic.report.inputs import ReportInputs, TrainingRun
from ccaic.report.model import REPORT_FORMAT_VERSION, build_report
from ccaic.report.projections import OpinionMap, opinion_map
from ccaic.report.write import render_reports, write_reports

__all__ = ["REPORT_FORMAT_VERSION", "OpinionMap", "ReportInputs", "TrainingRun",
           "build_report", "opinion_map", "render_reports", "write_reports"]
