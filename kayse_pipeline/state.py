"""The state store: which Kayse ID each symbol got, durably, without personal data.

The state is one JSON file meant to be committed beside its manifest, plus a
journal (``STATE.journal``, state_journal.py) that exists only while a run is going or
after one was killed: every change is appended to it before the run moves on.
``close()`` compacts the journal into the file atomically (temporary file, fsync,
rename, fsync folder).

A lock (``STATE.lock``, state_lock.py) keeps two runs off one state. Every file of a
state is opened without following symbolic links, and only when it is a regular file
(safe_files.py). A state names the manifest it belongs to, by its path relative to the
state file's folder, and refuses another one unless told so.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from kayse_pipeline.bounds import loads_json
from kayse_pipeline.errors import ManifestMismatchError, StateError, TargetMismatchError
from kayse_pipeline.model import Kind
from kayse_pipeline.safe_files import (
    RefusedFile,
    check_path,
    create_new,
    read_bounded,
)
from kayse_pipeline.state_format import (
    FORMAT,
    VERSION,
    Saved,
    Status,
    default_state_path,
    fold,
    manifest_ref,
    normalize_target,
    parse_membership,
    parse_record,
    render_state,
)
from kayse_pipeline.state_journal import Journal, fsync_dir, journal_path
from kayse_pipeline.state_lock import LockHolder, StateLock, lock_holder

SANDBOX_TARGET = "sandbox"

MAX_STATE_BYTES = 1 << 30  # a state of a million records is about 130 MB
MembershipField = Literal["include_ids", "client_ids"]


__all__ = [
    "LockHolder",
    "Saved",
    "StateStore",
    "Status",
    "default_state_path",
    "lock_holder",
    "manifest_ref",
    "normalize_target",
]


class StateStore:
    """The loaded state of one manifest, with its journal and lock."""

    def __init__(self, path: Path, target: str, *, salt: str) -> None:
        self.path = path
        self.target = target
        self.salt = salt
        self.manifest: str | None = None  # manifest_ref of the manifest it belongs to
        self.records: dict[str, Saved] = {}
        # list symbol -> field -> IDs that Kayse has as members through this recipe
        self.memberships: dict[str, dict[str, set[int]]] = {}
        self._journal = Journal(path)
        self._lock: StateLock | None = None
        self._follow_target = False
        self._rebound = False  # bound to its manifest by this run: saved on close
        self.recovered_journal = False
        self.stale_lock: str | None = None

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        target: str,
        *,
        lock: bool = True,
        manifest: Path | None = None,
        other_manifest: bool = False,
        follow_target: bool = False,
    ) -> StateStore:
        """Load the state (file plus any journal left by a stopped run), checking what it is for.

        ``manifest``: the manifest it is used with; a state saved for another one is refused
        unless ``other_manifest``, and then belongs to this one from its next save.
        ``follow_target``: take the saved state's target instead of checking it against
        ``target`` (offline commands, which send nothing).
        """
        store = cls(path, normalize_target(target), salt=secrets.token_hex(8))
        store._follow_target = follow_target
        store._check_files()
        if lock:
            store._lock = StateLock(path)
            stale = store._lock.acquire()
            store.stale_lock = str(stale) if stale is not None else None
        try:
            store._load()
            store._bind(manifest, other_manifest)
            if lock and store.recovered_journal:
                # Fold a dead run's journal in now: its last line may be torn, and appending
                # after a torn line would damage the entry written next.
                store.save()
        except BaseException:
            store._release_lock()
            raise
        return store

    def close(self) -> None:
        """Compact the journal into the state file and drop the lock."""
        try:
            if self._journal.is_open or self._journal.path.exists() or self._rebound:
                self.save()
        finally:
            self._release_lock()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        try:
            self.close()
        except StateError:
            if exc is None:
                raise
            # The error on its way out says more (it may carry IDs to record); the journal
            # that could not be folded in keeps everything for the next run.

    def _check_files(self) -> None:
        """Refuse a state path (or journal) that is a link, a folder, a device or a FIFO."""
        for path in (self.path, self._journal.path):
            try:
                check_path(path)
            except RefusedFile as exc:
                raise StateError(
                    f"{path} {exc.reason}; give --state the path of a state file"
                ) from exc

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _bind(self, manifest: Path | None, other_manifest: bool) -> None:
        """Refuse a state of another manifest (a state that holds nothing binds nothing)."""
        if manifest is None:
            return
        mine = manifest_ref(manifest, self.path)
        holds_ids = bool(self.records) or bool(self.memberships)
        if self.manifest not in (None, mine) and holds_ids and not other_manifest:
            raise ManifestMismatchError(
                f"{self.path} belongs to the manifest {self.manifest}, not {mine}; "
                f"give {mine} a state of its own with --state, or, if {mine} is "
                f"{self.manifest} renamed or moved, add --allow-other-manifest once"
            )
        self._rebound = self.manifest != mine and self.path.exists() and self._lock is not None
        self.manifest = mine

    # -- reading -----------------------------------------------------------------------------

    def _read(self, path: Path) -> str | None:
        try:
            data = read_bounded(path, MAX_STATE_BYTES)
            return None if data is None else data.decode("utf-8")
        except RefusedFile as exc:
            raise StateError(f"{path} {exc.reason}; give --state the path of a state file") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"cannot read {path}: {exc}") from exc

    def _load(self) -> None:
        text = self._read(self.path)
        if text is not None:
            self._load_file(text)
        journal = self._read(self._journal.path)
        if journal is not None:
            self._journal.replay(journal, self._take_header, self._apply)
            self.recovered_journal = True

    def _load_file(self, text: str) -> None:
        try:
            doc = loads_json(text)
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{self.path}:{exc.lineno}:{exc.colno}: state file is not valid JSON ({exc.msg}); "
                "restore it from version control"
            ) from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise StateError(f"{self.path} is not a kayse-pipeline state file")
        if doc.get("version") != VERSION:
            raise StateError(
                f"{self.path} has state format version {doc.get('version')!r}; "
                f"this kayse-pipeline reads version {VERSION}"
            )
        # A state that holds nothing (a first run that reached no record) binds no target.
        holds_ids = bool(doc.get("records")) or bool(doc.get("memberships"))
        if holds_ids:
            self._check_target(self.path, doc.get("target"))
        salt = doc.get("salt")
        records = doc.get("records")
        memberships = doc.get("memberships", {})
        manifest = doc.get("manifest")
        if not isinstance(salt, str) or not isinstance(records, dict):
            raise StateError(f"{self.path}: state file is damaged (salt or records missing)")
        if not isinstance(memberships, dict):
            raise StateError(f"{self.path}: state file is damaged (memberships)")
        if manifest is not None and not isinstance(manifest, str):
            raise StateError(f"{self.path}: state file is damaged (manifest)")
        self.salt, self.manifest = salt, manifest
        for symbol, entry in records.items():
            record = parse_record(entry)
            if record is None:
                raise StateError(f"{self.path}: record {symbol!r} is damaged; restore the file")
            self.records[symbol] = record
        for list_symbol, fields in memberships.items():
            parsed = parse_membership(fields)
            if parsed is None:
                raise StateError(f"{self.path}: memberships of {list_symbol!r} are damaged")
            self.memberships[list_symbol] = parsed

    def _check_target(self, where: Path, saved: Any) -> None:
        """Refuse a state of another target, saying which option selects the right one."""
        if saved == self.target:
            return
        if self._follow_target and isinstance(saved, str):
            self.target = saved
            return
        if saved == SANDBOX_TARGET:
            fix = "add --sandbox to use it"
        elif self.target == SANDBOX_TARGET:
            fix = f"drop --sandbox and give --api-url {saved} to use it"
        else:
            fix = f"give --api-url {saved} to use it"
        raise TargetMismatchError(
            f"{where} belongs to {saved}, not {self.target}; {fix}, "
            f"or --state another file to keep a state for {self.target}"
        )

    def _take_header(self, header: Mapping[str, Any]) -> None:
        """The journal's first line: the target it was written for, and the salt."""
        self._check_target(self._journal.path, header.get("target"))
        self.salt = header["salt"]

    def _apply(self, entry: Mapping[str, Any]) -> None:
        fold(self.records, self.memberships, entry)

    # -- queries -----------------------------------------------------------------------------

    def get(self, symbol: str) -> Saved | None:
        return self.records.get(symbol)

    def id_of(self, symbol: str) -> int | None:
        saved = self.records.get(symbol)
        return saved.id if saved is not None and saved.status == "ok" else None

    def unknown(self) -> list[str]:
        return sorted(s for s, r in self.records.items() if r.status == "unknown")

    def members(self, list_symbol: str, field: str) -> frozenset[int]:
        return frozenset(self.memberships.get(list_symbol, {}).get(field, ()))

    # -- changes (each one journalled and fsynced before it returns) ------------------------

    def _write(self, entry: Mapping[str, Any], *, sync: bool = True) -> None:
        """Journal ``entry`` (with ``sync``, fsynced with every entry before it), then apply it."""
        header = {"target": self.target, "salt": self.salt, "format": FORMAT}
        self._journal.write(entry, header, sync=sync)
        self._apply(entry)

    def mark_pending(self, kind: Kind, items: Iterable[tuple[str, str]]) -> None:
        """Say that a create of these (symbol, fingerprint) pairs is about to be sent."""
        self._write({"op": "pending", "kind": kind, "items": [list(i) for i in items]})

    def save_ids(
        self, kind: Kind, items: Iterable[tuple[str, int, str]], *, sync: bool = True
    ) -> None:
        """Record (symbol, id, fingerprint) triples that Kayse confirmed.

        ``sync=False`` leaves the fsync to the next entry (the next batch's ``pending``) or
        to the end of the run: one fsync per create batch instead of two.
        """
        entry = {"op": "saved", "kind": kind, "items": [list(i) for i in items]}
        self._write(entry, sync=sync)

    def release(self, symbols: Iterable[str]) -> None:
        """Forget symbols: a create that Kayse certainly did not act on, or a user's decision."""
        self._write({"op": "released", "symbols": list(symbols)})

    def record_members(
        self,
        list_symbol: str,
        field: MembershipField,
        *,
        add: Iterable[int] = (),
        remove: Iterable[int] = (),
        reset: bool = False,
    ) -> None:
        """Record membership changes that Kayse confirmed."""
        entry: dict[str, Any] = {"op": "members", "list": list_symbol, "field": field}
        entry.update(add=sorted(add), remove=sorted(remove))
        if reset:
            entry["reset"] = True
        self._write(entry)

    # -- writing the file --------------------------------------------------------------------

    def render(self) -> str:
        """The state file's text: stable order, one record a line, so that diffs stay small."""
        head = {"format": FORMAT, "version": VERSION, "target": self.target, "salt": self.salt}
        if self.manifest is not None:
            head["manifest"] = self.manifest
        return render_state(head, self.records, self.memberships)

    def save(self) -> None:
        """Write the whole state atomically, then drop the journal it absorbed."""
        text = self.render()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with os.fdopen(_create(tmp), "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            with contextlib.suppress(OSError):
                self._journal.sync()  # the journal is now the only copy of the run's IDs
            raise StateError(
                f"cannot save {self.path}: {exc.strerror or exc}; the journal "
                f"{self._journal.path.name} still holds every ID, run again once it can be written"
            ) from exc
        except BaseException:  # Ctrl-C: the file and the journal are as they were
            with contextlib.suppress(OSError):
                tmp.unlink()
            with contextlib.suppress(OSError):
                self._journal.sync()
            raise
        self._journal.remove()
        fsync_dir(self.path.parent)


def _create(path: Path) -> int:
    try:
        return create_new(path)
    except RefusedFile as exc:
        raise OSError(f"{path.name} {exc.reason}") from exc


def recorded_target(path: Path) -> str | None:
    """The target a state names: its journal's header (a run that never folded), else its file."""
    for source, line_only in ((journal_path(path), True), (path, False)):
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.readline() if line_only else handle.read()
            doc = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("target"), str):
            return str(doc["target"])
    return None
