"""The rate limit: a fixed window per key, counted in the sandbox's database."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.sandbox.store import Store

ResetStyle = Literal["epoch", "seconds"]
RESET_STYLES: tuple[ResetStyle, ...] = ("epoch", "seconds")


@dataclass(frozen=True)
class RateLimit:
    """A budget of ``limit`` requests per ``window`` seconds; ``limit`` None means no limit.

    ``reset_style`` is how ``X-RateLimit-Reset`` reads: the window's end as epoch seconds
    (the docs' example), or the seconds remaining until it (the docs' wording).
    """

    limit: int | None = 500
    window: float = 3600.0
    reset_style: ResetStyle = "epoch"

    @classmethod
    def parse(cls, spec: str) -> RateLimit:
        """``N/SECONDS`` (``20/5`` = 20 requests per 5 s) or ``off``."""
        text = spec.strip().lower()
        if text == "off":
            return cls(None)
        match = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)", text)
        if match is None or int(match[1]) < 1 or float(match[2]) <= 0:
            raise SandboxError(
                "rate limit must be N/SECONDS with N >= 1 and SECONDS > 0 (e.g. 500/3600), or off"
            )
        return cls(int(match[1]), float(match[2]))

    def __str__(self) -> str:
        return "off" if self.limit is None else f"{self.limit}/{self.window:g}"


@dataclass(frozen=True)
class RateState:
    """Where a key stands in its window, as the ``X-RateLimit-*`` headers tell it."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # absolute epoch seconds, like the docs' example
    retry_after: int
    reset_style: ResetStyle = "epoch"

    def headers(self) -> dict[str, str]:
        """The headers every answer carries."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(
                self.reset if self.reset_style == "epoch" else self.retry_after
            ),
        }


class RateLimiter:
    """Counts requests per bucket; must be called inside the store's transaction."""

    def __init__(self, store: Store, rate: RateLimit, clock: Callable[[], float]) -> None:
        self.store = store
        self.rate = rate
        self.clock = clock

    def take(self, bucket: str) -> RateState | None:
        """Count one request if the budget allows it; None when there is no limit."""
        return self._state(bucket, count=True)

    def peek(self, bucket: str) -> RateState | None:
        """The bucket's state without counting anything."""
        return self._state(bucket, count=False)

    def _state(self, bucket: str, *, count: bool) -> RateState | None:
        limit = self.rate.limit
        if limit is None:
            return None
        now = self.clock()
        saved = self.store.rate_window(bucket)
        started, used = saved if saved else (now, 0)
        if now >= started + self.rate.window:  # the window is over: a new one begins now
            started, used = now, 0
        allowed = used < limit
        if count and allowed:
            used += 1
            self.store.save_rate_window(bucket, started, used)
        end = started + self.rate.window
        return RateState(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - used),
            reset=math.ceil(end),
            retry_after=max(1, math.ceil(end - now)),
            reset_style=self.rate.reset_style,
        )
