"""A stop asked for from outside the run (a signal, at the CLI's edge): finish cleanly.

The CLI turns the first SIGINT or SIGTERM into ``request()`` and a second one into
``abandon()``. The client sends nothing new once a stop is requested, and waits for
the request in flight at most ``grace`` seconds (or until it is abandoned), so that
its answer can still be journalled. The core never installs handlers and never exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_GRACE = 5.0
"""Seconds the request in flight may take to answer after a stop: GitHub Actions sends
SIGTERM 7.5 s after SIGINT, and folding the journal must fit in what is left."""


class Stop:
    """Set once to stop sending; set twice to abandon the request in flight."""

    def __init__(
        self, *, grace: float = DEFAULT_GRACE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grace = grace
        self.reason: str | None = None
        self._clock = clock
        self._requested = threading.Event()
        self._abandoned = threading.Event()
        self._requested_at: float | None = None

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def abandoned(self) -> bool:
        return self._abandoned.is_set()

    def request(self, reason: str) -> None:
        """Send nothing new; let the request in flight answer within the grace."""
        if not self._requested.is_set():
            self.reason = reason
            self._requested_at = self._clock()
            self._requested.set()

    def abandon(self) -> None:
        """Stop waiting for the request in flight too."""
        self.request(self.reason or "stop")
        self._abandoned.set()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True (early) when a stop was requested."""
        return self._requested.wait(max(0.0, seconds))

    def wait_for(self, done: threading.Event, *, poll: float = 0.05) -> bool:
        """Wait for ``done``; False when the stop's grace ran out or it was abandoned first."""
        while not done.wait(poll):
            if self._abandoned.is_set():
                return False
            if self._requested_at is not None and self._clock() - self._requested_at >= self.grace:
                return False
        return True
