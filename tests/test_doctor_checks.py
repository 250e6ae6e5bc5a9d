"""Doctor's pure verdicts: the reset's form, server text made safe."""

from __future__ import annotations

import pytest

from kayse_pipeline.run.doctor_checks import Answer, rate_check, rate_view

NOW = 1_800_000_000.0
DATE = "Fri, 15 Jan 2027 08:00:00 GMT"  # = NOW


def answer(**headers: str) -> Answer:
    return Answer("GET", "/case_lists", 200, "application/json", headers, {}, True)


@pytest.mark.parametrize(
    ("reset", "form", "left"),
    [
        ("1800003600", "epoch", 3600.0),
        ("1800000000", "epoch", 0.0),
        ("1799999990", "epoch", 0.0),  # just past, by a clock a little ahead
        ("3599", "seconds", 3599.0),
        ("59", "seconds", 59.0),
        ("0", "seconds", 0.0),
        ("1700000000", "unclear", None),  # an epoch time long gone
        ("500000", "unclear", None),  # six days of seconds
        ("soon", "unclear", None),
        ("-5", "unclear", None),
        ("1e400", "unclear", None),
    ],
)
def test_the_reset_is_read_as_an_epoch_time_or_seconds_remaining(
    reset: str, form: str, left: float | None
) -> None:
    view = rate_view(answer(**{"x-ratelimit-remaining": "5", "x-ratelimit-reset": reset}), NOW)
    assert (view.form, view.seconds_left) == (form, left)


def test_the_date_header_is_the_clock_and_a_skewed_machine_is_named() -> None:
    headers = {
        "x-ratelimit-limit": "500",
        "x-ratelimit-remaining": "5",
        "x-ratelimit-reset": "1800003600",
        "date": DATE,
    }
    check = rate_check([answer(**headers)], NOW + 300)
    assert check.verdict == "warning"
    assert check.saw[1] == (
        "X-RateLimit-Reset is an epoch time: the window ends in 3600 s by the answer's Date"
    )
    assert check.saw[2] == "this machine's clock is 300 s ahead of the server's"
    assert rate_check([answer(**headers)], NOW).verdict == "ok"
