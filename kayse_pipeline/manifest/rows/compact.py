"""Records made from data rows, kept compact and built into Records only when asked for.

A row costs one short string (the values its templates use, packed) and one line number;
each of its symbols costs one entry in a dict and one pointer. A Record is built from the
row and its template each time it is read, and is the same Record every time.
"""

from __future__ import annotations

import bisect
import json
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kayse_pipeline.manifest.defaults import merge_defaults
from kayse_pipeline.manifest.rows.template import Cells, RowTemplate
from kayse_pipeline.manifest.values import ValueFormat, normalised
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import (
    REFERENCE_FIELDS,
    Kind,
    Note,
    Position,
    Record,
    RecordTable,
    Ref,
)

# A row symbol's code in the index: (global row number << 1) | the kind's bit.
KIND_BIT: Mapping[Kind, int] = MappingProxyType({"contact": 0, "case": 1})
BIT_KIND: tuple[Kind, Kind] = ("contact", "case")
_REFERENCE_NAMES: Mapping[Kind, tuple[str, ...]] = {
    kind: tuple(REFERENCE_FIELDS[kind]) for kind in BIT_KIND
}


@dataclass
class RowSource:
    """One row source: its templates and its rows in compact form."""

    name: str
    display: str  # the data file, as diagnostics name it
    kinds: frozenset[Kind]  # the kinds it has a template for
    templates: dict[Kind, RowTemplate]  # those whose template compiled
    defaults: dict[Kind, Mapping[str, Any]]
    start: int  # the global number of its first row
    rows: list[str] = field(default_factory=list)  # each row's values, packed
    lines: array[int] = field(default_factory=lambda: array("q"))
    # each row's symbol per kind (None where it was refused): the index's own strings
    symbols: dict[Kind, list[str | None]] = field(
        default_factory=lambda: {"contact": [], "case": []}
    )
    case_types: dict[str, str] = field(default_factory=dict)  # case type -> first case symbol
    # Each data file (a glob can match several) and the index of its first row.
    files: list[str] = field(default_factory=list)
    file_starts: list[int] = field(default_factory=list)
    # Phones and emails kept as written, normalised each time a record is built (the
    # others are kept normalised): those written with text around their placeholder.
    normalise: dict[Kind, tuple[tuple[str, ValueFormat], ...]] = field(default_factory=dict)
    region: str = "US"

    def start_file(self, display: str) -> None:
        """The rows that follow come from the data file ``display``."""
        self.files.append(display)
        self.file_starts.append(len(self.lines))

    def file_of(self, index: int) -> str:
        """The data file that a row comes from."""
        if len(self.files) == 1:
            return self.files[0]
        return self.files[bisect.bisect_right(self.file_starts, index) - 1]

    def place(self, index: int) -> str:
        """``FILE:LINE`` of a row."""
        return f"{self.file_of(index)}:{self.lines[index]}"

    # the fields of each kind that a personal column fills, and those columns' slots
    hidden: dict[Kind, frozenset[str]] = field(default_factory=dict)
    personal_slots: tuple[int, ...] = ()

    def cells(self, index: int) -> list[Any]:
        """A row's values, as ``pack`` kept them."""
        text = self.rows[index]
        if text[:1] == _JSON:
            cells: list[Any] = json.loads(text[1:])
            return cells
        return text.split(_SEPARATOR)

    def references(self, kind: Kind, cells: Cells) -> list[str]:
        """The symbols a row's record points at, without building the record."""
        template = self.templates[kind]
        found: list[str] = []
        for name in _REFERENCE_NAMES[kind]:
            render = template.field(name)
            value = render(cells) if render is not None else self.defaults.get(kind, {}).get(name)
            if isinstance(value, list):
                found += [item for item in value if isinstance(item, str)]
        return found

    def merged(self, kind: Kind, values: dict[str, Any]) -> dict[str, NodePath]:
        """Merge the kind's ``defaults`` under a row's values; return the fields they gave."""
        return merge_defaults(values, self.defaults.get(kind, {}), kind)


# Text values are kept joined by the ASCII unit separator, which no real cell holds;
# a row with any other value, or with one of these characters, is kept as JSON.
_SEPARATOR, _JSON = "\x1f", "\x1e"


def pack(cells: Cells) -> str:
    """A row's values as the compact text that a RowSource keeps."""
    if all(isinstance(c, str) and _SEPARATOR not in c and _JSON not in c for c in cells):
        return _SEPARATOR.join(cells)
    return _JSON + json.dumps(cells, ensure_ascii=False, separators=(",", ":"))


