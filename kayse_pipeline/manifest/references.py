"""Symbols and the references between records: unique, known, of the right kind, acyclic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from kayse_pipeline.graph import cycle_message, find_cycle
from kayse_pipeline.manifest.defaults import Draft
from kayse_pipeline.manifest.diagnostics import DiagnosticLog, did_you_mean, format_path, show
from kayse_pipeline.manifest.schema import SYMBOL_RE
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import REFERENCE_FIELDS, SINGLE_REFERENCE_FIELDS, Kind


class RowSymbols(Protocol):
    """The symbols that data rows define (see rows.py)."""

    def kind_of(self, symbol: str) -> Kind | None: ...

    def source_kinds(self, name: str) -> frozenset[Kind] | None: ...


def check_references(
    drafts: Sequence[Draft], reporter: DiagnosticLog, rows: RowSymbols | None = None
) -> None:
    """Report duplicate symbols, unknown or wrong-kind references, and reference cycles.

    A reference may name a row symbol, or a row source (standing for every record of the
    wanted kind that it makes); data rows are checked for duplicates where they are read.
    """
    by_symbol: dict[str, Draft] = {}
    of_kind: dict[Kind, list[str]] = {"contact": [], "case": [], "list": [], "campaign": []}
    for draft in drafts:  # drafts come in file order, so the first one seen is written first
        first = by_symbol.get(draft.symbol)
        if first is not None:
            line = reporter.document.position(first.at, key=True)[0]
            reporter.report(
                draft.at, f"symbol already used by {format_path(first.at)} (line {line})", key=True
            )
            continue
        by_symbol[draft.symbol] = draft
        of_kind[draft.kind].append(draft.symbol)
    graph: dict[str, set[str]] = {}
    for draft in drafts:
        edges = graph.setdefault(draft.symbol, set())
        for name, wanted in REFERENCE_FIELDS[draft.kind].items():
            if name not in draft.values:
                continue
            for label, value, repeated in _items(draft, name):
                if repeated:
                    reporter.rule(label, f"{show(value)} is listed twice")
                    continue
                target = _check_one(label, value, name, wanted, by_symbol, of_kind, reporter, rows)
                if target is not None:
                    edges.add(target)
    cycle = find_cycle(graph)
    if cycle is not None:
        reporter.report(by_symbol[cycle[0]].at, cycle_message(cycle), key=True)


def _items(draft: Draft, name: str) -> list[tuple[NodePath, Any, bool]]:
    """Each reference written in field ``name``: its node's path, its value, and if it repeats."""
    value, path = draft.values[name], draft.path(name)
    if name in SINGLE_REFERENCE_FIELDS:
        return [(path, value, False)]
    if not isinstance(value, list):
        return []
    items: list[tuple[NodePath, Any, bool]] = []
    seen: set[str | int] = set()
    for index, item in enumerate(value):
        hashable = isinstance(item, str | int) and not isinstance(item, bool)
        items.append(((*path, index), item, hashable and item in seen))
        if hashable:
            seen.add(item)
    return items


def _check_one(
    label: NodePath,
    value: Any,
    name: str,
    wanted: Kind,
    by_symbol: dict[str, Draft],
    of_kind: dict[Kind, list[str]],
    reporter: DiagnosticLog,
    rows: RowSymbols | None,
) -> str | None:
    """Check one reference; return the symbol it points at when an inline record has it."""
    if not isinstance(value, str) or not SYMBOL_RE.match(value):
        return None  # an existing ID, or a value that the schema already reported
    target = by_symbol.get(value)
    if (
        target is None
        and rows is not None
        and _row_reference(label, value, name, wanted, rows, reporter)
    ):
        return None
    if target is None:
        reporter.rule(label, f"unknown symbol '{value}'{did_you_mean(value, of_kind[wanted])}")
        return None
    if target.kind != wanted:
        reporter.rule(label, f"'{value}' is a {target.kind}, but {name} wants a {wanted}")
    return value


def _row_reference(
    label: NodePath, value: str, name: str, wanted: Kind, rows: RowSymbols, reporter: DiagnosticLog
) -> bool:
    """Check a reference to a row source or a row symbol; False when it is neither."""
    kinds = rows.source_kinds(value)
    if kinds is not None:
        if name in SINGLE_REFERENCE_FIELDS:
            reporter.rule(label, f"'{value}' is a row source, but {name} wants one {wanted}")
        elif wanted not in kinds:
            reporter.rule(
                label, f"row source '{value}' has no {wanted} template, but {name} wants {wanted}s"
            )
        return True
    kind = rows.kind_of(value)
    if kind is not None and kind != wanted:
        reporter.rule(label, f"'{value}' is a {kind}, but {name} wants a {wanted}")
    return kind is not None
