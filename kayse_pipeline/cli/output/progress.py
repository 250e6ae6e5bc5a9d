"""Progress on stderr: a bar on a terminal, a line per step and every so often on a CI log."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from kayse_pipeline.run.outcome import ApplyAction, Outcome
from kayse_pipeline.safe_text import safe_text


class ProgressDisplay:
    """A bar on a terminal; on a CI log a line per step and one every ``every`` seconds."""

    def __init__(
        self,
        *,
        stream: TextIO = sys.stderr,
        tty: bool | None = None,
        every: float = 10.0,
    ) -> None:
        self.total = 0
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every
        self.done_count = 0
        self.requests = 0
        self.budget: str = "?"
        self._last = time.monotonic()

    def begin(self, total: int) -> None:
        self.total = total

    def step(self, description: str, count: int) -> None:
        self._clear()
        self.stream.write(f"-> {safe_text(description)}\n")
        self.stream.flush()

    def done(self, outcome: Outcome[ApplyAction]) -> None:
        pass

    def progress(self, records_done: int, requests: int, budget_left: int | None) -> None:
        self.done_count, self.requests = records_done, requests
        self.budget = "?" if budget_left is None else str(budget_left)
        now = time.monotonic()
        if self.tty:
            self._bar("")
        elif now - self._last >= self.every:
            self._last = now
            self.stream.write(
                f"progress: {records_done}/{self.total} records, {requests} requests, "
                f"budget left {self.budget}\n"
            )
            self.stream.flush()

    def waiting(self, left: float, total: float) -> None:
        if self.tty:
            self._bar(f" waiting {math.ceil(left)} s for the rate-limit reset")
        elif total - left < 1 or math.ceil(left) % 60 == 0:
            self.stream.write(f"waiting {math.ceil(left)} s for the rate-limit reset\n")
            self.stream.flush()

    def finish(self) -> None:
        self._clear()

    def _bar(self, suffix: str) -> None:
        width = 30
        filled = width * self.done_count // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(
            f"\r[{bar}] {self.done_count}/{self.total} records, "
            f"{self.requests} requests, budget left {self.budget}{suffix}\x1b[K"
        )
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")


@contextmanager
def progress_bar(output: str) -> Iterator[ProgressDisplay]:
    """Progress for a run; the bar is cleared however the run ends (JSON output: no bar)."""
    progress = ProgressDisplay(tty=sys.stderr.isatty() and output != "json")
    try:
        yield progress
    finally:
        progress.finish()
