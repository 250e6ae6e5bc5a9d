"""The state survives torn writes, hand edits and full disks: readable, and never a lost ID."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from kayse_pipeline.errors import StateError
from kayse_pipeline.state import StateStore
from testing.disk import fsync_filling

URL = "http://127.0.0.1:8750/v1"
needs_dev_full = pytest.mark.skipif(
    sys.platform != "linux" or not Path("/dev/full").exists(), reason="needs /dev/full"
)


def killed(state: StateStore) -> None:
    """What SIGKILL leaves: the journal as written, the lock released by the OS."""
    state._release_lock()


def test_a_run_after_a_torn_write_never_appends_to_the_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first = StateStore.open(path, URL)
    first.save_ids("contact", [("amy", 1, "f1")])
    killed(first)
    with (tmp_path / "s.json.journal").open("a") as journal:
        journal.write('{"op":"saved","kind":"contact","items":[["bo')  # died mid-line
    second = StateStore.open(path, URL)
    second.save_ids("contact", [("cy", 3, "f3")])
    killed(second)
    third = StateStore.open(path, URL, lock=False)
    assert {s: r.id for s, r in third.records.items()} == {"amy": 1, "cy": 3}


@pytest.mark.parametrize(
    "line",
    [
        "[1, 2]",
        '{"op": "saved", "kind": "contact", "items": [["amy", "12", "f"]]}',
        '{"op": "saved", "kind": "person", "items": [["amy", 12, "f"]]}',
        '{"op": "pending", "kind": "contact", "items": "amy"}',
        '{"op": "released", "symbols": [7]}',
        '{"op": "members", "list": "l", "field": "include_ids", "add": ["x"]}',
        '{"op": "members", "list": "l", "field": "exclude_ids", "add": [1]}',
        '{"kind": "contact"}',
    ],
)
def test_a_hand_edited_journal_entry_is_refused_with_its_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "s.json"
    state = StateStore.open(path, URL)
    state.save_ids("contact", [("amy", 1, "f1")])
    killed(state)
    journal = tmp_path / "s.json.journal"
    journal.write_text(journal.read_text() + line + "\n" + '{"op":"released","symbols":[]}\n')
    with pytest.raises(StateError) as err:
        StateStore.open(path, URL, lock=False)
    assert str(err.value) == f"{journal}:3: journal entry is damaged"


def test_a_journal_without_its_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    (tmp_path / "s.json.journal").write_text('{"op":"released","symbols":[]}\n{}\n')
    with pytest.raises(StateError, match=r"s\.json\.journal:1: journal entry is damaged"):
        StateStore.open(path, URL, lock=False)


@needs_dev_full
def test_after_a_failed_write_nothing_more_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    state = StateStore.open(path, URL)
    state.save_ids("contact", [("amy", 1, "f1")])
    real = state._journal.file
    assert real is not None
    state._journal.file = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115 - the disk fills
    with pytest.raises(StateError, match="No space left on device; nothing more will be sent"):
        state.mark_pending("contact", [("bo", "f2")])
    state._journal.file = real
    with pytest.raises(StateError, match="since an earlier write failed"):
        state.save_ids("contact", [("cy", 3, "f3")])
    state.close()  # the disk has room again for the state file itself
    saved = json.loads(path.read_text())["records"]
    assert saved == {"amy": {"kind": "contact", "id": 1, "fingerprint": "f1"}}
    assert not (tmp_path / "s.json.journal").exists()


@needs_dev_full
def test_a_full_disk_while_saving_keeps_the_file_and_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    with StateStore.open(path, URL) as state:
        state.save_ids("contact", [("amy", 1, "f1")])
    before = path.read_text()
    state = StateStore.open(path, URL)
    state.save_ids("contact", [("bo", 2, "f2")])
    tmp = tmp_path / f".s.json.{os.getpid()}.tmp"
    with monkeypatch.context() as disk:
        disk.setattr(os, "fsync", fsync_filling(tmp.name))
        with pytest.raises(StateError) as err:
            state.close()
    assert str(err.value) == (
        f"cannot save {path}: No space left on device; the journal s.json.journal still holds "
        "every ID, run again once it can be written"
    )
    assert path.read_text() == before  # nothing half-written
    assert not tmp.exists() and not tmp.is_symlink()
    assert not (tmp_path / "s.json.pid").exists()  # the lock file stays
    again = StateStore.open(path, URL)
    assert {s: r.id for s, r in again.records.items()} == {"amy": 1, "bo": 2}
    again.close()
    assert not (tmp_path / "s.json.journal").exists()


def test_the_error_that_stopped_a_run_is_not_hidden_by_a_failed_save(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with pytest.raises(KeyboardInterrupt), StateStore.open(path, URL) as state:
        state.save_ids("contact", [("amy", 1, "f1")])
        (tmp_path / f".s.json.{os.getpid()}.tmp").mkdir()  # the save cannot write its file
        raise KeyboardInterrupt
    assert StateStore.open(path, URL, lock=False).id_of("amy") == 1  # the journal has it


def test_a_state_where_no_lock_can_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StateError) as err:
        StateStore.open(blocker / "s.json", URL)
    assert str(err.value) == f"cannot lock {blocker / 's.json'}: File exists"
