"""The lock that keeps two runs off one state, and who holds it.

``STATE.lock`` is locked with ``filelock`` (``flock`` on Unix, ``LockFileEx`` on Windows)
and never deleted: a lock file removed on release lets a waiter lock the removed file
while a third run creates a new one, and then two runs hold "the lock". The operating
system drops the lock of a killed process, so a stale lock never needs breaking by hand.

The holder writes who it is to ``STATE.pid`` (JSON: pid, host, start time) once it holds
the lock and removes it before letting go, so that ``lock_holder`` can say which run is
going without taking the lock. A ``STATE.pid`` left behind by a killed run names the run
that died.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kayse_pipeline.errors import StateError, StateLockedError
from kayse_pipeline.safe_files import RefusedFile, check_path, create_new, read_bounded

if TYPE_CHECKING:
    from filelock import BaseFileLock

_MAX_INFO_BYTES = 4096


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The run that holds (or held) a state's lock."""

    pid: int
    host: str
    started: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started}"


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


def holder_path(state: Path) -> Path:
    return state.with_name(state.name + ".pid")


def lock_holder(state: Path) -> LockHolder | None:
    """The run that holds the state's lock now, read without taking it; None if none is known.

    A record left by a run that died on this machine is not a holder.
    """
    holder = _read_holder(state)
    if holder is None or holder.host != socket.gethostname() or os.name != "posix":
        return holder
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, under another account
    return holder


def _read_holder(state: Path) -> LockHolder | None:
    try:
        data = read_bounded(holder_path(state), _MAX_INFO_BYTES)
        doc: Any = json.loads(data) if data else None
    except (OSError, RefusedFile, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    pid, host, started = doc.get("pid"), doc.get("host"), doc.get("started")
    if type(pid) is not int or not isinstance(host, str) or not isinstance(started, str):
        return None
    return LockHolder(pid, host, started)


class StateLock:
    """The lock of one state file, held from ``acquire`` until ``release``."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self._lock: BaseFileLock | None = None

    def acquire(self) -> LockHolder | None:
        """Take the lock or raise StateLockedError; return the holder a killed run left behind."""
        from filelock import FileLock, Timeout  # only the commands that write need it

        path = lock_path(self.state)
        try:
            self.state.parent.mkdir(parents=True, exist_ok=True)
            check_path(path)
            lock = FileLock(path, timeout=0, preserve_lock_file=True)
            lock.acquire()
        except Timeout as exc:
            holder = _read_holder(self.state)
            raise StateLockedError(
                f"{self.state} is in use by another kayse-pipeline run "
                f"({holder or 'another process'}); "
                "wait for it to finish (a killed run releases the lock by itself)"
            ) from exc
        except RefusedFile as exc:
            raise StateError(f"cannot lock {self.state}: {path} {exc.reason}") from exc
        except OSError as exc:
            raise StateError(f"cannot lock {self.state}: {exc.strerror or exc}") from exc
        self._lock = lock
        stale = _read_holder(self.state)
        try:
            self._write_holder()
        except (OSError, RefusedFile) as exc:
            self.release()
            reason = exc.reason if isinstance(exc, RefusedFile) else exc.strerror
            raise StateError(
                f"cannot lock {self.state}: {holder_path(self.state)}: {reason}"
            ) from exc
        return stale

    def _write_holder(self) -> None:
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
        final = holder_path(self.state)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        fd = create_new(tmp)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(doc) + "\n")
        os.replace(tmp, final)

    def release(self) -> None:
        """Say that no run holds the state any more, then let go of the lock (the file stays)."""
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            holder_path(self.state).unlink()
        with contextlib.suppress(OSError):
            self._lock.release()
        self._lock = None
