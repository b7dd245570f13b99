"""`ccaic watch` against a fake Polis server replaying a real shared conversation in 10 time
slices (issue 18): each watched rebuild is the from-scratch build of the same moment, the
history records exactly the statements that crossed the cut, and a failed poll changes
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import ccaic.assembly.sources.polis_api as polis_api
from tests.assembly.fake_polis import CSV_CONVERSATION, FakePolis, Faults, conversation, serving
from tests.cli_runner import run_cli
from tests.watch.replay import cutoffs, selected_ids, state, tree, write_spec

COMPARED = ("assemblies/live.json", "constitutions/main.json", "constitutions/main.md")


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polis_api, "BACKOFF", 0.0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture
def server() -> Iterator[FakePolis]:
    with serving(FakePolis(conversation(CSV_CONVERSATION))) as fake:
        yield fake


def _watch(spec: Path, out: Path, fake: FakePolis, *extra: str) -> tuple[int, str]:
    code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once",
                            "--detailed-exitcode", "--var", f"server={fake.url}", *extra])
    return code, err


def _fresh_build(folder: Path, fake: FakePolis) -> Path:
    """A from-scratch `ccaic build` of the moment the server is at: new folder, no snapshot."""
    spec = write_spec(folder)
    code, _, err = run_cli(["build", str(spec), "-o", str(folder / "out"), "--until",
                            "constitution", "--var", f"server={fake.url}"])
    assert code == 0, err
    return folder / "out"


def _as_of_build(spec: Path, out: Path, full: FakePolis, moment: float) -> Path:
    """`ccaic build --as-of T` of the whole conversation (a server showing every vote)."""
    code, _, err = run_cli(["build", str(spec), "-o", str(out), "--until", "constitution",
                            "--as-of", str(int(moment)), "--var", f"server={full.url}"])
    assert code == 0, err
    return out


def _without_the_cut(path: Path) -> dict[str, object]:
    """An assembly artifact less what records how it was cut: source.as_of, and the
    provenance counts (the rows after T were read, then dropped)."""
    body = json.loads(path.read_text(encoding="utf-8"))
    body["source"].pop("as_of", None)
    body.pop("provenance")
    return dict(body)


def _crossings(selections: list[list[str]]) -> list[tuple[list[str], list[str]]]:
    """(entered, left) at each slice whose selection differs from the last recorded one."""
    out, last = [], []
    for now in selections:
        if now != last:
            out.append(([i for i in now if i not in last], [i for i in last if i not in now]))
            last = now
    return out


def test_watched_rebuilds_are_the_fresh_builds_and_history_records_the_crossings(
        server: FakePolis, tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "watched")
    out = tmp_path / "watched" / "out"
    as_of_spec = write_spec(tmp_path / "as-of")
    selections, codes = [], []
    with serving(FakePolis(CSV_CONVERSATION)) as full:
        for i, moment in enumerate(cutoffs()):
            server.cutoff = moment
            code, err = _watch(spec, out, server)
            assert code in (0, 2), err
            codes.append(code)
            fresh = _fresh_build(tmp_path / f"fresh{i}", server)
            for name in COMPARED:  # byte for byte, the assembly artifact and the constitution
                assert (out / name).read_bytes() == (fresh / name).read_bytes(), (i, name)
            cut = _as_of_build(as_of_spec, tmp_path / f"as-of{i}", full, moment)
            for name in COMPARED[1:]:  # the constitution, from the whole export cut at T
                assert (out / name).read_bytes() == (cut / name).read_bytes(), (i, name)
            assert _without_the_cut(out / COMPARED[0]) == _without_the_cut(cut / COMPARED[0])
            selections.append(selected_ids(fresh))
    expected = _crossings(selections)
    assert len(expected) >= 3  # the replay moves the selection several times
    history = state(out)
    assert history["entries"] == len(expected) == codes.count(2)
    assert [c == 2 for c in codes] == [i == 0 or selections[i] != selections[i - 1]
                                        for i in range(len(selections))]
    changelog = (out / "HISTORY.md").read_text(encoding="utf-8")
    for n, (entered, left) in enumerate(expected, 1):
        entry = out / "history" / str(n)
        summary = json.loads((entry / "summary.json").read_text(encoding="utf-8"))
        assert summary["changes"]["live"] == {"entered": entered, "left": left}
        section = changelog.split(f"## Entry {n} (")[1].split("\n## Entry ")[0]
        listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("- `")]
        assert listed == entered + left
        assert (entry / "constitutions" / "main.json").is_file()
        assert (entry / "diff.md").is_file()
    assert len(history["timeline"]) == len(cutoffs())  # every slice brought new votes
    assert [p["assemblies"]["live"]["selected"] for p in history["timeline"]] == selections


def test_an_unchanged_conversation_is_no_change_and_rewrites_no_history(
        server: FakePolis, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    server.cutoff = cutoffs()[4]
    assert _watch(spec, tmp_path / "out", server)[0] == 2
    before = tree(tmp_path / "out" / "history")
    code, err = _watch(spec, tmp_path / "out", server)
    assert code == 0, err
    after = tree(tmp_path / "out" / "history")
    assert {k: v for k, v in after.items() if k != "watch.json"} == \
        {k: v for k, v in before.items() if k != "watch.json"}
    assert state(tmp_path / "out")["polls"] == 2


@pytest.mark.parametrize(("faults", "code"), [
    (Faults(status=500), "CCAI461"),
    (Faults(stall=3.0), "CCAI462"),
    (Faults(truncate=True), "CCAI463"),
])
def test_a_failed_poll_leaves_the_last_good_build_and_history(
        server: FakePolis, tmp_path: Path, faults: Faults, code: str) -> None:
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    server.cutoff = cutoffs()[2]
    assert _watch(spec, out, server)[0] == 2
    good, snapshot = tree(out), tree(tmp_path / "snap")
    server.cutoff, server.faults = cutoffs()[6], faults  # new votes, but the poll fails
    exit_code, err = _watch(spec, out, server)
    assert exit_code == 1
    assert f"error[{code}]" in err
    assert tree(out) == good
    assert tree(tmp_path / "snap") == snapshot
    server.faults = Faults()  # the server is back: the next poll picks the new votes up
    assert _watch(spec, out, server)[0] == 2
    assert state(out)["entries"] == 2


def test_on_change_runs_with_the_entry_and_only_on_change(server: FakePolis,
                                                          tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    log = tmp_path / "log.txt"
    hook = ["--on-change", f'echo "$CCAIC_WATCH_ENTRY" >> {log}']
    server.cutoff = cutoffs()[3]
    assert _watch(spec, tmp_path / "out", server, *hook)[0] == 2
    assert _watch(spec, tmp_path / "out", server, *hook)[0] == 0
    assert log.read_text().splitlines() == [str(tmp_path / "out" / "history" / "1")]
    server.cutoff = cutoffs()[9]
    code, err = _watch(spec, tmp_path / "out", server, "--on-change", "exit 3")
    assert code == 1 and "error[CCAI606]" in err and "exit code 3" in err
    assert state(tmp_path / "out")["entries"] == 2  # the entry is recorded all the same


def test_on_change_gets_the_entry_as_an_absolute_path(
        server: FakePolis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a relative -o the entry was `out/history/1`, wrong once the command left the
    folder watch ran in."""
    spec = write_spec(tmp_path)
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "log.txt"
    hook = f'cd / && test -f "$CCAIC_WATCH_ENTRY/summary.json" && echo "$CCAIC_WATCH_ENTRY" ' \
        f">> {log}"
    server.cutoff = cutoffs()[3]
    code, err = _watch(spec, Path("out"), server, "--on-change", hook)
    assert code == 2, err
    assert log.read_text().splitlines() == [str(tmp_path.resolve() / "out" / "history" / "1")]


@pytest.mark.parametrize("every", ["10", "0s", "5 minutes", "-1m"])
def test_every_needs_a_duration(tmp_path: Path, every: str) -> None:
    spec = write_spec(tmp_path)
    code, _, err = run_cli(["watch", str(spec), "-o", str(tmp_path / "out"), f"--every={every}"])
    assert code == 1 and "error[CCAI604]" in err
    assert not (tmp_path / "out").exists()


def test_one_poll_at_a_time_in_a_folder(server: FakePolis, tmp_path: Path) -> None:
    import fcntl

    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    server.cutoff = cutoffs()[1]
    assert _watch(spec, out, server)[0] == 2
    before = tree(out)
    server.cutoff = cutoffs()[8]
    with (out / "history" / ".lock").open("a") as held:  # another watch is polling
        fcntl.flock(held, fcntl.LOCK_EX)
        code, err = _watch(spec, out, server)
    assert code == 1 and "error[CCAI607]" in err
    assert tree(out) == before
    assert _watch(spec, out, server)[0] == 2  # the lock is gone with its holder
