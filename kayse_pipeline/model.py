"""The validated, frozen model of a manifest; nothing past ``manifest.py`` sees raw YAML."""

from __future__ import annotations

from abc import abstractmethod
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
    reference fields (``case_list_id`` as a one-element tuple).
    """

    kind: Kind
    symbol: str
    fields: Mapping[str, JSON]
    refs: Mapping[str, tuple[Ref, ...]]
    position: Position

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
    """A read-only table of records kept in a compact form, each Record built when asked for.

    Manifests with data rows hold hundreds of thousands of records; a table answers
    questions by kind without building every Record.
    """

    @abstractmethod
    def kind_of(self, symbol: str) -> Kind | None:
        """The kind of a symbol, or None when the table does not hold it."""

    @abstractmethod
    def of_kind(self, kind: Kind) -> Iterator[Record]:
        """The records of one kind, in the table's order."""

    @abstractmethod
    def count(self, kind: Kind) -> int:
        """How many records of one kind the table holds."""

    def references(self, symbol: str) -> Iterator[str]:
        """What ``self[symbol].referenced_symbols()`` gives, without building a Record if it can."""
        return self[symbol].referenced_symbols()


@dataclass(frozen=True)
class Manifest:
    """A validated manifest: every record of every kind, keyed by symbol.

    ``records`` is a read-only mapping: a ``MappingProxyType`` of inline records, or a
    ``RecordTable`` when the manifest reads data rows (records built on access).
    """

    path: Path
    account: Account
    records: Mapping[str, Record]
    source_text_sha256: str = ""
    extra: Mapping[str, JSON] = field(default_factory=lambda: MappingProxyType({}))
    notes: LoadNotes = field(default_factory=LoadNotes)
    keep_members: frozenset[str] = frozenset()  # lists with ``prune: false``

    def of_kind(self, kind: Kind) -> Iterator[Record]:
        """The records of one kind, in file order (which never decides the order of creation)."""
        if isinstance(self.records, RecordTable):
            return self.records.of_kind(kind)
        return (r for r in self.records.values() if r.kind == kind)

    def kind_of(self, symbol: str) -> Kind | None:
        if isinstance(self.records, RecordTable):
            return self.records.kind_of(symbol)
        record = self.records.get(symbol)
        return record.kind if record else None

    def count(self, kind: Kind) -> int:
        if isinstance(self.records, RecordTable):
            return self.records.count(kind)
        return sum(1 for _ in self.of_kind(kind))

    def references(self, symbol: str, *, membership: bool = True) -> Iterator[str]:
        """A record's ``referenced_symbols()`` (``dependencies()`` without ``membership``)."""
        # A table answers for its compact records without building them.
        records = self.records
        if isinstance(records, RecordTable) and (membership or records.kind_of(symbol) != "list"):
            return records.references(symbol)
        record = records[symbol]
        return record.referenced_symbols() if membership else record.dependencies()
