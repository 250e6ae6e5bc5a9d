"""The validated, frozen model of a manifest; nothing past ``manifest.py`` sees raw YAML."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

Kind = Literal["contact", "case", "list", "campaign"]

# The seed guide's order of creation: each kind may only point at kinds before it.
KIND_ORDER: tuple[Kind, ...] = ("contact", "case", "list", "campaign")

SECTION_OF_KIND: Mapping[Kind, str] = MappingProxyType(
    {"contact": "contacts", "case": "cases", "list": "lists", "campaign": "campaigns"}
)
KIND_OF_SECTION: Mapping[str, Kind] = MappingProxyType({v: k for k, v in SECTION_OF_KIND.items()})

# Fields whose values are references: a string is a symbol, an integer an existing Kayse ID.
REFERENCE_FIELDS: Mapping[Kind, Mapping[str, Kind]] = MappingProxyType(
    {
        "contact": MappingProxyType({}),
        "case": MappingProxyType({"client_ids": "contact"}),
        "list": MappingProxyType(
            {"include_ids": "case", "client_ids": "contact", "exclude_ids": "case"}
        ),
        "campaign": MappingProxyType({"case_list_id": "list"}),
    }
)

# A list's membership fields: applied after the list exists, by attach / append calls.
MEMBERSHIP_FIELDS: Mapping[str, Kind] = MappingProxyType(
    {"include_ids": "case", "client_ids": "contact"}
)

# Reference fields that hold one reference rather than a list of them.
SINGLE_REFERENCE_FIELDS = frozenset({"case_list_id"})

# A lead's personal data (Kayse's contact fields): a message places it, never quotes it.
PERSONAL_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "mobile",
        "phone",
        "date_of_birth",
        "date_of_death",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "gender",
        "meta",
    }
)

Ref = str | int
"""A reference as written in a manifest: a symbol (str) or the ID of an existing record (int)."""

JSON = Any
"""A JSON value as the API takes it (str, int, float, bool, None, list, dict)."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a node stands in its file (1-based)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Record:
    """One desired Kayse record, after interpolation and defaults, with references unresolved.

    ``fields`` holds every API field that is not a reference field; ``refs`` holds the
    reference fields (``case_list_id`` as a one-element tuple). ``hidden`` names the fields
    whose value a data row filled from a column of personal data: never shown in a message.
    """

    kind: Kind
    symbol: str
    fields: Mapping[str, JSON]
    refs: Mapping[str, tuple[Ref, ...]]
    position: Position
    hidden: frozenset[str] = frozenset()

    def referenced_symbols(self) -> Iterator[str]:
        """Every symbol this record points at, membership included."""
        for values in self.refs.values():
            for value in values:
                if isinstance(value, str):
                    yield value

    def dependencies(self) -> Iterator[str]:
        """Symbols that must exist before this record can be created."""
        for name, values in self.refs.items():
            if self.kind == "list" and name in MEMBERSHIP_FIELDS:
                continue  # membership is applied after the list exists
            for value in values:
                if isinstance(value, str):
                    yield value


@dataclass(frozen=True, slots=True)
class Account:
    """What the target account has configured, as the manifest's ``account`` block says."""

    case_types: tuple[str, ...] | None = None
    case_statuses: tuple[str, ...] | None = None
    phone_region: str = "US"  # for phone numbers written without +
    duplicates: Literal["warn", "error"] = "warn"  # contacts sharing a mobile or an email


@dataclass(frozen=True, order=True, slots=True)
class Note:
    """A data row that loading left out (``on_bad_row: skip``), and why.

    ``column`` is 0: the note is about the whole row. Like errors, a note gives a place
    and never a lead's value.
    """

    file: str
    line: int
    column: int
    message: str


@dataclass(frozen=True)
class LoadNotes:
    """What loading a manifest reports besides errors and warnings."""

    skipped_rows: tuple[Note, ...] = ()
    normalised: int = 0  # phone and email values rewritten (E.164, trimmed, domain lowercased)


class RecordTable(Mapping[str, Record]):
    """A read-only table of a manifest's records, keyed by symbol, answering by kind.

    ``InlineRecords`` holds built Records; a table of data rows (``manifest.rows``) keeps
    hundreds of thousands of records in a compact form, builds each Record when asked
    for, and answers these questions without building every Record.
    """

    def kind_of(self, symbol: str) -> Kind | None:
        """The kind of a symbol, or None when the table does not hold it."""
        record = self.get(symbol)
        return record.kind if record is not None else None

    def of_kind(self, kind: Kind) -> Iterator[Record]:
        """The records of one kind, in the table's order."""
        return (record for record in self.values() if record.kind == kind)

    def count(self, kind: Kind) -> int:
        """How many records of one kind the table holds."""
        return sum(1 for _ in self.of_kind(kind))

    def references(self, symbol: str, *, membership: bool = True) -> Iterator[str]:
        """A record's ``referenced_symbols()`` (``dependencies()`` without ``membership``)."""
        record = self[symbol]
        return record.referenced_symbols() if membership else record.dependencies()


class InlineRecords(RecordTable):
    """Records written in the manifest itself, all built."""

    def __init__(self, records: Mapping[str, Record]) -> None:
        self._records = records

    def __getitem__(self, symbol: str) -> Record:
        return self._records[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


@dataclass(frozen=True)
class Manifest:
    """A validated manifest: every record of every kind, keyed by symbol.

    ``records`` is a read-only mapping: a ``MappingProxyType`` of inline records, or a
    ``RecordTable`` that also holds the records of data rows, built on access. ``table``
    answers questions by kind for either.
    """

    path: Path
    account: Account
    records: Mapping[str, Record]
    extra: Mapping[str, JSON] = field(default_factory=lambda: MappingProxyType({}))
    notes: LoadNotes = field(default_factory=LoadNotes)
    keep_members: frozenset[str] = frozenset()  # lists with ``prune: false``
    table: RecordTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        records = self.records
        table = records if isinstance(records, RecordTable) else InlineRecords(records)
        object.__setattr__(self, "table", table)

    def of_kind(self, kind: Kind) -> Iterator[Record]:
        """The records of one kind, in file order (which never decides the order of creation)."""
        return self.table.of_kind(kind)

    def kind_of(self, symbol: str) -> Kind | None:
        return self.table.kind_of(symbol)

    def count(self, kind: Kind) -> int:
        return self.table.count(kind)

    def references(self, symbol: str, *, membership: bool = True) -> Iterator[str]:
        """A record's ``referenced_symbols()`` (``dependencies()`` without ``membership``)."""
        return self.table.references(symbol, membership=membership)
