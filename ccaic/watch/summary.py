"""What a build folder says about each assembly, reduced to what the history compares.

A summary is plain JSON (it is stored in history/<n>/summary.json and in the timeline): per
assembly its participants, votes, groups, the selecting method and threshold, and every
statement's score, vote count and whether it was selected. The fingerprint hashes what a
history entry is about: the constitutions' bytes and each assembly's selection.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

Summary = dict[str, Any]


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _named(folder: Path, suffix: str) -> dict[str, Path]:
    """name -> file for every NAME<suffix> in a folder, sorted (never directory order)."""
    if not folder.is_dir():
        return {}
    return {p.name[: -len(suffix)]: p for p in sorted(folder.iterdir())
            if p.name.endswith(suffix) and p.is_file()}


def assembly_summary(artifact: dict[str, Any]) -> Summary:
    """One assemblies/NAME.json reduced to the numbers the changelog and timeline show."""
    consensus = artifact.get("consensus", {})
    method = str(consensus.get("score", "gac"))
    groups = artifact.get("groups") or {}
    statements = {}
    for row in artifact.get("statements", []):
        score = row.get(method)
        statements[str(row["id"])] = {
            "text": str(row.get("text") or "").strip(),
            "score": None if score is None else float(score),
            "votes": int(row.get("agrees", 0)) + int(row.get("disagrees", 0))
            + int(row.get("passes", 0)),
            "selected": bool(row.get("selected")),
            **({} if row.get("selected") or not row.get("reason")
               else {"reason": str(row["reason"])}),
        }
    return {
        "participants": int(artifact.get("participants", 0)),
        "votes": int(artifact.get("provenance", {}).get("rows_used", 0)),
        "statements_in": int(artifact.get("statements_in", 0)),
        "groups": {"k": groups.get("k"), "sizes": groups.get("sizes", {})},
        "method": method,
        "threshold": consensus.get("threshold"),
        "top_k": consensus.get("top_k"),
        "statements": statements,
    }


def selected(summary: Summary) -> list[str]:
    """The ids an assembly selected, in natural id order (a summary read back from JSON has
    its keys sorted as text)."""
    from ccaic.assembly.votes import natural_key

    return sorted((i for i, s in summary["statements"].items() if s["selected"]),
                  key=natural_key)


def cut(summary: Summary) -> float | None:
    """The score a statement had to reach: the threshold, or under top_k the lowest selected
    score (where the cut fell at this moment), with a threshold too once top_k is full (the
    k best are above it, and the k-th, not the threshold, is the bar)."""
    scores = [s["score"] for s in summary["statements"].values()
              if s["selected"] and s["score"] is not None]
    threshold, top_k = summary["threshold"], summary["top_k"]
    if threshold is not None and (top_k is None or len(scores) < top_k):
        return float(threshold)
    return min(scores) if scores else None


def read_build(out_dir: Path) -> tuple[dict[str, Summary], dict[str, bytes]]:
    """Every assembly's summary and every constitution's JSON bytes in a build folder."""
    assemblies = {name: assembly_summary(_read(path))
                  for name, path in _named(out_dir / "assemblies", ".json").items()}
    constitutions = {name: path.read_bytes()
                     for name, path in _named(out_dir / "constitutions", ".json").items()}
    return assemblies, constitutions


def fingerprint(assemblies: dict[str, Summary], constitutions: dict[str, bytes]) -> str:
    """What a history entry records: the constitutions and the selections (a new entry, and
    exit code 2, when it changes; new votes that move no statement across the cut do not)."""
    digest = hashlib.sha256()
    for name, body in sorted(constitutions.items()):
        digest.update(f"constitution {name}\n".encode() + hashlib.sha256(body).digest())
    for name, summary in sorted(assemblies.items()):
        digest.update(f"assembly {name}\n{','.join(selected(summary))}\n".encode())
    return digest.hexdigest()


def data_key(out_dir: Path) -> str:
    """The assembly artifacts' hash: a new timeline point when the data behind them moved."""
    digest = hashlib.sha256()
    for name, path in _named(out_dir / "assemblies", ".json").items():
        digest.update(name.encode() + b"\n" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
