"""The state store: which Kayse ID each symbol got, durably, without personal data.

The state is one JSON file meant to be committed beside its manifest, plus a
journal (``STATE.journal``, JSON Lines) that exists only while a run is going or
after one was killed. Every change is appended to the journal before the run moves
on, so a killed process loses no ID that Kayse returned, and saving costs O(batch),
never O(records). Each entry is fsynced before the call that returns, except the IDs
of a create batch (``save_ids(..., sync=False)``): they reach the disk with the next
batch's ``pending`` entry, in one fsync, or when the run ends. A power cut in
between leaves that batch ``pending``, which is ``unknown``, never a duplicate.
``close()`` compacts the journal into the file atomically (temporary file, fsync,
rename, fsync folder).

A create is journalled as ``pending`` before it is sent. A pending entry that
was never resolved (the process died, or the answer was lost) makes its records
``unknown``: no later run creates them again until a person says what Kayse has
(``state set`` or ``state forget``).

A lock (``STATE.lock``, ``flock``) keeps two runs off one state. The operating
system drops the lock of a killed process, so a stale lock never blocks; the
lock file names the run that held it, for the message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import secrets
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from kayse_pipeline.bounds import is_id, loads_json
from kayse_pipeline.errors import StateError, StateLockedError, TargetMismatchError
from kayse_pipeline.model import KIND_ORDER, Kind

FORMAT = "kayse-pipeline-state"
VERSION = 1
SANDBOX_TARGET = "sandbox"

Status = Literal["ok", "unknown"]
MembershipField = Literal["include_ids", "client_ids"]


@dataclass(frozen=True, slots=True)
class Saved:
    """What the state knows of a symbol: kind, ID (None while unknown) and fingerprint."""

    kind: Kind
    id: int | None
    fingerprint: str
    status: Status = "ok"


def normalize_target(url: str) -> str:
    """The form of an API URL that states compare: no trailing slash, lower-case scheme and host."""
    if url == SANDBOX_TARGET:
        return url
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rstrip("/")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def default_state_path(manifest: Path, *, sandbox: bool) -> Path:
    """Beside the manifest, named after it; the sandbox has a file of its own."""
    suffix = ".sandbox.state.json" if sandbox else ".state.json"
    return manifest.with_name(manifest.stem + suffix)


class StateStore:
    """The loaded state of one manifest, with its journal and lock."""

    def __init__(self, path: Path, target: str, *, salt: str) -> None:
        self.path = path
        self.target = target
        self.salt = salt
        self.records: dict[str, Saved] = {}
        # list symbol -> field -> IDs that Kayse has as members through this recipe
        self.memberships: dict[str, dict[str, set[int]]] = {}
        self._journal: IO[str] | None = None
        self._write_failed = False
        self._unsynced = False  # the journal holds entries written but not yet fsynced
        self._lock: IO[str] | None = None
        self.recovered_journal = False
        self.stale_lock: str | None = None

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, target: str, *, lock: bool = True) -> StateStore:
        """Load the state (file plus any journal left by a stopped run), checking its target."""
        target = normalize_target(target)
        store = cls(path, target, salt=secrets.token_hex(8))
        if lock:
            store._acquire_lock()
        try:
            store._load()
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
            if self._journal is not None or self._journal_path.exists():
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

    @property
    def _journal_path(self) -> Path:
        return self.path.with_name(self.path.name + ".journal")

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _acquire_lock(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self._lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held until close
        except OSError as exc:
            raise StateError(f"cannot lock {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise StateLockedError(
                    f"{self.path} is in use by another kayse-pipeline run ({holder}); "
                    "wait for it to finish (a killed run releases the lock by itself)"
                ) from exc
            raise StateError(f"cannot lock {self.path}: {exc.strerror}") from exc
        handle.seek(0)
        previous = handle.read().strip()
        if previous:
            self.stale_lock = previous  # the run that held it died without releasing the file
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}")
        handle.flush()
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is None:
            return
        with contextlib.suppress(OSError):
            self._lock.seek(0)
            self._lock.truncate()
            self._lock.flush()
        with contextlib.suppress(OSError):
            self._lock_path.unlink()
        self._lock.close()
        self._lock = None

    # -- reading -----------------------------------------------------------------------------

    def _load(self) -> None:
        if self.path.exists():
            self._load_file()
        if self._journal_path.exists():
            self._replay_journal()
            self.recovered_journal = True

    def _load_file(self) -> None:
        try:
            doc = loads_json(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"cannot read state file {self.path}: {exc}") from exc
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
        saved_target = doc.get("target")
        # A state that holds nothing (a first run that reached no record) binds no target.
        holds_ids = bool(doc.get("records")) or bool(doc.get("memberships"))
        if saved_target != self.target and holds_ids:
            raise TargetMismatchError(
                f"{self.path} belongs to {saved_target}, not {self.target}; "
                "use --state to keep one state file per target"
            )
        salt = doc.get("salt")
        records = doc.get("records")
        memberships = doc.get("memberships", {})
        if not isinstance(salt, str) or not isinstance(records, dict):
            raise StateError(f"{self.path}: state file is damaged (salt or records missing)")
        if not isinstance(memberships, dict):
            raise StateError(f"{self.path}: state file is damaged (memberships)")
        self.salt = salt
        for symbol, entry in records.items():
            self.records[symbol] = self._parse_record(symbol, entry)
        for list_symbol, fields in memberships.items():
            self.memberships[list_symbol] = self._parse_membership(list_symbol, fields)

    def _parse_record(self, symbol: str, entry: Any) -> Saved:
        ok = (
            isinstance(entry, dict)
            and entry.get("kind") in KIND_ORDER
            and isinstance(entry.get("fingerprint"), str)
            and entry.get("status", "ok") in ("ok", "unknown")
        )
        record_id = entry.get("id") if isinstance(entry, dict) else None
        status = entry.get("status", "ok") if isinstance(entry, dict) else "ok"
        if ok and status == "ok":
            ok = is_id(record_id)
        if not ok:
            raise StateError(f"{self.path}: record {symbol!r} is damaged; restore the file")
        if status == "ok":
            return Saved(entry["kind"], record_id, entry["fingerprint"])
        return Saved(entry["kind"], None, entry["fingerprint"], "unknown")

    def _parse_membership(self, list_symbol: str, fields: Any) -> dict[str, set[int]]:
        if not isinstance(fields, dict) or not set(fields) <= {"include_ids", "client_ids"}:
            raise StateError(f"{self.path}: memberships of {list_symbol!r} are damaged")
        parsed: dict[str, set[int]] = {}
        for name, ids in fields.items():
            if not isinstance(ids, list) or not all(is_id(i) for i in ids):
                raise StateError(f"{self.path}: memberships of {list_symbol!r} are damaged")
            parsed[name] = set(ids)
        return parsed

    def _replay_journal(self) -> None:
        try:
            lines = self._journal_path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"cannot read {self._journal_path}: {exc}") from exc
        for number, line in enumerate(lines, start=1):
            try:
                entry = loads_json(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):
                    break  # the process died while writing this entry; it never took effect
                raise StateError(
                    f"{self._journal_path}:{number}: journal entry is damaged"
                ) from exc
            damaged = StateError(f"{self._journal_path}:{number}: journal entry is damaged")
            if not isinstance(entry, dict):
                raise damaged
            if number == 1:
                if entry.get("format") != FORMAT or not isinstance(entry.get("salt"), str):
                    raise damaged
                if entry.get("target") != self.target:
                    raise TargetMismatchError(
                        f"{self._journal_path} belongs to {entry.get('target')}, not {self.target}"
                    )
                self.salt = entry["salt"]
                continue
            try:
                self._apply(_checked(entry))
            except (KeyError, TypeError, ValueError) as exc:
                raise damaged from exc

    def _apply(self, entry: Mapping[str, Any]) -> None:
        op = entry["op"]
        if op == "pending":
            for symbol, fingerprint in entry["items"]:
                self.records[symbol] = Saved(entry["kind"], None, fingerprint, "unknown")
        elif op == "saved":
            for symbol, record_id, fingerprint in entry["items"]:
                self.records[symbol] = Saved(entry["kind"], record_id, fingerprint)
        elif op == "released":
            for symbol in entry["symbols"]:
                self.records.pop(symbol, None)
        elif op == "members":
            fields = self.memberships.setdefault(entry["list"], {})
            ids = fields.setdefault(entry["field"], set())
            if entry.get("reset"):
                ids.clear()
            ids.update(entry.get("add", ()))
            ids.difference_update(entry.get("remove", ()))
            if not ids:
                del fields[entry["field"]]
            if not fields:
                del self.memberships[entry["list"]]
        else:
            raise StateError(f"{self._journal_path}: unknown journal entry {op!r}")

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
        """Append ``entry``; with ``sync`` fsync it, and every entry written before it."""
        if self._write_failed:
            # A failed write may have left a torn line: only the end of a journal may be torn.
            raise StateError(f"cannot write {self._journal_path} since an earlier write failed")
        try:
            journal = self._journal or self._open_journal()
            journal.write(json.dumps(entry, separators=(",", ":")) + "\n")
            journal.flush()
            if sync:
                os.fsync(journal.fileno())
            self._unsynced = not sync
        except OSError as exc:
            self._write_failed = True
            raise StateError(
                f"cannot write {self._journal_path}: {exc.strerror}; "
                "nothing more will be sent until the state can be saved"
            ) from exc
        self._apply(entry)

    def _open_journal(self) -> IO[str]:
        fresh = not self._journal_path.exists()
        self._journal = open(self._journal_path, "a", encoding="utf-8")  # noqa: SIM115
        if fresh:
            header = {"target": self.target, "salt": self.salt, "format": FORMAT}
            self._journal.write(json.dumps(header) + "\n")
            # The new file's name must survive a power cut, not only its content.
            self._journal.flush()
            _fsync_dir(self.path.parent)
        return self._journal

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

    def sync(self) -> None:
        """Fsync the journal's entries written without it, if any."""
        if self._unsynced and self._journal is not None:
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._unsynced = False

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
        lines = ["{"]
        lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
        lines += _section("records", list(_record_lines(self.records)), last=False)
        lines += _section("memberships", list(_membership_lines(self.memberships)), last=True)
        lines.append("}")
        return "\n".join(line for line in lines if line) + "\n"

    def save(self) -> None:
        """Write the whole state atomically, then drop the journal it absorbed."""
        text = self.render()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            with contextlib.suppress(OSError):
                self.sync()  # the journal is now the only copy of the run's IDs
            raise StateError(
                f"cannot save {self.path}: {exc.strerror}; the journal "
                f"{self._journal_path.name} still holds every ID, run again once it can be written"
            ) from exc
        except BaseException:  # Ctrl-C: the file and the journal are as they were
            with contextlib.suppress(OSError):
                tmp.unlink()
            with contextlib.suppress(OSError):
                self.sync()
            raise
        if self._journal is not None:
            with contextlib.suppress(OSError):  # a failed write's data may still be buffered
                self._journal.close()
            self._journal = None
        with contextlib.suppress(FileNotFoundError):
            self._journal_path.unlink()
        _fsync_dir(self.path.parent)


