"""Progress on stderr (rich bars with ETA and tokens/s) and the build log file."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


class Progress:
    """No-op progress; the base for RichProgress and for tests."""

    def start(self, stage: str, total: int, unit: str = "rows") -> None:
        pass

    def advance(self, n: int = 1, tokens: int = 0) -> None:
        pass

    def finish(self) -> None:
        pass

    def message(self, text: str) -> None:
        pass


class RichProgress(Progress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RP

        self.console = Console(stderr=True)
        self.bars = RP(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                       TimeRemainingColumn(), console=self.console, transient=False)
        self.task: Any = None
        self.tokens = 0
        self.t0 = 0.0

    def start(self, stage: str, total: int, unit: str = "rows") -> None:
        if not self.bars.live.is_started:
            self.bars.start()
        self.tokens = 0
        self.t0 = time.perf_counter()
        self.task = self.bars.add_task(stage, total=total, rate="")

    def advance(self, n: int = 1, tokens: int = 0) -> None:
        self.tokens += tokens
        dt = max(time.perf_counter() - self.t0, 1e-9)
        rate = f"{self.tokens / dt:,.0f} tok/s" if self.tokens else ""
        self.bars.update(self.task, advance=n, rate=rate)

    def finish(self) -> None:
        if self.task is not None:
            self.bars.stop_task(self.task)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def close(self) -> None:
        if self.bars.live.is_started:
            self.bars.stop()


def default_progress() -> Progress:
    if getattr(sys.stderr, "isatty", lambda: False)():
        try:
            return RichProgress()
        except Exception:  # pragma: no cover - rich missing or broken terminal
            return Progress()
    return Progress()


class BuildLog:
    """Appends timestamped lines to <out>/build.log (the log, unlike artifacts, has times)."""

    def __init__(self, path: Path, enabled: bool = True):
        self.path = path
        self.enabled = enabled  # False on every rank but 0, so lines are not written N times
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, text: str) -> None:
        if not self.enabled:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {text}\n")
