"""A state's journal (``STATE.journal``, JSON Lines): each change, on disk before the run goes on.

The journal exists only while a run is going or after one was killed. Its first line
names the target and the salt; every later line is one change (``checked_entry``).
Every change is appended before the run moves on, so a killed process loses no ID that
Kayse returned, and saving costs O(batch), never O(records). Each entry is fsynced
before the call that returns, except the IDs of a create batch (``save_ids(...,
sync=False)``): they reach the disk with the next batch's ``pending`` entry, in one
fsync, or when the run ends. A power cut in between leaves that batch ``pending``,
which is ``unknown``, never a duplicate.

A create is journalled as ``pending`` before it is sent. A pending entry that
was never resolved (the process died, or the answer was lost) makes its records
``unknown``: no later run creates them again until a person says what Kayse has
(``state set`` or ``state forget``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from kayse_pipeline.bounds import loads_json
from kayse_pipeline.errors import StateError
from kayse_pipeline.safe_files import RefusedFile, open_regular
from kayse_pipeline.state_format import FORMAT, checked_entry


def journal_path(state: Path) -> Path:
    """The journal of the state file at ``state``: beside it, ``STATE.journal``."""
    return state.with_name(state.name + ".journal")


class Journal:
    """A state's journal: appended to, fsynced as asked, read back after a stopped run."""

    def __init__(self, state: Path) -> None:
        self.path = journal_path(state)
        self.file: IO[str] | None = None  # opened at the first change
        self._write_failed = False
        self._unsynced = False  # the journal holds entries written but not yet fsynced

    @property
    def is_open(self) -> bool:
        return self.file is not None

    def write(
        self, entry: Mapping[str, Any], header: Mapping[str, Any], *, sync: bool = True
    ) -> None:
        """Append ``entry``; with ``sync`` fsync it, and every entry written before it.

        ``header`` is the journal's first line, written when this creates the file.
        """
        if self._write_failed:
            # A failed write may have left a torn line: only the end of a journal may be torn.
            raise StateError(f"cannot write {self.path} since an earlier write failed")
        try:
            journal = self.file or self._open(header)
            journal.write(json.dumps(entry, separators=(",", ":")) + "\n")
            journal.flush()
            if sync:
                os.fsync(journal.fileno())
            self._unsynced = not sync
        except OSError as exc:
            self._write_failed = True
            raise StateError(
                f"cannot write {self.path}: {exc.strerror or exc}; "
                "nothing more will be sent until the state can be saved"
            ) from exc

    def _open(self, header: Mapping[str, Any]) -> IO[str]:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            fd = open_regular(self.path, flags)
        except RefusedFile as exc:
            raise OSError(f"{self.path.name} {exc.reason}") from exc
        self.file = os.fdopen(fd, "a", encoding="utf-8")
        if os.fstat(fd).st_size == 0:
            self.file.write(json.dumps(header) + "\n")
            # The new file's name must survive a power cut, not only its content.
            self.file.flush()
            fsync_dir(self.path.parent)
        return self.file

    def sync(self) -> None:
        """Fsync the journal's entries written without it, if any."""
        if self._unsynced and self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())
            self._unsynced = False

    def remove(self) -> None:
        """Close and delete the journal: the state file holds all it held."""
        if self.file is not None:
            with contextlib.suppress(OSError):  # a failed write's data may still be buffered
                self.file.close()
            self.file = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def replay(
        self,
        text: str,
        header: Callable[[Mapping[str, Any]], None],
        apply: Callable[[Mapping[str, Any]], None],
    ) -> None:
        """Read the journal's ``text``: its header goes to ``header``, each entry to ``apply``."""
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            try:
                entry = loads_json(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):
                    break  # the process died while writing this entry; it never took effect
                raise StateError(f"{self.path}:{number}: journal entry is damaged") from exc
            damaged = StateError(f"{self.path}:{number}: journal entry is damaged")
            if not isinstance(entry, dict):
                raise damaged
            if number == 1:
                if entry.get("format") != FORMAT or not isinstance(entry.get("salt"), str):
                    raise damaged
                header(entry)
                continue
            try:
                apply(checked_entry(entry))
            except (KeyError, TypeError, ValueError) as exc:
                raise damaged from exc


def fsync_dir(folder: Path) -> None:
    """Fsync a folder, so that a file created or renamed in it survives a power cut."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
