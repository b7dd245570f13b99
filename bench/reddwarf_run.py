"""Run red-dwarf's Polis pipeline on a Polis CSV export folder (the peer side of
bench/analyze_vs_reddwarf.py). Runs in the separate red-dwarf venv (bench/_peers/venv).

Equivalent work to `ccaic analyze DIR --format json`: read comments.csv + votes.csv the way
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


def main() -> None:
    folder = Path(sys.argv[1])
    loader = Loader()
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        loader.comments_data = [Statement(**c).model_dump(mode="json")
                                for c in csv.DictReader(f)]
    with open(folder / "votes.csv", newline="", encoding="utf-8") as f:
        loader.votes_data = [Vote(**v).model_dump(mode="json") for v in csv.DictReader(f)]
    loader.filter_duplicate_votes(keep="recent")
    _, _, mod_out, meta = process_statements(statement_data=loader.comments_data)
    result = run_pipeline(votes=loader.votes_data, mod_out_statement_ids=mod_out,
                          meta_statement_ids=meta, random_state=0)
    out = {"gac": {str(k): v for k, v in result.group_aware_consensus["agree"].items()},
           "consensus": result.consensus, "repness": result.repness}
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
