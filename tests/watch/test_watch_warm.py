"""`ccaic watch` with `groups polis { warm_start = true }` (issue 18): each poll's groups start
from the last good poll's, and each history entry keeps the state it started from, so a fresh
folder given that state rebuilds the entry byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ccaic.canonical import canonical_sha256
from tests.assembly.fake_polis import FakePolis
from tests.cli_runner import run_cli
from tests.watch.replay import cutoffs, state, write_spec

COMPARED = ("assemblies/live.json", "constitutions/main.json")


def _groups(out: Path) -> dict:
    return dict(json.loads((out / "assemblies" / "live.json").read_text())["groups"])


def test_warm_watch_entries_rebuild_from_the_state_they_record(server: FakePolis,
                                                                tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "watched", warm=True)
    out = tmp_path / "watched" / "out"
    moments, watched, centers = {}, {}, []
    for moment in cutoffs():
        server.cutoff = moment
        code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once",
                                "--detailed-exitcode", "--var", f"server={server.url}"])
        assert code in (0, 2), err
        groups = _groups(out)
        assert groups["warm_from"] == (canonical_sha256(centers[-1]) if centers else None)
        centers.append(groups["base_centers"])
        if code == 2:
            n = state(out)["entries"]
            moments[n] = moment
            watched[n] = {name: (out / name).read_bytes() for name in COMPARED}
    assert len(moments) >= 3
    assert not (out / "history" / "1" / "warm").exists()  # the first poll starts cold
    for n, moment in moments.items():
        replay = write_spec(tmp_path / f"replay{n}", warm=True)
        kept = out / "history" / str(n) / "warm" / "live.json"
        if n > 1:
            (replay.parent / "out" / "assemblies").mkdir(parents=True)
            shutil.copy(kept, replay.parent / "out" / "assemblies" / "live.json")
        server.cutoff = moment
        code, _, err = run_cli(["build", str(replay), "-o", str(replay.parent / "out"),
                                "--until", "constitution", "--var", f"server={server.url}"])
        assert code == 0, err
        for name in COMPARED:
            assert (replay.parent / "out" / name).read_bytes() == watched[n][name], (n, name)


def test_a_poll_starts_from_the_last_good_poll_not_a_killed_ones_leftovers(
        server: FakePolis, tmp_path: Path) -> None:
    server.cutoff = cutoffs()[3]
    built = {}
    for case in ("untouched", "killed"):
        spec = write_spec(tmp_path / case, warm=True)
        out = spec.parent / "out"
        args = ["watch", str(spec), "-o", str(out), "--once", "--var", f"server={server.url}"]
        assert run_cli(args)[0] == 0
        if case == "killed":  # what a poll killed after its build, before its commit, leaves
            leftover = json.loads((out / "assemblies" / "live.json").read_text())
            leftover["groups"]["base_centers"] = [[0.0, 0.0]]
            (out / "assemblies" / "live.json").write_text(json.dumps(leftover))
        assert run_cli(args)[0] == 0
        built[case] = (out / "assemblies" / "live.json").read_bytes()
    assert built["killed"] == built["untouched"]
    assert _groups(tmp_path / "killed" / "out")["warm_from"] != canonical_sha256([[0.0, 0.0]])


def test_an_unchanged_conversation_keeps_warm_groups_where_they_were(server: FakePolis,
                                                                     tmp_path: Path) -> None:
    server.cutoff = cutoffs()[5]
    spec = write_spec(tmp_path, warm=True)
    build = ["build", str(spec), "--until", "constitution", "--var", f"server={server.url}"]
    for _ in range(2):  # a plain rebuild starts from its own groups: they move
        assert run_cli([*build, "-o", str(tmp_path / "built")])[0] == 0
    moved = _groups(tmp_path / "built")["warm_from"]
    assert moved is not None
    out = tmp_path / "out"
    args = ["watch", str(spec), "-o", str(out), "--once", "--detailed-exitcode",
            "--var", f"server={server.url}"]
    assert run_cli(args)[0] == 2
    first = {name: (out / name).read_bytes() for name in COMPARED}
    for _ in range(2):  # no new vote: the watch gives the same bytes back, no new point
        assert run_cli(args)[0] == 0
        assert {name: (out / name).read_bytes() for name in COMPARED} == first
    assert len(state(out)["timeline"]) == 1
    assert _groups(out)["warm_from"] is None  # still the first poll's cold start
