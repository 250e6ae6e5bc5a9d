"""Progress in a CI log: a line per step, a line every so often, a line when a wait starts.

The terminal bar is exercised for real, under a pseudo-terminal, in test_cli_apply_rows.py.
"""

from __future__ import annotations

import io

from kayse_pipeline.cli.output.progress import ProgressDisplay


def test_a_log_gets_periodic_lines_and_no_control_characters() -> None:
    out = io.StringIO()
    progress = ProgressDisplay(stream=out, tty=False, every=0.0)
    progress.begin(20)
    progress.step("create 10 contact(s)", 10)
    progress.progress(10, 1, 499)
    progress.waiting(61.0, 61.0)  # a wait starts
    progress.waiting(59.2, 61.0)  # once a minute while it lasts
    progress.waiting(58.2, 61.0)
    progress.progress(20, 2, None)
    progress.finish()
    assert out.getvalue().splitlines() == [
        "-> create 10 contact(s)",
        "progress: 10/20 records, 1 requests, budget left 499",
        "waiting 61 s for the rate-limit reset",
        "waiting 60 s for the rate-limit reset",
        "progress: 20/20 records, 2 requests, budget left ?",
    ]


def test_a_log_is_quiet_between_periods() -> None:
    out = io.StringIO()
    progress = ProgressDisplay(stream=out, tty=False, every=3600.0)
    progress.begin(1000)
    for done in range(1000):
        progress.progress(done, done // 100, 500 - done // 100)
    assert out.getvalue() == ""


def test_a_terminal_bar_is_redrawn_in_place() -> None:
    out = io.StringIO()
    progress = ProgressDisplay(stream=out, tty=True)
    progress.begin(4)
    progress.progress(1, 1, 3)
    progress.waiting(12.2, 13.0)
    progress.finish()
    assert out.getvalue() == (
        "\r[#######.......................] 1/4 records, 1 requests, budget left 3\x1b[K"
        "\r[#######.......................] 1/4 records, 1 requests, budget left 3"
        " waiting 13 s for the rate-limit reset\x1b[K"
        "\r\x1b[K"
    )
