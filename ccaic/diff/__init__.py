"""`ccaic diff`: how two constitutions differ, principle by principle, matched by meaning.

load (what each argument names) -> match (similarity + optimal assignment) -> report (entries,
summary, framing, themes; text, JSON and markdown renderings).
"""

from ccaic.diff.report import DiffResult, diff_constitutions

__all__ = ["DiffResult", "diff_constitutions"]
