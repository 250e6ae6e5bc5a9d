"""Pacing by Kayse's rate-limit headers: never send what the budget refuses, wait out a reset.

The headers come from a server, so they are parsed defensively: a value that is not a
plain number of seconds, an epoch time or an HTTP date is ignored; huge values are capped;
every wait is bounded by ``--max-wait``; and reading them never raises, so an answer that
carried IDs is never lost to its headers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from kayse_pipeline.api.stop import Stop
from kayse_pipeline.errors import BudgetExhaustedError, StopRequested

DEFAULT_MAX_WAIT = 3600.0  # a full window of Kayse's documented 500 requests per hour
# Kayse's reset is whole epoch seconds of its own clock: wait a little past it.
RESET_MARGIN = 1.0
# A server that answers 429 this many times in a row is not pacing us.
MAX_CONSECUTIVE_429 = 30
# The shortest wait after a 429, whatever Retry-After says (0 or negative included).
MIN_429_WAIT = 1.0
# A 429 that says nothing usable about when to come back waits this long.
DEFAULT_429_WAIT = 60.0
# X-RateLimit-Reset below this is seconds remaining, above it an epoch time (2001-09-09):
# the docs' example is an epoch, their wording reads as seconds remaining; both are met.
RESET_EPOCH_FROM = 1_000_000_000
# Numbers past this are capped: far beyond any wait or budget, and safe for dates and ints.
HUGE = 10**12
# A resume time further away than this is not shown as a date.
SHOWN_RESUME_WITHIN = 366 * 86400.0
_NUMBER = re.compile(r"\s*(\d+)(?:\.(\d+))?\s*")

WaitCallback = Callable[[float, float], None]
"""Called about once a second while waiting: (seconds left, total seconds of this wait)."""


def header_number(value: str | None) -> float | None:
    """A header's non-negative decimal number, capped at ``HUGE``; None when it is not one.

    ``inf``, ``nan``, ``-5``, ``1e400`` and ``0x10`` are not numbers a server should send.
    """
    if value is None:
        return None
    match = _NUMBER.fullmatch(value)
    if match is None:
        return None
    whole = match[1].lstrip("0") or "0"
    if len(whole) > len(str(HUGE)):
        return float(HUGE)
    number = int(whole) + (float(f"0.{match[2][:9]}") if match[2] else 0.0)
    return min(number, float(HUGE))


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: a number of seconds or an HTTP date."""
    seconds = header_number(value)
    if seconds is not None or value is None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def reset_epoch(value: str | None, now: float) -> float | None:
    """``X-RateLimit-Reset`` as an epoch time: an epoch as sent, or seconds remaining."""
    number = header_number(value)
    if number is None:
        return None
    return number if number >= RESET_EPOCH_FROM else now + number


def resume_text(epoch: float, now: float) -> str:
    """When to run again, as date, time and zone; never raises for an absurd time."""
    if not math.isfinite(epoch) or epoch - now > SHOWN_RESUME_WITHIN:
        return "a time Kayse did not give in a usable form (it asks to wait more than a year)"
    try:
        moment = datetime.fromtimestamp(epoch, tz=UTC).astimezone()
    except (OverflowError, OSError, ValueError):
        return "a time Kayse did not give in a usable form"
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


class Pacer:
    """Tracks X-RateLimit-Remaining / -Reset and Retry-After, and sleeps when it must."""

    def __init__(
        self,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: WaitCallback | None = None,
        stop: Stop | None = None,
    ) -> None:
        self.stop = stop
        self.max_wait = max_wait
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None
        self.waited_seconds = 0.0
        self.rejections = 0
        self._consecutive_429 = 0
        self._waited_in_a_row = 0.0  # seconds waited for the 429s of the current run of them
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
        """Read the budget from an answer that was not a 429 (never raises)."""
        self._consecutive_429 = 0
        self._waited_in_a_row = 0.0
        self._read_budget(headers)

    def after_429(self, headers: Mapping[str, str]) -> None:
        """Wait as long as a 429 asks (Retry-After, else the reset, else a minute), bounded."""
        self.rejections += 1
        self._consecutive_429 += 1
        self._read_budget(headers)
        now = self._clock()
        if self._consecutive_429 > MAX_CONSECUTIVE_429:
            raise BudgetExhaustedError(
                f"Kayse refused {MAX_CONSECUTIVE_429} requests in a row (429); another client "
                "may be spending this key's budget. Everything done so far is saved: run again "
                f"after {resume_text(now + DEFAULT_429_WAIT, now)}",
                reset_at=now + DEFAULT_429_WAIT,
            )
        retry_after = retry_after_seconds(headers.get("Retry-After"), now)
        if retry_after is not None:
            wait = retry_after
        elif self.reset_at is not None:
            wait = self.reset_at + RESET_MARGIN - now
        else:
            wait = DEFAULT_429_WAIT
        self.remaining = None
        wait = max(wait, MIN_429_WAIT)
        if wait <= self.max_wait < self._waited_in_a_row + wait:
            raise BudgetExhaustedError(
                f"Kayse answered 429 Too Many Requests {self._consecutive_429} times in a row; "
                f"waiting once more would make {math.ceil(self._waited_in_a_row + wait)} s, more "
                f"than --max-wait ({self.max_wait:g} s) in all. Everything done so far is saved: "
                f"run again after {resume_text(now + wait, now)}",
                reset_at=now + wait,
            )
        self._wait(wait, "Kayse answered 429 Too Many Requests")
        self._waited_in_a_row += wait

    def seconds_until_reset(self) -> float | None:
        if self.reset_at is None:
            return None
        return max(0.0, self.reset_at - self._clock())

    def _read_budget(self, headers: Mapping[str, str]) -> None:
        limit = header_number(headers.get("X-RateLimit-Limit"))
        if limit is not None:
            self.limit = int(limit)
        remaining = header_number(headers.get("X-RateLimit-Remaining"))
        self.remaining = int(remaining) if remaining is not None else None
        self.reset_at = reset_epoch(headers.get("X-RateLimit-Reset"), self._clock())

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > self.max_wait:
            self._stop(seconds, why)
        deadline = self._clock() + seconds
        while (left := deadline - self._clock()) > 0:
            if self.on_wait is not None:
                self.on_wait(left, seconds)
            if self.stop is None:
                self._sleep(min(1.0, left))
            elif self.stop.sleep(min(1.0, left)):
                # Nothing was sent for the request that waited: it is not in doubt.
                raise StopRequested(
                    f"{self.stop.reason} received while waiting ({why}); nothing was sent"
                )
        self.waited_seconds += seconds

    def _stop(self, seconds: float, why: str) -> None:
        now = self._clock()
        raise BudgetExhaustedError(
            f"{why}; the budget resets in {_seconds(seconds)}, more than --max-wait "
            f"({self.max_wait:g} s). Everything done so far is saved: run again after "
            f"{resume_text(now + seconds, now)}",
            reset_at=now + min(seconds, float(HUGE)),
        )


def _seconds(seconds: float) -> str:
    if seconds > SHOWN_RESUME_WITHIN:
        return "more than a year"
    return f"{math.ceil(seconds)} s"
