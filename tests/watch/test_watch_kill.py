"""`kill -9` during `ccaic watch` loses nothing (issue 18): a watch loop in a subprocess is
killed at a random moment of every slice of the replay, the next poll resumes, and the history
comes out as an uninterrupted watch's, byte for byte."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.assembly.fake_polis import CSV_CONVERSATION, FakePolis, conversation, serving
from tests.cli_runner import run_cli
from tests.watch.replay import cutoffs, state, tree, write_spec

REPO = Path(__file__).resolve().parents[2]


def _once(spec: Path, out: Path, url: str) -> int:
    code, _, err = run_cli(["watch", str(spec), "-o", str(out), "--once",
                            "--var", f"server={url}"])
    assert code == 0, err
    return code


def _complete(out: Path) -> None:
    """What a killed watch leaves: every committed entry whole (later ones are redone)."""
    if not (out / "history" / "watch.json").exists():
        return
    for n in range(1, state(out)["entries"] + 1):
        entry = out / "history" / str(n)
        for name in ("summary.json", "diff.md", "diff.json", "constitutions/main.json"):
            assert (entry / name).is_file(), (n, name)


def _history(out: Path) -> dict[str, bytes]:
    """The history folder less watch.json (its poll count differs: the killed watch polled
    more often), the base folder under one name (it is numbered by poll)."""
    files = tree(out / "history")
    return {re.sub(r"^\.base-\d+/", ".base/", k): v for k, v in files.items()
            if k != "watch.json"}


def _timeline(out: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.items() if k != "poll"} for p in state(out)["timeline"]]


@pytest.mark.slow
@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm_start"])
def test_kill_9_during_a_watch_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             warm: bool) -> None:
    """With warm_start too: the resumed poll starts from the last good poll's groups, not
    from what the killed one left in assemblies/."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(18)
    with serving(FakePolis(conversation(CSV_CONVERSATION))) as server:
        spec = write_spec(tmp_path / "killed", warm)
        reference = write_spec(tmp_path / "reference", warm)
        out, ref_out = spec.parent / "out", reference.parent / "out"
        for moment in cutoffs():
            server.cutoff = moment
            _once(reference, ref_out, server.url)
            watch = subprocess.Popen(
                [sys.executable, "-m", "ccaic", "watch", str(spec), "-o", str(out),
                 "--every", "0.05s", "--var", f"server={server.url}"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 4.0))
            watch.send_signal(signal.SIGKILL)
            watch.wait()
            _complete(out)
            _once(spec, out, server.url)  # the next poll resumes
    assert _history(out) == _history(ref_out)
    assert (out / "HISTORY.md").read_bytes() == (ref_out / "HISTORY.md").read_bytes()
    assert _timeline(out) == _timeline(ref_out)
    assert state(out)["entries"] == state(ref_out)["entries"] >= 3
