"""The sandbox's records in SQLite: one file per sandbox folder, WAL, a transaction per request."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from kayse_pipeline.errors import SandboxError

SCHEMA_VERSION: Final = "1"
DB_NAME: Final = "sandbox.sqlite3"
TABLES: Final = ("clients", "cases", "case_lists", "campaigns")

# Columns copied out of a record's body so that list filters can be evaluated in SQL.
_INDEXED: Final[dict[str, tuple[str, ...]]] = {"cases": ("type", "status")}

# AUTOINCREMENT: Kayse never hands out the id of a deleted record again.
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clients (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT, status TEXT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS case_lists (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS client_cases (
    client_id INTEGER NOT NULL, case_id INTEGER NOT NULL, PRIMARY KEY (client_id, case_id));
CREATE INDEX IF NOT EXISTS client_cases_by_case ON client_cases (case_id);
CREATE INDEX IF NOT EXISTS cases_by_number ON cases (json_extract(body, '$.case_number'));
CREATE TABLE IF NOT EXISTS list_overrides (
    list_id INTEGER NOT NULL, case_id INTEGER NOT NULL, included INTEGER NOT NULL,
    PRIMARY KEY (list_id, case_id));
CREATE INDEX IF NOT EXISTS list_overrides_by_case ON list_overrides (case_id);
CREATE TABLE IF NOT EXISTS rate_windows (
    bucket TEXT PRIMARY KEY, started REAL NOT NULL, used INTEGER NOT NULL);
"""

# Dropping a table also drops its AUTOINCREMENT counter: ids start at 1 again.
_DROP: Final = """
DROP TABLE IF EXISTS clients; DROP TABLE IF EXISTS cases; DROP TABLE IF EXISTS case_lists;
DROP TABLE IF EXISTS campaigns; DROP TABLE IF EXISTS client_cases;
DROP TABLE IF EXISTS list_overrides; DROP TABLE IF EXISTS rate_windows; DROP TABLE IF EXISTS meta;
"""


def database_path(directory: Path) -> Path:
    """The SQLite file inside a sandbox folder."""
    return directory / DB_NAME


