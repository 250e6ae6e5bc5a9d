"""The state store: compaction, recovery, lock, targets (its journal: test_state_journal.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from kayse_pipeline.errors import StateError, StateLockedError, TargetMismatchError
from kayse_pipeline.state import StateStore, default_state_path, normalize_target
from testing.disk import fsync_filling

URL = "https://public-api.kayse.ai/v1"


def test_default_paths_are_beside_the_manifest() -> None:
    manifest = Path("recipes/quickstart.yaml")
    assert default_state_path(manifest, sandbox=False) == Path("recipes/quickstart.state.json")
    assert default_state_path(manifest, sandbox=True) == Path(
        "recipes/quickstart.sandbox.state.json"
    )


def test_normalize_target() -> None:
    assert normalize_target("HTTPS://Public-API.kayse.ai/v1/") == URL
    assert normalize_target("sandbox") == "sandbox"


def test_saves_ids_and_compacts_on_close(tmp_path: Path) -> None:
    path = tmp_path / "m.state.json"
    with StateStore.open(path, URL) as state:
        state.mark_pending("contact", [("maria", "f1")])
        state.save_ids("contact", [("maria", 50, "f1")])
        state.record_members("q2", "include_ids", add=[200, 201])
        assert (tmp_path / "m.state.json.journal").exists()
    assert not (tmp_path / "m.state.json.journal").exists()
    assert not (tmp_path / "m.state.json.pid").exists()  # the lock file stays
    doc = json.loads(path.read_text())
    assert doc["records"] == {"maria": {"kind": "contact", "id": 50, "fingerprint": "f1"}}
    assert doc["memberships"] == {"q2": {"include_ids": [200, 201]}}
    assert doc["target"] == URL and doc["version"] == 1
    again = StateStore.open(path, URL, lock=False)
    assert again.id_of("maria") == 50
    assert again.members("q2", "include_ids") == {200, 201}


def test_state_file_is_one_record_per_line_and_sorted(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with StateStore.open(path, URL) as state:
        state.save_ids("contact", [("zed", 2, "a"), ("amy", 1, "b")])
    text = path.read_text()
    assert text.index('"amy"') < text.index('"zed"')
    assert '    "amy": {"kind": "contact", "id": 1, "fingerprint": "b"},' in text.splitlines()
    assert '  "memberships": {}' in text.splitlines()


def test_pending_without_answer_becomes_unknown(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    state = StateStore.open(path, URL)
    state.mark_pending("contact", [("maria", "f1"), ("juan", "f2")])
    state._release_lock()  # the process dies here: the journal is all that is left
    recovered = StateStore.open(path, URL)
    assert recovered.recovered_journal
    assert recovered.unknown() == ["juan", "maria"]
    assert recovered.id_of("maria") is None
    recovered.close()
    doc = json.loads(path.read_text())
    assert doc["records"]["maria"] == {"kind": "contact", "status": "unknown", "fingerprint": "f1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"s\.json:1:2: state file is not valid JSON"),
        ("[]", "is not a kayse-pipeline state file"),
        (
            '{"format": "kayse-pipeline-state", "version": 9, "target": "x"}',
            "has state format version 9; this kayse-pipeline reads version 1",
        ),
        (
            f'{{"format": "kayse-pipeline-state", "version": 1, "target": "{URL}", "salt": "s", '
            '"records": {"a": {"kind": "contact", "id": "50", "fingerprint": "f"}}}',
            "record 'a' is damaged",
        ),
        (
            f'{{"format": "kayse-pipeline-state", "version": 1, "target": "{URL}", "salt": "s", '
            '"records": {"a": {"kind": "person", "id": 5, "fingerprint": "f"}}}',
            "record 'a' is damaged",
        ),
        (
            f'{{"format": "kayse-pipeline-state", "version": 1, "target": "{URL}", "salt": "s", '
            '"records": {}, "memberships": {"l": {"include_ids": ["x"]}}}',
            "memberships of 'l' are damaged",
        ),
    ],
)
def test_damaged_state_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(StateError, match=message):
        StateStore.open(path, URL, lock=False)


def test_state_of_another_target_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with StateStore.open(path, "sandbox") as state:
        state.save_ids("contact", [("maria", 1, "f")])
    with pytest.raises(TargetMismatchError, match=f"belongs to sandbox, not {URL}"):
        StateStore.open(path, URL)
    assert not (tmp_path / "s.json.pid").exists()  # the lock file stays


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event) -> None:
    state = StateStore.open(Path(path), URL)
    ready.set()
    time.sleep(60)
    state.close()


def test_second_run_is_refused_and_a_killed_run_frees_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(path), ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(
            StateLockedError, match=rf"in use by another kayse-pipeline run \(pid {holder.pid} on"
        ):
            StateStore.open(path, URL)
    finally:
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
    state = StateStore.open(path, URL)  # the OS released the dead run's lock
    assert state.stale_lock is not None and f"pid {holder.pid}" in state.stale_lock
    state.close()


def test_full_disk_while_saving_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sys.platform != "linux":
        pytest.skip("finds a descriptor's file in /proc")
    path = tmp_path / "s.json"
    state = StateStore.open(path, URL)
    monkeypatch.setattr(os, "fsync", fsync_filling("s.json.journal"))
    with pytest.raises(
        StateError, match=r"cannot write .*s\.json\.journal: No space left on device"
    ):
        state.save_ids("contact", [("maria", 1, "f")])
    state._release_lock()


def test_state_holds_no_field_values(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with StateStore.open(path, URL) as state:
        state.save_ids("contact", [("maria", 1, "0123abcd")])
    assert set(json.loads(path.read_text())) == {
        "format",
        "version",
        "target",
        "salt",
        "records",
        "memberships",
    }


def test_an_empty_state_follows_the_target_it_is_used_with(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with StateStore.open(path, "http://127.0.0.1:9/v1") as state:
        state.save()  # a first run against a wrong URL that reached no record
    with StateStore.open(path, URL) as state:
        state.save_ids("contact", [("maria", 1, "f")])
    assert json.loads(path.read_text())["target"] == URL


def test_ids_saved_without_fsync_reach_the_journal_when_the_state_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore.open(tmp_path / "s.json", "https://x.test/v1")
    store.mark_pending("contact", [("c0", "fp")])
    store.save_ids("contact", [("c0", 7, "fp")], sync=False)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", _refuse)
    with pytest.raises(StateError, match="still holds every ID"):
        store.close()
    # The journal, now the only copy of the ID, was fsynced.
    assert str((tmp_path / "s.json.journal").resolve()) in synced
    monkeypatch.undo()
    recovered = StateStore.open(tmp_path / "s.json", "https://x.test/v1", lock=False)
    assert recovered.records["c0"].id == 7


def _refuse(src: object, dst: object) -> None:
    raise OSError(28, "No space left on device")
