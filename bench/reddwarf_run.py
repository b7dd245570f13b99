"""Run red-dwarf's Polis pipeline on a Polis CSV export folder (the peer side of
bench/analyze_vs_reddwarf.py). Runs in the separate red-dwarf venv (bench/_peers/venv).

Equivalent work to `ccaic analyze DIR --format json`: read comments.csv + votes.csv (or, for an
export without votes.csv, the cells of participants-votes.csv) the way
red-dwarf's CSV-export loader does (csv.DictReader -> pydantic Vote/Statement, keep the most
recent revote), moderation lists via `process_statements`, then `run_pipeline` (PCA,
sparsity-aware projection, Polis k-means with silhouette k, group-aware consensus, repness,
consensus), and write the group-aware consensus per statement as JSON to stdout.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from reddwarf.data_loader import Loader
from reddwarf.implementations.polis import run_pipeline
from reddwarf.models import Statement, Vote
from reddwarf.utils.statements import process_statements


def _wide_votes(folder: Path) -> list[dict[str, str]]:
    """participants-votes.csv as votes.csv rows: one per non-blank statement cell."""
    with open(folder / "participants-votes.csv", newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        first = header.index("n-disagree") + 1
        return [{"timestamp": "0", "comment-id": sid, "voter-id": row[0], "vote": cell}
                for row in rows for sid, cell in zip(header[first:], row[first:], strict=False)
                if cell.strip()]


def main() -> None:
    folder = Path(sys.argv[1])
    loader = Loader()
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        loader.comments_data = [Statement(**c).model_dump(mode="json")
                                for c in csv.DictReader(f)]
    if (folder / "votes.csv").is_file():
        with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
            loader.votes_data = [Vote(**v).model_dump(mode="json") for v in csv.DictReader(f)]
    else:  # an export with only the wide participants-votes.csv (the CCAI 2023 one)
        loader.votes_data = [Vote(**v).model_dump(mode="json") for v in _wide_votes(folder)]
    loader.filter_duplicate_votes(keep="recent")
    _, _, mod_out, meta = process_statements(statement_data=loader.comments_data)
    result = run_pipeline(votes=loader.votes_data, mod_out_statement_ids=mod_out,
                          meta_statement_ids=meta, random_state=0)
    out = {"gac": {str(k): v for k, v in result.group_aware_consensus["agree"].items()},
           "consensus": result.consensus, "repness": result.repness}
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
