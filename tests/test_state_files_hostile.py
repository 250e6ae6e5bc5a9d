"""A state's files put in place by someone else: links, folders, devices, FIFOs, bad journals.

Issue 11, findings 8 (links and non-regular files), 9 (a lock file that stays, a lock that
works without fcntl, the holder's PID) and 12 (journal entries that would damage the
state when folded in). The real CLI runs against the in-process sandbox.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kayse_pipeline.errors import StateError, StateLockedError
from kayse_pipeline.state import StateStore
from testing.cli import SEED_MANIFEST, Run, kayse

URL = "https://public-api.kayse.ai/v1"
VICTIM = "someone else's file\n"
posix_only = pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs and devices")


def cli(args: list[str], cwd: Path) -> Run:
    """The real CLI, memory-capped (/dev/zero used to fill RAM), with a deadline (a FIFO
    used to block it forever)."""
    return kayse(args, cwd=cwd, key=None, timeout=60, max_memory=2 << 30)


def link_to_victim(name: str) -> Callable[[Path], None]:
    def plant(folder: Path) -> None:
        (folder / name).symlink_to(folder / "victim.txt")

    return plant


def make_fifo(name: str) -> Callable[[Path], None]:
    return lambda folder: os.mkfifo(folder / name)


def make_dir(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).mkdir()


HOSTILE: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    (
        "link-at-lock",
        link_to_victim("seed.sandbox.state.json.lock"),
        [],
        "error: cannot lock seed.sandbox.state.json: seed.sandbox.state.json.lock is a "
        "symbolic link, not a regular file\n",
    ),
    (
        "link-at-journal",
        link_to_victim("seed.sandbox.state.json.journal"),
        [],
        "error: seed.sandbox.state.json.journal is a symbolic link, not a regular file; "
        "give --state the path of a state file\n",
    ),
    (
        "link-at-state",
        link_to_victim("seed.sandbox.state.json"),
        [],
        "error: seed.sandbox.state.json is a symbolic link, not a regular file; "
        "give --state the path of a state file\n",
    ),
    (
        "state-is-a-folder",
        make_dir("seed.sandbox.state.json"),
        [],
        "error: seed.sandbox.state.json is a directory, not a regular file; "
        "give --state the path of a state file\n",
    ),
    (
        "state-is-a-fifo",
        make_fifo("seed.sandbox.state.json"),
        [],
        "error: seed.sandbox.state.json is a FIFO (named pipe), not a regular file; "
        "give --state the path of a state file\n",
    ),
    (
        "journal-is-a-fifo",
        make_fifo("seed.sandbox.state.json.journal"),
        [],
        "error: seed.sandbox.state.json.journal is a FIFO (named pipe), not a regular file; "
        "give --state the path of a state file\n",
    ),
    (
        "state-is-dev-full",
        lambda folder: None,
        ["--state", "/dev/full"],
        "error: /dev/full is a character device, not a regular file; "
        "give --state the path of a state file\n",
    ),
    (
        "state-is-dev-zero",
        lambda folder: None,
        ["--state", "/dev/zero"],
        "error: /dev/zero is a character device, not a regular file; "
        "give --state the path of a state file\n",
    ),
]


@posix_only
@pytest.mark.parametrize(
    ("plant", "extra", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
@pytest.mark.parametrize("command", ["apply", "plan"])
def test_a_state_file_that_is_not_a_regular_file_is_refused(
    tmp_path: Path,
    plant: Callable[[Path], None],
    extra: list[str],
    message: str,
    command: str,
) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "victim.txt").write_text(VICTIM)
    plant(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = cli([command, "seed.yaml", "--sandbox", *extra], tmp_path)
    if command == "plan" and "lock" in message:  # plan reads without the lock
        assert done.code == 0, done.stderr
    else:
        assert (done.code, done.stderr) == (1, message)
    assert (tmp_path / "victim.txt").read_text() == VICTIM  # never truncated or appended to
    after = sorted(p.name for p in tmp_path.iterdir() if p.name != ".kayse-sandbox")
    assert [n for n in after if n not in before] in ([], ["seed.sandbox.state.json.lock"])


@posix_only
def test_a_link_at_the_holder_file_is_replaced_not_followed(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "victim.txt").write_text(VICTIM)
    (tmp_path / "seed.sandbox.state.json.pid").symlink_to(tmp_path / "victim.txt")
    done = cli(["apply", "seed.yaml", "--sandbox"], tmp_path)
    assert done.code == 0, done.stderr
    assert (tmp_path / "victim.txt").read_text() == VICTIM
    assert not (tmp_path / "seed.sandbox.state.json.pid").exists()


def test_the_lock_file_stays_so_that_two_runs_never_hold_it(tmp_path: Path) -> None:
    """The race of a lock file removed on release: a waiter locks the removed file."""
    fcntl = pytest.importorskip("fcntl")
    path = tmp_path / "s.json"
    first = StateStore.open(path, URL)
    waiter = os.open(tmp_path / "s.json.lock", os.O_RDWR)  # a second run, about to lock
    first.close()
    assert (tmp_path / "s.json.lock").exists()
    fcntl.flock(waiter, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the second run gets the lock
    try:
        with pytest.raises(StateLockedError, match="is in use by another kayse-pipeline run"):
            StateStore.open(path, URL)  # so a third run must not
    finally:
        os.close(waiter)
    inode = (tmp_path / "s.json.lock").stat().st_ino
    StateStore.open(path, URL).close()
    assert (tmp_path / "s.json.lock").stat().st_ino == inode  # one lock file, for ever


def test_validate_plan_and_state_show_need_no_fcntl(tmp_path: Path) -> None:
    """Windows has no fcntl: the commands that do not write must not import it."""
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    for args in (["validate", "seed.yaml"], ["plan", "seed.yaml", "--sandbox"]):
        code = (
            "import sys; sys.modules['fcntl'] = None; "
            "from kayse_pipeline.cli.main import main; "
            f"sys.argv = ['kayse-pipeline', *{args!r}]; main()"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def _hold(path: str, ready: multiprocessing.synchronize.Event) -> None:
    state = StateStore.open(Path(path), URL)
    ready.set()
    time.sleep(60)
    state.close()


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_the_lock_holder_is_readable_without_taking_the_lock(tmp_path: Path) -> None:
    from kayse_pipeline.state import lock_holder

    path = tmp_path / "s.json"
    assert lock_holder(path) is None
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(path), ready))
    holder.start()
    try:
        assert ready.wait(30)
        found = lock_holder(path)
        assert found is not None and found.pid == holder.pid
        with pytest.raises(StateLockedError, match=rf"\(pid {holder.pid} on "):
            StateStore.open(path, URL)
    finally:
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
    assert lock_holder(path) is None  # a dead run holds nothing
    with StateStore.open(path, URL) as state:
        assert state.stale_lock is not None and f"pid {holder.pid} " in state.stale_lock
        assert lock_holder(path) is not None and lock_holder(path).pid == os.getpid()  # type: ignore[union-attr]
    assert lock_holder(path) is None


STATE = (
    '{"format": "kayse-pipeline-state", "version": 1, "target": "sandbox", "salt": "s", '
    '"records": {"maria": {"kind": "contact", "id": 7, "fingerprint": "f"}}}\n'
)
HEADER = '{"target": "sandbox", "salt": "s", "format": "kayse-pipeline-state"}'
# Entries that the old checks let through and that left a state file no run could read.
DAMAGING = {
    "pending-item-with-an-id": '{"op":"pending","kind":"contact","items":[["bo",5]]}',
    "saved-fingerprint-a-number": '{"op":"saved","kind":"contact","items":[["bo",5,7]]}',
    "saved-id-zero": '{"op":"saved","kind":"contact","items":[["bo",0,"f"]]}',
    "saved-id-negative": '{"op":"saved","kind":"contact","items":[["bo",-5,"f"]]}',
    "saved-id-true": '{"op":"saved","kind":"contact","items":[["bo",true,"f"]]}',
    "items-not-a-list": '{"op":"saved","kind":"contact","items":{"bo":[5,"f"]}}',
    "released-a-string": '{"op":"released","symbols":"maria"}',
    "members-add-a-string": '{"op":"members","list":"l","field":"client_ids","add":"12"}',
    "members-reset-a-string": '{"op":"members","list":"l","field":"client_ids","reset":"no"}',
    "unknown-op": '{"op":"rename","symbols":["maria"]}',
}


@pytest.mark.parametrize("entry", list(DAMAGING.values()), ids=list(DAMAGING))
def test_a_journal_entry_that_would_damage_the_state_is_refused(tmp_path: Path, entry: str) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    state = tmp_path / "seed.sandbox.state.json"
    state.write_text(STATE)
    journal = tmp_path / "seed.sandbox.state.json.journal"
    journal.write_text(f"{HEADER}\n{entry}\n{HEADER}\n")  # the bad entry is not the torn last line
    run = kayse(["apply", "seed.yaml", "--sandbox"], cwd=tmp_path)
    assert (run.code, run.stderr) == (
        1,
        "error: seed.sandbox.state.json.journal:2: journal entry is damaged\n",
    )
    assert state.read_text() == STATE  # untouched, and loadable once the journal is dealt with
    journal.unlink()
    assert StateStore.open(state, "sandbox", lock=False).id_of("maria") == 7


def test_a_good_journal_still_folds_in(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_text(STATE)
    (tmp_path / "s.json.journal").write_text(
        HEADER + "\n"
        '{"op":"pending","kind":"contact","items":[["bo","f2"]]}\n'
        '{"op":"saved","kind":"contact","items":[["bo",8,"f2"]]}\n'
        '{"op":"members","list":"l","field":"client_ids","add":[7,8],"remove":[],"reset":true}\n'
    )
    with StateStore.open(state, "sandbox") as store:
        assert store.id_of("bo") == 8 and store.members("l", "client_ids") == {7, 8}
    assert json.loads(state.read_text())["records"]["bo"]["id"] == 8


def test_a_state_larger_than_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kayse_pipeline.state as state_module

    monkeypatch.setattr(state_module, "MAX_STATE_BYTES", 64)
    path = tmp_path / "s.json"
    path.write_text(STATE)
    with pytest.raises(StateError) as err:
        StateStore.open(path, "sandbox", lock=False)
    assert str(err.value) == (
        f"{path} is larger than 64 bytes; give --state the path of a state file"
    )