def _checked(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry whose fields have the types ``_apply`` relies on (else ValueError)."""
    op = entry["op"]
    ok = True
    if op in ("pending", "saved"):
        width = 2 if op == "pending" else 3
        ok = entry["kind"] in KIND_ORDER and all(
            isinstance(item, list) and len(item) == width and isinstance(item[0], str)
            for item in entry["items"]
        )
        if op == "saved":
            ok = ok and all(type(item[1]) is int for item in entry["items"])
    elif op == "released":
        ok = all(isinstance(symbol, str) for symbol in entry["symbols"])
    elif op == "members":
        ok = isinstance(entry["list"], str) and entry["field"] in ("include_ids", "client_ids")
        ok = ok and all(type(i) is int for i in [*entry.get("add", ()), *entry.get("remove", ())])
    if not ok:
        raise ValueError(op)
    return entry


def _section(name: str, entries: list[str], *, last: bool) -> list[str]:
    comma = "" if last else ","
    if not entries:
        return [f'  "{name}": {{}}{comma}']
    return [f'  "{name}": {{', ",\n".join(entries), f"  }}{comma}"]


def _record_lines(records: Mapping[str, Saved]) -> Iterator[str]:
    for symbol in sorted(records):
        saved = records[symbol]
        entry: dict[str, Any] = {"kind": saved.kind}
        if saved.status == "ok":
            entry["id"] = saved.id
        else:
            entry["status"] = saved.status
        entry["fingerprint"] = saved.fingerprint
        yield f"    {json.dumps(symbol)}: {json.dumps(entry)}"


def _membership_lines(memberships: Mapping[str, Mapping[str, set[int]]]) -> Iterator[str]:
    for list_symbol in sorted(memberships):
        fields = {name: sorted(ids) for name, ids in sorted(memberships[list_symbol].items())}
        yield f"    {json.dumps(list_symbol)}: {json.dumps(fields)}"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