class Store:
    """Rows of the four record kinds, their links, list overrides and rate-limit windows."""

    def __init__(self, directory: Path, *, check_format: bool = True) -> None:
        """Open (creating) the sandbox in ``directory``; ``check_format=False`` only to reset."""
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            ignore = directory / ".gitignore"
            if not ignore.exists():
                # The folder holds made-up personal data: keep it out of the user's repository.
                ignore.write_text("*\n", encoding="utf-8")
            self._db = sqlite3.connect(
                database_path(directory), isolation_level=None, check_same_thread=False, timeout=10
            )
        except (OSError, sqlite3.Error) as exc:
            raise SandboxError(f"cannot open the sandbox in {directory}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable against a crash
            if check_format:
                self._check_schema()
        except sqlite3.Error as exc:
            self._db.close()
            raise SandboxError(f"cannot open the sandbox in {directory}: {exc}") from exc
        except SandboxError:
            self._db.close()
            raise

    def _check_schema(self) -> None:
        with self.transaction():
            self._script(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise SandboxError(
                    f"the sandbox in {self.directory} has another format ({row[0]}); "
                    "empty it with `kayse-pipeline sandbox reset`"
                )

    def _script(self, script: str) -> None:
        # Not executescript(): it would COMMIT first and break the surrounding transaction.
        for statement in script.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; IMMEDIATE so that concurrent processes queue instead of failing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: undone on error while the outer one (the rate count) stays."""
        self._db.execute("SAVEPOINT handler")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO handler")
            self._db.execute("RELEASE handler")
            raise
        self._db.execute("RELEASE handler")

    def reset(self) -> None:
        """Drop every record, link, override and rate window; ids start at 1 again."""
        with self.transaction():
            self._script(_DROP)
        self._check_schema()

    # -- records -------------------------------------------------------------------------------

    def insert(self, table: str, body: dict[str, Any]) -> int:
        """Store a new record and return its id."""
        columns = _INDEXED.get(table, ())
        names = ", ".join(("body", *columns))
        marks = ", ".join("?" * (len(columns) + 1))
        values = (json.dumps(body), *(body.get(c) for c in columns))
        cursor = self._db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def put(self, table: str, record_id: int, body: dict[str, Any]) -> None:
        """Replace the body of an existing record."""
        columns = _INDEXED.get(table, ())
        sets = ", ".join(f"{c} = ?" for c in ("body", *columns))
        values = (json.dumps(body), *(body.get(c) for c in columns), record_id)
        self._db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", values)

    def get(self, table: str, record_id: int) -> dict[str, Any] | None:
        """The body of one record, or None."""
        row = self._db.execute(f"SELECT body FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def rows(self, table: str) -> list[tuple[int, dict[str, Any]]]:
        """Every record of a table as (id, body), oldest first."""
        query = f"SELECT id, body FROM {table} ORDER BY id"
        return [(i, json.loads(b)) for i, b in self._db.execute(query)]

    def existing(self, table: str, ids: Iterable[int]) -> set[int]:
        """Which of these ids name records of the table."""
        wanted = sorted(set(ids))
        found: set[int] = set()
        for start in range(0, len(wanted), 500):  # stay below SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT id FROM {table} WHERE id IN ({marks})"
            found.update(row[0] for row in self._db.execute(query, chunk))
        return found

    def case_numbered(self, case_number: str) -> int | None:
        """The id of the case that has this case_number, or None."""
        query = "SELECT id FROM cases WHERE json_extract(body, '$.case_number') = ? LIMIT 1"
        row = self._db.execute(query, (case_number,)).fetchone()
        return None if row is None else int(row[0])

    def delete(self, table: str, record_id: int) -> bool:
        """Remove one record; False when there was none."""
        return self._db.execute(f"DELETE FROM {table} WHERE id = ?", (record_id,)).rowcount > 0

    # -- client-case links (one relation, read from either side) -------------------------------

    def cases_of_client(self, client_id: int) -> list[int]:
        """Ids of the cases linked to a client."""
        query = "SELECT case_id FROM client_cases WHERE client_id = ? ORDER BY case_id"
        return [row[0] for row in self._db.execute(query, (client_id,))]

    def clients_of_case(self, case_id: int) -> list[int]:
        """Ids of the clients linked to a case."""
        query = "SELECT client_id FROM client_cases WHERE case_id = ? ORDER BY client_id"
        return [row[0] for row in self._db.execute(query, (case_id,))]

    def set_cases_of_client(self, client_id: int, case_ids: Iterable[int]) -> None:
        """Make exactly these cases linked to the client."""
        self._db.execute("DELETE FROM client_cases WHERE client_id = ?", (client_id,))
        self._db.executemany(
            "INSERT OR IGNORE INTO client_cases VALUES (?, ?)", ((client_id, c) for c in case_ids)
        )

    def set_clients_of_case(self, case_id: int, client_ids: Iterable[int]) -> None:
        """Make exactly these clients linked to the case."""
        self._db.execute("DELETE FROM client_cases WHERE case_id = ?", (case_id,))
        self._db.executemany(
            "INSERT OR IGNORE INTO client_cases VALUES (?, ?)", ((c, case_id) for c in client_ids)
        )

    def forget_case(self, case_id: int) -> None:
        """Remove a case's links and list overrides (the case row goes separately)."""
        self._db.execute("DELETE FROM client_cases WHERE case_id = ?", (case_id,))
        self._db.execute("DELETE FROM list_overrides WHERE case_id = ?", (case_id,))

    # -- case-list membership: a filter plus per-case overrides --------------------------------

    def set_overrides(self, list_id: int, include: Iterable[int], exclude: Iterable[int]) -> None:
        """Replace a list's overrides with these included and excluded cases."""
        self._db.execute("DELETE FROM list_overrides WHERE list_id = ?", (list_id,))
        self.override(list_id, exclude, included=False)
        self.override(list_id, include, included=True)

    def override(self, list_id: int, case_ids: Iterable[int], *, included: bool) -> None:
        """Force cases into (included) or out of (not included) a list."""
        self._db.executemany(
            "INSERT OR REPLACE INTO list_overrides VALUES (?, ?, ?)",
            ((list_id, c, int(included)) for c in case_ids),
        )

    def drop_overrides(self, list_id: int, case_ids: Iterable[int]) -> None:
        """Forget any override of these cases on a list."""
        self._db.executemany(
            "DELETE FROM list_overrides WHERE list_id = ? AND case_id = ?",
            ((list_id, c) for c in case_ids),
        )

    def members(
        self, list_id: int, types: list[str] | None, statuses: list[str] | None, *, filtered: bool
    ) -> list[int]:
        """A list's cases: those its filter matches, plus included, minus excluded overrides."""
        matched = "SELECT id FROM cases WHERE 0"
        params: list[Any] = []
        if filtered:
            conditions = ["1"]
            for column, names in (("type", types), ("status", statuses)):
                if names is not None:
                    conditions.append(f"{column} IN ({', '.join('?' * len(names))})")
                    params.extend(names)
            matched = f"SELECT id FROM cases WHERE {' AND '.join(conditions)}"
        query = (
            f"SELECT id FROM ({matched} UNION SELECT case_id FROM list_overrides"
            " WHERE list_id = ? AND included = 1) EXCEPT SELECT case_id FROM list_overrides"
            " WHERE list_id = ? AND included = 0 ORDER BY id"
        )
        return [row[0] for row in self._db.execute(query, (*params, list_id, list_id))]

    # -- rate-limit windows -------------------------------------------------------------------

    def rate_window(self, bucket: str) -> tuple[float, int] | None:
        """(start, requests counted) of a bucket's current window, or None."""
        query = "SELECT started, used FROM rate_windows WHERE bucket = ?"
        row = self._db.execute(query, (bucket,)).fetchone()
        return None if row is None else (float(row[0]), int(row[1]))

    def save_rate_window(self, bucket: str, started: float, used: int) -> None:
        """Record a bucket's window start and count."""
        self._db.execute(
            "INSERT OR REPLACE INTO rate_windows VALUES (?, ?, ?)", (bucket, started, used)
        )
