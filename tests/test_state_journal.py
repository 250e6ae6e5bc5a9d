"""The state's journal: torn and damaged lines, one fsync per create batch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kayse_pipeline.errors import StateError
from kayse_pipeline.state import StateStore

URL = "https://public-api.kayse.ai/v1"


def test_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    state = StateStore.open(path, URL)
    state.save_ids("contact", [("maria", 50, "f1")])
    state._release_lock()
    journal = tmp_path / "s.json.journal"
    with journal.open("a") as handle:
        handle.write('{"op":"saved","kind":"contact","items":[["ju')
    recovered = StateStore.open(path, URL, lock=False)
    assert recovered.id_of("maria") == 50
    assert recovered.get("juan") is None


def test_damaged_middle_journal_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    state = StateStore.open(path, URL)
    state.save_ids("contact", [("maria", 50, "f1")])
    state._release_lock()
    journal = tmp_path / "s.json.journal"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join([lines[0], "{broken", lines[1]]) + "\n")
    with pytest.raises(StateError, match=r"s\.json\.journal:2: journal entry is damaged"):
        StateStore.open(path, URL, lock=False)


def test_a_create_batch_costs_one_fsync_and_its_pending_is_on_disk_before_it_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "s.json.journal"
    synced: list[list[str]] = []  # the journal's entries at each fsync of the journal
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(journal.resolve()):
            lines = journal.read_text(encoding="utf-8").splitlines()[1:]
            synced.append([json.loads(line)["op"] for line in lines])
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    store = StateStore.open(tmp_path / "s.json", "https://x.test/v1")
    for batch in range(3):
        store.mark_pending("contact", [(f"c{batch}", "fp")])
        assert synced[-1][-1] == "pending"  # on disk before the create is sent
        store.save_ids("contact", [(f"c{batch}", batch + 1, "fp")], sync=False)
    # One fsync per batch: batch k's "saved" went to disk with batch k+1's "pending".
    assert synced == [
        ["pending"],
        ["pending", "saved", "pending"],
        ["pending", "saved", "pending", "saved", "pending"],
    ]
    store.close()
    reopened = StateStore.open(tmp_path / "s.json", "https://x.test/v1", lock=False)
    assert {s: r.id for s, r in reopened.records.items()} == {"c0": 1, "c1": 2, "c2": 3}
