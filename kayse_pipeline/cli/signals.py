"""SIGINT and SIGTERM during a run: stop like Terraform, keeping every ID Kayse returned.

The first signal stops new requests and gives the one in flight a short grace; a second
one abandons it. Either way the run ends normally: the journal is folded into the state
file, the result is printed, and the command exits 130 (SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType

from kayse_pipeline.api.stop import Stop

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def graceful_stop() -> Iterator[Stop]:
    """Handlers that turn SIGINT / SIGTERM into a ``Stop`` for the run; restored on exit."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # handlers can only be installed in the main thread
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not stop.requested:
            stop.request(name)
            _say(
                f"{name}: stopping; no new request is sent, the one in flight gets "
                f"{stop.grace:g} s to answer (send {name} again to stop waiting)\n"
            )
        elif not stop.abandoned:
            stop.abandon()
            _say(f"{name}: not waiting for the request in flight; saving the state\n")

    previous = {sig: signal.signal(sig, handle) for sig in SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def default_interrupts() -> Iterator[None]:
    """Ctrl-C behaves as usual (a prompt must be left with it) while this is entered."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code(stop: Stop) -> int | None:
    """130 after SIGINT, 143 after SIGTERM (128 + the signal's number), None without a stop."""
    if not stop.requested or stop.reason is None:
        return None
    return 128 + int(signal.Signals[stop.reason])


def _say(text: str) -> None:
    # A handler may run while the main thread is inside a buffered write to stderr:
    # os.write does not touch that buffer, so it cannot raise a reentrant-call error.
    with contextlib.suppress(OSError):
        os.write(2, text.encode())


def stopped_summary(stop: Stop, actions: Iterable[str], state: Path) -> str:
    """What a stopped run did and what it left for the next one (from each record's action)."""
    counts = Counter(actions)
    left = counts.get("skipped", 0)
    unknown = counts.get("unknown", 0)
    done = counts.total() - left - unknown - counts.get("failed", 0)
    return (
        f"stopped by {stop.reason}: {done} record(s) done, {left} left for the next run, "
        f"{unknown} unknown; every ID Kayse returned is saved in {state}"
    )
