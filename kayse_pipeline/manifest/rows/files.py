"""Reading data rows from CSV and JSON Lines files, one row at a time, with positions.

Only the values that templates use are kept from each row, in slot order. Positions are
1-based: a row's LINE is where it starts in the file (the CSV header is line 1) and its
COLUMN the CSV column of a value (always 1 in JSON Lines).

CSV: UTF-8 (a byte-order mark is allowed), comma-separated, double quotes around values
that hold commas, quotes or line breaks; the first line names the columns. Blank lines
and rows whose every cell is blank are skipped.
JSON Lines: one JSON object per line; blank lines are skipped. A key missing from a row
is an empty value; a key that no row has is reported at the template that uses it.

A data file is read only through ``open_data_file``: inside the manifest's folder once
links are followed (unless the manifest allows otherwise), a regular file (never a
device or a FIFO), at most MAX_DATA_BYTES, each line at most MAX_LINE_BYTES.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal

from kayse_pipeline.bounds import loads_json
from kayse_pipeline.safe_files import RefusedFile, human_size, open_regular

Format = Literal["csv", "jsonl"]
FORMATS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Far above any intake export (a million leads are about 200 MB), far below what hurts.
MAX_DATA_BYTES = 1 << 30
MAX_LINE_BYTES = 1 << 20


def open_data_file(path: Path, *, folder: Path, allow_outside: bool) -> BinaryIO:
    """The data file at ``path`` (already joined to the manifest's folder), opened for reading.

    Refused (RefusedFile): a file outside ``folder`` once every link is followed (unless
    ``allow_outside``), anything but a regular file, a file larger than MAX_DATA_BYTES.
    Other OSErrors (a missing file) pass through.
    """
    real = Path(os.path.realpath(path))
    if not allow_outside and not real.is_relative_to(os.path.realpath(folder)):
        raise RefusedFile("is outside the manifest's folder")
    fd = open_regular(real, os.O_RDONLY)
    if os.fstat(fd).st_size > MAX_DATA_BYTES:
        os.close(fd)
        raise RefusedFile(f"is larger than {human_size(MAX_DATA_BYTES)}")
    return os.fdopen(fd, "rb")


class _Unreadable(Exception):
    """A line too long, or a file that grew past its bound while it was read."""


@dataclass(slots=True)
class Row:
    """One data row: the line it starts on and its values in slot order."""

    line: int
    cells: list[Any]


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Something wrong with the file itself at one place.

    ``rest``: the problem stops the reading of the file, rather than spoiling one row.
    """

    line: int
    column: int
    message: str
    rest: bool = False


class DataFile:
    """An open data file: ``columns`` maps each slot to its CSV column once the header is read."""

    def __init__(
        self,
        path: Path,
        fmt: Format,
        names: Sequence[str],
        *,
        folder: Path,
        allow_outside: bool = False,
    ) -> None:
        self.path = path
        self.folder = folder
        self.allow_outside = allow_outside
        self.format = fmt
        self.names = list(names)
        self.columns: list[int] = [1] * len(self.names)
        self.header: list[str] = []
        self.missing: list[str] = []  # names the file does not have (known once it is read)
        self.header_problems: list[FileProblem] = []
        self._handle: IO[bytes] | None = None
        self._reader: Any = None
        self._width = 0
        self.line = 0  # the last line read

    def open(self) -> None:
        """Open the file and read the CSV header; raise RefusedFile or OSError when it cannot."""
        self._handle = open_data_file(
            self.path, folder=self.folder, allow_outside=self.allow_outside
        )
        if self.format == "jsonl":
            return
        self._reader = csv.reader(self._text_lines(), strict=True)
        try:
            header = next(self._reader, None)
        except (csv.Error, UnicodeDecodeError, _Unreadable) as exc:
            self.header_problems.append(FileProblem(self._bad_line(exc, 1), 1, _csv_problem(exc)))
            return
        if not header or not any(cell.strip() for cell in header):
            self.header_problems.append(
                FileProblem(1, 1, "no header: the first line must name the columns")
            )
            return
        self._width = len(header)
        self.header = [cell.strip() for cell in header]
        where: dict[str, int] = {}
        for number, name in enumerate(header, start=1):
            where.setdefault(name.strip(), number)
        for slot, name in enumerate(self.names):
            if name not in where:
                self.missing.append(name)
                continue
            self.columns[slot] = where[name]
            again = [n for n, cell in enumerate(header, start=1) if cell.strip() == name]
            if len(again) > 1:
                self.header_problems.append(
                    FileProblem(
                        1, again[1], f"column '{name}' appears twice (also column {again[0]})"
                    )
                )

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _lines(self) -> Iterator[bytes]:
        """The file's lines as bytes, each within MAX_LINE_BYTES, in all within MAX_DATA_BYTES."""
        assert self._handle is not None
        total = 0
        while line := self._handle.readline(MAX_LINE_BYTES + 1):
            self.line += 1
            total += len(line)
            if len(line) > MAX_LINE_BYTES:
                raise _Unreadable(f"line longer than {human_size(MAX_LINE_BYTES)}")
            if total > MAX_DATA_BYTES:
                raise _Unreadable(f"file grew past {human_size(MAX_DATA_BYTES)} while read")
            yield line

    def _text_lines(self) -> Iterator[str]:
        """The lines for the CSV reader: UTF-8, a byte-order mark dropped, line ends kept."""
        for raw in self._lines():
            if self.line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            yield raw.decode("utf-8")  # a UTF-8 character never spans a line break

    def rows(self) -> Iterator[Row | FileProblem]:
        """Every row in file order, or the problem that makes a row (or the rest) unreadable."""
        if self._handle is None or self.header_problems or self.missing:
            return iter(())
        return self._jsonl() if self.format == "jsonl" else self._csv()

    def _csv(self) -> Iterator[Row | FileProblem]:
        reader, width = self._reader, self._width
        columns = [column - 1 for column in self.columns]
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError, _Unreadable) as exc:
                yield FileProblem(self._bad_line(exc, line), 1, _csv_problem(exc), rest=True)
                return  # the reader cannot find the start of the next row again
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) < width or any(cell.strip() for cell in cells[width:]):
                yield FileProblem(
                    line,
                    min(len(cells), width) + 1,
                    f"has {len(cells)} values, but the header names {width} columns",
                )
                continue
            yield Row(line, [cells[column] for column in columns])

    def _bad_line(self, exc: Exception, line: int) -> int:
        """The line of a problem: where the reader stood, or the line that could not be read."""
        return self.line if isinstance(exc, UnicodeDecodeError | _Unreadable) else line

    def _jsonl(self) -> Iterator[Row | FileProblem]:
        names = self.names
        seen = [False] * len(names)
        read = 0
        lines = self._lines()
        while True:
            try:
                raw = next(lines)
            except StopIteration:
                break
            except _Unreadable as exc:
                yield FileProblem(self.line, 1, str(exc))
                return
            line = self.line
            if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                item = loads_json(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield FileProblem(line, 1, "not UTF-8 text")
                continue
            except json.JSONDecodeError as exc:
                yield FileProblem(line, exc.colno, f"not valid JSON: {exc.msg}")
                continue
            if not isinstance(item, dict):
                yield FileProblem(line, 1, f"must be a JSON object, not {_json_kind(item)}")
                continue
            read += 1
            cells = []
            for slot, name in enumerate(names):
                if name in item:
                    seen[slot] = True
                cells.append(item.get(name))
            yield Row(line, cells)
        if read:  # a file without rows has no keys to miss
            self.missing = [name for slot, name in enumerate(names) if not seen[slot]]


def _csv_problem(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, _Unreadable):
        return str(exc)
    return f"not valid CSV: {exc}"


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return "a number"
