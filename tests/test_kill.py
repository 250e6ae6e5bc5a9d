"""SIGKILL at any moment of an apply: the state still loads, and after resolving what it
left unknown the next apply makes every record exactly once. ``benchmarks/kill.py`` runs
many more kills."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.faults import kill_drill

KILLS = 6


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_applies_leave_no_duplicate_and_no_lost_id(tmp_path: Path, seed: int) -> None:
    result = kill_drill(tmp_path, seed, leads=100, kills=KILLS)
    assert result.kills == KILLS
    assert result.unreadable == 0
    assert result.audit.created == 2 * result.leads + 2
    assert result.audit.duplicates == 0
    assert result.audit.lost_ids == 0
    assert result.audit.missing == 0 and result.audit.members_missing == 0
    # The kills landed at different points of the run, not all before its first answer.
    assert len(set(result.requests_at_kill)) > 1
