"""Pacing by Kayse's rate-limit headers: never send what the budget refuses, wait out a reset."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from kayse_pipeline.errors import BudgetExhaustedError

DEFAULT_MAX_WAIT = 3600.0  # a full window of Kayse's documented 500 requests per hour
# Kayse's reset is whole epoch seconds of its own clock: wait a little past it.
RESET_MARGIN = 1.0
# A server that answers 429 this many times in a row without a usable reset is not pacing us.
MAX_CONSECUTIVE_429 = 30

WaitCallback = Callable[[float, float], None]
"""Called about once a second while waiting: (seconds left, total seconds of this wait)."""


class Pacer:
    """Tracks X-RateLimit-Remaining / -Reset and Retry-After, and sleeps when it must."""

    def __init__(
        self,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self.max_wait = max_wait
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.waited_seconds = 0.0
        self.rejections = 0
        self._consecutive_429 = 0
        self._clock = clock
        self._sleep = sleep
        self.on_wait = on_wait

    def before_request(self) -> None:
        """Wait for the reset if the last answer said the budget is spent."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return
        wait = self.reset_at + RESET_MARGIN - self._clock()
        if wait > 0:
            self._wait(wait, "the rate-limit budget is spent")
        self.remaining = None  # unknown until the next answer tells

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the budget from an answer that was not a 429."""
        self._consecutive_429 = 0
        self.limit = _int(headers.get("X-RateLimit-Limit"), self.limit)
        self.remaining = _int(headers.get("X-RateLimit-Remaining"), None)
        reset = _int(headers.get("X-RateLimit-Reset"), None)
        self.reset_at = float(reset) if reset is not None else None

    def after_429(self, headers: Mapping[str, str]) -> None:
        """Wait as long as a 429 asks (Retry-After, else the reset, else a minute)."""
        self.rejections += 1
        self._consecutive_429 += 1
        if self._consecutive_429 > MAX_CONSECUTIVE_429:
            raise BudgetExhaustedError(
                f"Kayse refused {MAX_CONSECUTIVE_429} requests in a row (429); "
                "another client may be spending this key's budget",
                reset_at=self._clock() + 60,
            )
        retry_after = _int(headers.get("Retry-After"), None)
        reset = _int(headers.get("X-RateLimit-Reset"), None)
        if retry_after is not None:
            wait = float(retry_after)
        elif reset is not None:
            wait = reset + RESET_MARGIN - self._clock()
        else:
            wait = 60.0
        self.remaining = None
        self._wait(max(wait, 1.0), "Kayse answered 429 Too Many Requests")

    def seconds_until_reset(self) -> float | None:
        if self.reset_at is None:
            return None
        return max(0.0, self.reset_at - self._clock())

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > self.max_wait:
            resume = self._clock() + seconds
            stamp = time.strftime("%H:%M:%S", time.localtime(resume))
            raise BudgetExhaustedError(
                f"{why}; the budget resets in {math.ceil(seconds)} s, more than --max-wait "
                f"({self.max_wait:g} s). Everything done so far is saved: run again after {stamp}",
                reset_at=resume,
            )
        deadline = self._clock() + seconds
        while (left := deadline - self._clock()) > 0:
            if self.on_wait is not None:
                self.on_wait(left, seconds)
            self._sleep(min(1.0, left))
        self.waited_seconds += seconds


def _int(value: str | None, fallback: int | None) -> int | None:
    if value is None:
        return fallback
    try:
        return int(float(value))
    except ValueError:
        return fallback
