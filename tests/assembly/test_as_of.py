"""`--as-of TIME` (issue 18): a conversation rebuilt as it stood at a moment equals what a
Polis server showed at that moment, in ten time slices of real shared conversations."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ccaic.assembly.sources import SourceOptions, load_source, sync_source
from ccaic.assembly.sources.as_of import parse_time
from ccaic.diagnostics import DiagnosticError
from tests.assembly.fake_polis import (
    CSV_CONVERSATION,
    JSON_CONVERSATION,
    FakePolis,
    assert_same_table,
    conversation,
    export_copy,
    serving,
)
from tests.cli_runner import run_cli


def _slices(times: list[float], n: int = 10) -> list[float]:
    """n moments spread over the conversation's votes, the last one after every vote."""
    return [float(np.quantile(times, q, method="lower")) for q in np.linspace(0.05, 1, n)]


def _csv_times() -> list[float]:
    with (conversation(CSV_CONVERSATION) / "votes.csv").open() as f:
        return [float(r["timestamp"]) for r in csv.DictReader(f)]


def test_parse_time_reads_iso_and_polis_milliseconds() -> None:
    assert parse_time("1403054214196") == 1403054214196.0
    assert parse_time("2014-06-18T01:16:54.196Z") == 1403054214196.0
    assert parse_time("2014-06-18T08:16:54.196+07:00") == 1403054214196.0
    assert parse_time("2014-06-18") == parse_time("2014-06-18T00:00:00Z")
    with pytest.raises(DiagnosticError) as exc:
        parse_time("last tuesday")
    assert [d.code for d in exc.value.diagnostics] == ["CCAI468"]


def _json_times() -> list[float]:
    votes = json.loads((conversation(JSON_CONVERSATION) / "votes.json").read_text())
    return [float(v["modified"]) for v in votes]


@pytest.mark.parametrize(("folder", "kind", "ids", "times", "slices"), [
    (CSV_CONVERSATION, "polis-csv", {"report_id": "r1"}, _csv_times, 10),
    (JSON_CONVERSATION, "polis-json", {"conversation_id": "c1"}, _json_times, 4),
], ids=["report-export", "conversation-api"])
def test_as_of_equals_the_server_at_that_moment(
        tmp_path: Path, folder: Path, kind: str, ids: dict[str, str],
        times: Callable[[], list[float]], slices: int) -> None:
    """The export cut at each moment is what the fake server, cut there, served (the CSV
    conversation's comments.csv and votes.csv alone, as the report export serves them)."""
    export = export_copy(tmp_path) if kind == "polis-csv" else conversation(folder)
    fake = FakePolis(folder)
    with serving(fake):
        for n, when in enumerate(_slices(times(), slices)):
            fake.cutoff = when
            snap = tmp_path / f"snap{n}"
            sync_source("polis_api", snap, SourceOptions.from_attrs({"base_url": fake.url,
                                                                     **ids}))
            cut = load_source(kind, export, SourceOptions(as_of=when))
            assert_same_table(cut, load_source("polis-api", snap))
            dropped = cut.table.provenance.dropped.get("vote after --as-of", 0)
            assert dropped == sum(t > when for t in times())


def test_a_source_without_vote_times_cannot_be_cut(tmp_path: Path) -> None:
    folder = tmp_path / "pv"
    folder.mkdir()
    shutil.copy(conversation(CSV_CONVERSATION) / "participants-votes.csv", folder)
    with pytest.raises(DiagnosticError) as exc:
        load_source("polis-csv", folder, SourceOptions(as_of=1403100000000.0))
    assert [d.code for d in exc.value.diagnostics] == ["CCAI467"]


def test_a_moment_before_the_first_vote_is_ccai486(tmp_path: Path) -> None:
    """--as-of before every vote: CCAI486 naming the first vote's time (the build said
    'moderation removed every participant: loosen the participant rules', with no rule
    written); a moment in seconds is recognised, and the first vote's own moment keeps it."""
    export = export_copy(tmp_path)
    first = min(_csv_times())
    seconds = str(int(first) // 1000 + 1)
    code, _, err = run_cli(["analyze", str(export), "--as-of", seconds])
    assert code == 1 and "error[CCAI486]" in err, err
    assert f"before the first vote, at 2014-06-18T01:16:54.196Z ({int(first)})" in err
    assert f"{seconds} seconds is --as-of {seconds}000" in err
    code, _, err = run_cli(["analyze", str(export), "--as-of", "2000-01-01"])
    assert code == 1 and "help: give a moment from 2014-06-18T01:16:54.196Z on" in err
    code, out, err = run_cli(["analyze", str(export), "--as-of", "2014-06-18T01:16:54.196Z",
                              "--format", "json"])
    assert code == 0 and json.loads(out)["summary"]["votes"] == 1, err


def test_a_polis_api_download_is_checked_whole_whatever_the_moment(tmp_path: Path) -> None:
    """--as-of before the first vote on a polis_api source: the download's check used the
    moment too, so CCAI486 came out as CCAI465 "the server sent data ccaic cannot read" and
    the snapshot was refused; now the snapshot is kept and the build says CCAI486."""
    conversation(CSV_CONVERSATION)
    with serving(FakePolis(CSV_CONVERSATION)) as fake:
        opts = SourceOptions.from_attrs({"base_url": fake.url, "report_id": "r1",
                                         "as_of": 1.0})
        sync_source("polis_api", tmp_path / "snap", opts)
    assert (tmp_path / "snap" / "snapshot.json").is_file()
    with pytest.raises(DiagnosticError) as exc:
        load_source("polis-api", tmp_path / "snap", SourceOptions(as_of=1.0))
    assert [d.code for d in exc.value.diagnostics] == ["CCAI486"]


SPEC = """assembly "seattle" {
  source polis { path = "export" }
  consensus gac { top_k = 5 }
}
"""


def test_build_as_of_is_recorded_and_keys_the_cache(tmp_path: Path) -> None:
    export_copy(tmp_path)
    (tmp_path / "a.ccai").write_text(SPEC)
    times = _slices(_csv_times(), 3)
    built = {}
    for when in (times[0], times[1], None):
        out = tmp_path / f"out-{when}"
        flag = [] if when is None else ["--as-of", str(int(when))]
        code, _, err = run_cli(["build", str(tmp_path / "a.ccai"), "-o", str(out), "--until",
                                "assemblies", *flag])
        assert code == 0, err
        built[when] = json.loads((out / "assemblies" / "seattle.json").read_text())
    assert built[times[0]]["source"]["as_of"] == int(times[0])
    assert "as_of" not in built[None]["source"]
    votes = [built[w]["provenance"]["rows_used"] for w in (times[0], times[1], None)]
    assert votes[0] < votes[1] < votes[2]
    code, _, err = run_cli(["build", str(tmp_path / "a.ccai"), "-o", str(tmp_path / "x"),
                            "--as-of", "soon"])
    assert code == 1 and "error[CCAI468]" in err


def test_analyze_as_of(tmp_path: Path) -> None:
    export = export_copy(tmp_path)
    when = _slices(_csv_times(), 2)[0]
    code, out, err = run_cli(["analyze", str(export), "--as-of", str(int(when)), "--format",
                              "json"])
    assert code == 0, err
    cut = load_source("polis-csv", export, SourceOptions(as_of=when))
    assert json.loads(out)["summary"]["participants"] == cut.table.shape[0]
