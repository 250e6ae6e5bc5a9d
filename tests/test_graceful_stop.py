"""SIGINT / SIGTERM during apply: the request in flight is answered and journalled, the
journal is folded into the state, and the state file alone lets a fresh folder finish
the import without creating anything twice. ``benchmarks/stop.py`` measures more points."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from testing.sandbox import running_sandbox
from testing.stop import STATE, finish_elsewhere, signalled_apply, write_recipe

LEADS = 60
BATCH = 20
# 3 contact batches, 3 case batches, the list, 3 attach, 3 append, the campaign.
SLOW = "slow=1,slow_seconds=0.6"


@pytest.mark.parametrize(
    ("sig", "after"),
    [
        (signal.SIGTERM, 1),  # the first contact batch in flight
        (signal.SIGINT, 2),
        (signal.SIGTERM, 5),  # a case batch in flight
        (signal.SIGINT, 8),  # an attach in flight
        (signal.SIGTERM, 13),  # the campaign in flight
    ],
)
def test_a_stop_keeps_every_id_and_leaves_nothing_unknown(
    tmp_path: Path, sig: signal.Signals, after: int
) -> None:
    work = tmp_path / "run"
    write_recipe(work, LEADS, f"g{after}")
    with running_sandbox(tmp_path, faults=SLOW) as server:
        stopped = signalled_apply(
            server, work, after_requests=after, signals=(sig,), batch_size=BATCH
        )
        assert stopped.code == 128 + sig, stopped.stderr
        assert stopped.unknown == 0
        assert not stopped.journal_left
        assert stopped.saved >= 1  # the batch in flight was answered and saved
        assert f"stopped by {sig.name}:" in stopped.stderr
        assert "0 unknown; every ID Kayse returned is saved in leads.state.json" in stopped.stderr
        server.set_faults("off")
        result = finish_elsewhere(server, work, tmp_path / "fresh", LEADS)
    assert result.created == 2 * LEADS + 2
    assert result.duplicates == 0 and result.lost_ids == 0
    assert result.missing == 0 and result.members_missing == 0


def test_a_second_signal_abandons_the_request_in_flight_but_still_saves(tmp_path: Path) -> None:
    work = tmp_path / "run"
    write_recipe(work, LEADS, "abandon")
    # An answer that would come long after CI's SIGKILL.
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=60") as server:
        stopped = signalled_apply(
            server,
            work,
            after_requests=1,
            signals=(signal.SIGINT, signal.SIGTERM),
            batch_size=BATCH,
        )
    assert stopped.code == 130, stopped.stderr
    assert stopped.seconds < 4  # it did not wait out the grace
    assert not stopped.journal_left
    assert stopped.unknown == BATCH  # the batch in flight, and nothing else
    records = json.loads((work / STATE).read_text())["records"]
    assert len(records) == BATCH
    assert "SIGTERM: not waiting for the request in flight" in stopped.stderr
    assert "kayse-pipeline state forget leads.yaml" in stopped.stderr


def test_a_stop_while_waiting_for_the_budget_sends_nothing_more(tmp_path: Path) -> None:
    work = tmp_path / "run"
    write_recipe(work, 5, "wait")
    # Two requests a minute: contacts and cases go through, the list waits.
    with running_sandbox(tmp_path, rate_limit="2/60") as server:
        stopped = signalled_apply(server, work, after_requests=2, signals=(signal.SIGTERM,))
        dump = server.dump()
    assert stopped.code == 143, stopped.stderr
    assert stopped.seconds < 5
    assert stopped.unknown == 0 and stopped.saved == 10
    assert dump["case_lists"] == []


def test_destroy_and_refresh_stop_cleanly_and_resume(tmp_path: Path) -> None:
    work = tmp_path / "run"
    write_recipe(work, 30, "destroy")
    with running_sandbox(tmp_path) as server:
        finish = finish_elsewhere(server, work, tmp_path / "applied", 30)
        assert finish.created == 62
        work = tmp_path / "applied"
        server.set_faults(SLOW)
        refreshed = signalled_apply(
            server,
            work,
            after_requests=3,
            signals=(signal.SIGINT,),
            command=("refresh", "leads.yaml"),
            batch_size=None,
        )
        assert refreshed.code == 130, refreshed.stderr
        assert "stopped by SIGINT" in refreshed.stderr and not refreshed.journal_left
        stopped = signalled_apply(
            server,
            work,
            after_requests=4,  # contacts go one DELETE each
            signals=(signal.SIGTERM,),
            command=("destroy", "leads.yaml", "--yes"),
        )
        assert stopped.code == 143, stopped.stderr
        assert not stopped.journal_left and stopped.unknown == 0
        assert 0 < stopped.saved < 62  # some deleted and dropped from the state, some left
        server.set_faults("off")
        again = signalled_apply(
            server,
            work,
            after_requests=10**6,
            signals=(),
            command=("destroy", "leads.yaml", "--yes"),
        )
        assert again.code == 0, again.stderr
        dump = server.dump()
    assert dump["clients"] == [] and dump["cases"] == []
