"""``state fold``: the journal a SIGKILL left is folded into the state file, offline."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from kayse_pipeline.state import StateStore
from testing.cli import kayse
from testing.sandbox import running_sandbox
from testing.stop import STATE, signalled_apply, write_recipe


def test_fold_after_sigkill_keeps_every_journalled_id(tmp_path: Path) -> None:
    write_recipe(tmp_path, 40, "fold")
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=0.3") as server:
        killed = signalled_apply(
            server, tmp_path, after_requests=3, signals=(signal.SIGKILL,), batch_size=10
        )
        assert killed.code == -signal.SIGKILL
        assert killed.journal_left
        expected = StateStore.open(tmp_path / STATE, server.url, lock=False)
        ids = {s: (r.id, r.status) for s, r in expected.records.items()}
        assert ids and any(r[0] is not None for r in ids.values())
        # Offline: no key, no URL, and the sandbox is not needed any more.
        folded = kayse(["state", "fold", STATE], cwd=tmp_path, key=None)
    assert folded.code == 0, folded.stderr
    assert folded.stdout == f"{STATE}: folded the journal a stopped run left\n"
    assert not (tmp_path / f"{STATE}.journal").exists()
    records = json.loads((tmp_path / STATE).read_text())["records"]
    assert {s: (r.get("id"), r.get("status", "ok")) for s, r in records.items()} == ids
    again = kayse(["state", "fold", STATE], cwd=tmp_path, key=None)
    assert (again.code, again.stdout) == (0, f"{STATE}: no journal to fold\n")


def test_fold_refuses_a_state_in_use(tmp_path: Path) -> None:
    write_recipe(tmp_path, 2, "busy")
    with StateStore.open(tmp_path / STATE, "sandbox") as running:
        running.release([])  # the running apply's journal
        busy = kayse(["state", "fold", STATE], cwd=tmp_path, key=None)
    assert busy.code == 1
    assert "is in use by another kayse-pipeline run" in busy.stderr
