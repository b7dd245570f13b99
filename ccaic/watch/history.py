"""history/<n>/: one entry per change of the constitution, written whole or not at all.

An entry holds the constitutions as built (constitutions/NAME.json and .md), summary.json
(every assembly's summary and the statements that entered or left its selection since the
previous entry), for a warm-started assembly the artifact its build started from
(warm/NAME.json: put it in a fresh folder's assemblies/ to rebuild the entry byte for byte),
and the diff against the previous entry (diff.md, diff.json: ccaic diff's own
comparison, with the TF-IDF matcher, which needs no model and gives the same pairs on every
machine). It is written in history/.entry-<n>/ and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ccaic.artifacts import checked
from ccaic.atomic import write_bytes_atomic, write_text_atomic
from ccaic.canonical import canonical_json
from ccaic.watch.state import HISTORY, entry_dir
from ccaic.watch.summary import Summary, selected

DIFF_MATCHER = "tfidf"


def crossings(then: dict[str, Summary], now: dict[str, Summary]) -> dict[str, dict[str, list[str]]]:
    """Per assembly, the statements that entered the selection and those that left it."""
    out = {}
    for name, summary in now.items():
        before = selected(then[name]) if name in then else []
        after = selected(summary)
        out[name] = {"entered": [i for i in after if i not in before],
                     "left": [i for i in before if i not in after]}
    return out


def read_entry(out_dir: Path, n: int) -> dict[str, Any]:
    return dict(json.loads((entry_dir(out_dir, n) / "summary.json").read_text(encoding="utf-8")))


def write_entry(out_dir: Path, n: int, when: str, assemblies: dict[str, Summary],
                constitutions: dict[str, bytes], warm: dict[str, bytes]) -> dict[str, Any]:
    """Write entry n from the build folder's constitutions and the summaries; its summary."""
    then = read_entry(out_dir, n - 1)["assemblies"] if n > 1 else {}
    summary = {"entry": n, "time": when, "assemblies": assemblies,
               "changes": crossings(then, assemblies), "constitutions": sorted(constitutions)}
    staging = out_dir / HISTORY / f".entry-{n}"
    shutil.rmtree(staging, ignore_errors=True)
    for name, body in constitutions.items():
        write_bytes_atomic(staging / "constitutions" / f"{name}.json", body)
        markdown = out_dir / "constitutions" / f"{name}.md"
        if markdown.is_file():
            write_bytes_atomic(staging / "constitutions" / f"{name}.md", markdown.read_bytes())
    for name, body in warm.items():
        write_bytes_atomic(staging / "warm" / f"{name}.json", body)
    diff_md, diff_json = _diffs(out_dir, n, constitutions)
    write_text_atomic(staging / "diff.md", diff_md)
    write_text_atomic(staging / "diff.json", checked("history-diff", diff_json))
    write_text_atomic(staging / "summary.json", checked("history-summary", canonical_json(summary)))
    os.replace(staging, entry_dir(out_dir, n))
    return summary


def _diffs(out_dir: Path, n: int, constitutions: dict[str, bytes]) -> tuple[str, str]:
    """diff.md and diff.json: each constitution against its copy in entry n-1 (ccaic diff's
    comparison); a constitution new in this entry is said to be new."""
    from ccaic.constitution.interchange import load_constitution_file
    from ccaic.diff.report import diff_constitutions, to_json, to_markdown

    sections, bodies = [f"# Entry {n}: the constitutions against entry {n - 1}\n"], {}
    for name in sorted(constitutions):
        before = entry_dir(out_dir, n - 1) / "constitutions" / f"{name}.json"
        if n == 1 or not before.is_file():
            sections.append(f"## {name}\n\nNew in this entry: no earlier version to compare.\n")
            continue
        a = load_constitution_file(before)
        b = load_constitution_file(out_dir / "constitutions" / f"{name}.json")
        result = diff_constitutions(a.model_copy(update={"name": f"{n - 1}:{name}"}),
                                    b.model_copy(update={"name": f"{n}:{name}"}), DIFF_MATCHER)
        sections.append(f"## {name}\n\n{to_markdown(result)}")
        bodies[name] = json.loads(to_json(result))
    return "\n".join(sections), canonical_json({"entry": n, "constitutions": bodies})
