"""Issue 14, item 2: pacing holds whether X-RateLimit-Reset is an epoch time or seconds left."""

from __future__ import annotations

from pathlib import Path

import pytest

from kayse_pipeline.api.pacing import RESET_MARGIN, Pacer, reset_epoch
from testing.cli import SEED_MANIFEST, kayse
from testing.sandbox_process import sandbox_process

NOW = 1_767_225_600.0  # 2026-01-01


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1767225630", 1767225630.0),  # an epoch time, as in the docs' example
        ("30", NOW + 30),  # seconds remaining, as the docs' wording reads
        ("0", NOW),
        ("30.5", NOW + 30.5),
        ("-30", None),
        ("1e400", None),
        ("inf", None),
        ("", None),
    ],
)
def test_both_forms_of_the_reset_are_read(header: str, expected: float | None) -> None:
    assert reset_epoch(header, NOW) == expected


@pytest.mark.parametrize("reset", ["1767225610", "10"])
def test_a_spent_budget_waits_for_either_form(reset: str) -> None:
    now = [NOW]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(clock=lambda: now[0], sleep=sleep)
    pacer.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    pacer.before_request()
    assert sum(slept) == pytest.approx(10 + RESET_MARGIN)


@pytest.mark.parametrize("style", ["epoch", "seconds"])
def test_apply_never_meets_a_429_whichever_form_the_sandbox_sends(
    style: str, tmp_path: Path
) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    with sandbox_process(
        tmp_path / "sandbox", rate_limit="3/2", extra_args=["--reset-style", style]
    ) as sandbox:
        run = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=sandbox.url)
        stats = sandbox.stats()
        assert f"(reset as {style})" in sandbox.stderr()
    assert run.code == 0, run.stdout + run.stderr
    assert stats["requests"] >= 5  # more than one window's budget
    assert "429" not in stats["by_status"]
