"""Pacing by the rate-limit headers, on a fake clock (time is the operating system's edge)."""

from __future__ import annotations

import pytest

from kayse_pipeline.api.pacing import RESET_MARGIN, Pacer
from kayse_pipeline.errors import BudgetExhaustedError


class FakeClock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:  # 2026-01-01
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def headers(remaining: int, reset: float, limit: int = 500) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset)),
    }


def test_no_wait_while_budget_remains() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.observe(headers(3, clock.now + 100))
    pacer.before_request()
    assert clock.slept == []


def test_spent_budget_waits_for_the_reset_with_a_countdown() -> None:
    clock = FakeClock()
    seen: list[float] = []
    pacer = Pacer(clock=clock, sleep=clock.sleep, on_wait=lambda left, total: seen.append(left))
    pacer.observe(headers(0, clock.now + 5))
    pacer.before_request()
    assert sum(clock.slept) == pytest.approx(5 + RESET_MARGIN)
    assert seen[0] == pytest.approx(5 + RESET_MARGIN) and len(seen) == 6
    assert pacer.remaining is None  # unknown until the next answer


def test_wait_longer_than_max_wait_stops_cleanly() -> None:
    clock = FakeClock()
    pacer = Pacer(max_wait=10, clock=clock, sleep=clock.sleep)
    pacer.observe(headers(0, clock.now + 120))
    with pytest.raises(
        BudgetExhaustedError, match=r"resets in 121 s, more than --max-wait \(10 s\)"
    ):
        pacer.before_request()
    assert clock.slept == []


def test_429_waits_retry_after() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.after_429({"Retry-After": "3"})
    assert sum(clock.slept) == pytest.approx(3)
    assert pacer.rejections == 1


def test_429_without_retry_after_waits_for_reset() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.after_429({"X-RateLimit-Reset": str(int(clock.now + 7))})
    assert sum(clock.slept) == pytest.approx(7 + RESET_MARGIN)


def test_endless_429_is_an_error_not_a_hang() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    with pytest.raises(BudgetExhaustedError, match="refused 30 requests in a row"):
        for _ in range(100):
            pacer.after_429({"Retry-After": "1"})
