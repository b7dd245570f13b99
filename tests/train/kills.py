"""Killing a run with SIGKILL the moment a file appears (for the resume tests)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

RUNNER = """
import sys
from ccaic.build import run_until
from ccaic.train.runner import run_plan
run_plan(run_until("plan", sys.argv[1], None, data=False).plans[0], sys.argv[2])
"""


def run_plan_argv(src: Path, out: Path) -> list[str]:
    """A process that runs the plan in src into out (no build, no report)."""
    return [sys.executable, "-c", RUNNER, str(src), str(out)]


def build_argv(src: Path, out: Path) -> list[str]:
    """`ccaic build src -o out` as a process."""
    return [sys.executable, "-m", "ccaic", "build", str(src), "-o", str(out)]


def kill_when(argv: Sequence[str], watch: Path, pattern: str, timeout: float = 120) -> None:
    """Start argv, SIGKILL it as soon as `watch.glob(pattern)` finds something (polled every
    10 ms); fail when the process ends first or the file never appears."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(list(argv), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if list(watch.glob(pattern)):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return
            if proc.poll() is not None:
                pytest.fail(f"the run finished before {pattern} appeared")
            time.sleep(0.01)
        pytest.fail(f"{pattern} never appeared")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def resumed_batches(log: str, stage: str) -> int:
    """How many batches the log says a stage kept from an interrupted run (the kill lands
    some time after the batch file it waits for, so more may have finished)."""
    found = re.findall(rf"{stage}: resumed, (\d+) batch\(es\) kept", log)
    assert found, f"{stage} did not resume"
    return int(found[-1])