class RowSet:
    """Every row source of a manifest and the index from row symbols to rows."""

    def __init__(self) -> None:
        self.sources: list[RowSource] = []
        self.by_name: dict[str, RowSource] = {}
        self.index: dict[str, int] = {}
        self.counts: dict[Kind, int] = {"contact": 0, "case": 0}
        self.skipped: list[Note] = []  # rows left out by ``on_bad_row: skip``
        self.normalised = 0  # phone and email values that checking rewrote
        self._starts: list[int] = []

    def add_source(self, source: RowSource) -> None:
        self.sources.append(source)
        self.by_name[source.name] = source
        self._starts.append(source.start)

    @property
    def next_row(self) -> int:
        """The global number that the next source's first row gets."""
        last = self.sources[-1] if self.sources else None
        return last.start + len(last.lines) if last is not None else 0

    def register(self, symbol: str, row: int, kind: Kind) -> None:
        self.index[symbol] = (row << 1) | KIND_BIT[kind]
        self.counts[kind] += 1

    def unregister(self, symbol: str, kind: Kind) -> None:
        """Take a row symbol back (its row is left out)."""
        del self.index[symbol]
        self.counts[kind] -= 1

    def kind_of(self, symbol: str) -> Kind | None:
        """The kind of a row symbol, or None."""
        code = self.index.get(symbol)
        return None if code is None else BIT_KIND[code & 1]

    def source_kinds(self, name: str) -> frozenset[Kind] | None:
        """The kinds a row source makes, or None when ``name`` is not a row source."""
        source = self.by_name.get(name)
        return None if source is None else source.kinds

    def locate(self, code: int) -> tuple[RowSource, int]:
        """The source of a row symbol's code and the row's index in it."""
        row = code >> 1
        sources = self.sources
        source = (
            sources[0] if len(sources) == 1 else sources[bisect.bisect_right(self._starts, row) - 1]
        )
        return source, row - source.start

    def symbols_of(self, name: str, kind: Kind) -> list[str]:
        """Every symbol of one kind that a row source made, in row order."""
        return [symbol for symbol in self.by_name[name].symbols[kind] if symbol is not None]

    def record(self, symbol: str, code: int) -> Record:
        """The Record of a row symbol, built from its row."""
        source, index = self.locate(code)
        kind = BIT_KIND[code & 1]
        fields = source.templates[kind].render(source.cells(index))
        for name, fmt in source.normalise.get(kind, ()):
            if name in fields:
                fields[name] = normalised(fmt, fields[name], source.region)
        source.merged(kind, fields)
        refs: dict[str, tuple[Ref, ...]] = {}
        for name in _REFERENCE_NAMES[kind]:
            value = fields.pop(name, None)
            if value is not None:
                # JSON Schema counts 7.0 as an integer; the model promises int IDs.
                refs[name] = tuple(int(v) if isinstance(v, float) else v for v in value)
        return Record(
            kind=kind,
            symbol=symbol,
            fields=MappingProxyType(fields),
            refs=MappingProxyType(refs),
            position=Position(source.file_of(index), source.lines[index], 1),
            hidden=source.hidden.get(kind, frozenset()),
        )

    def references(self, code: int) -> Iterator[str]:
        """The symbols a row symbol's record points at, without building it."""
        kind = BIT_KIND[code & 1]
        if not _REFERENCE_NAMES[kind]:
            return iter(())  # a contact points at nothing
        source, index = self.locate(code)
        own = source.symbols["contact"][index] if source.templates[kind].own_contact else None
        if own is not None:
            return iter((own,))  # what the template's implicit client_ids would render
        return iter(source.references(kind, source.cells(index)))

    def case_types(self, symbol: str) -> Mapping[str, str] | None:
        """Case type -> a case symbol, for the cases that a row symbol or row source stands for.

        None when ``symbol`` is neither a row symbol nor a row source.
        """
        source = self.by_name.get(symbol)
        if source is not None:
            return source.case_types
        code = self.index.get(symbol)
        if code is None:
            return None
        source, index = self.locate(code)
        case_symbol = source.symbols["case"][index]  # the case of the same row
        if case_symbol is None:
            return {}
        case_type = self.record(case_symbol, code | 1).fields.get("type")
        return {case_type: case_symbol} if isinstance(case_type, str) else {}


class RowTable(RecordTable):
    """The manifest's records: inline Records as they are, row records built on access."""

    def __init__(self, inline: Mapping[str, Record], rows: RowSet) -> None:
        self._inline = inline
        self._rows = rows

    def __getitem__(self, symbol: str) -> Record:
        record = self._inline.get(symbol)
        if record is not None:
            return record
        return self._rows.record(symbol, self._rows.index[symbol])

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._inline or symbol in self._rows.index

    def __iter__(self) -> Iterator[str]:
        yield from self._inline
        yield from self._rows.index

    def __len__(self) -> int:
        return len(self._inline) + len(self._rows.index)

    def kind_of(self, symbol: str) -> Kind | None:
        record = self._inline.get(symbol)
        return record.kind if record is not None else self._rows.kind_of(symbol)

    def references(self, symbol: str, *, membership: bool = True) -> Iterator[str]:
        record = self._inline.get(symbol)
        if record is not None:
            return record.referenced_symbols() if membership else record.dependencies()
        # A row's record is a contact or a case: no membership field to leave out.
        return self._rows.references(self._rows.index[symbol])

    def of_kind(self, kind: Kind) -> Iterator[Record]:
        yield from (record for record in self._inline.values() if record.kind == kind)
        bit = KIND_BIT.get(kind)
        if bit is None:
            return
        for symbol, code in self._rows.index.items():
            if code & 1 == bit:
                yield self._rows.record(symbol, code)

    def count(self, kind: Kind) -> int:
        inline = sum(1 for record in self._inline.values() if record.kind == kind)
        return inline + self._rows.counts.get(kind, 0)
