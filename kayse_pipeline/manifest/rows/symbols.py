"""The symbols a row may name or clash with: inline records, row sources and rows read so far.

A row's ``client_ids`` may name the contact of a row that is read later: such a reference
waits, and is checked once every row is read (``check_pending``).
"""

from __future__ import annotations

from collections.abc import Sequence

from kayse_pipeline.manifest.defaults import Draft
from kayse_pipeline.manifest.diagnostics import did_you_mean, format_path
from kayse_pipeline.manifest.rows.compact import RowSet
from kayse_pipeline.manifest.rows.problems import RowDiagnosticLog
from kayse_pipeline.manifest.rows.template import RowTemplate
from kayse_pipeline.manifest.yaml_io import Document, NodePath
from kayse_pipeline.model import Kind


class Symbols:
    """Where each symbol of the manifest is written, and the checks of rows' references."""

    def __init__(self, document: Document, drafts: Sequence[Draft], rows: RowSet) -> None:
        self.document = document
        self.inline: dict[str, Draft] = {}
        for draft in drafts:
            self.inline.setdefault(draft.symbol, draft)
        self.rows = rows
        # references to symbols not seen yet: (symbol, label, template, file, line, columns)
        self.pending: list[tuple[str, NodePath, RowTemplate, str, int, Sequence[int]]] = []

    def reference(
        self, template: RowTemplate, label: NodePath, ref: str, report: RowDiagnosticLog
    ) -> None:
        """Check that a row's reference names a contact, now or once every row is read."""
        if self.kind_of(ref) is None:
            self.pending.append((ref, label, template, report.file, report.line, report.columns))
            return
        message = self.reference_problem(ref)
        if message is not None:
            report.report(label, message)

    def kind_of(self, symbol: str) -> Kind | str | None:
        """A symbol's kind, "row source" for a source's name, or None while it is unknown."""
        if symbol in self.rows.by_name:
            return "row source"
        inline = self.inline.get(symbol)
        return inline.kind if inline is not None else self.rows.kind_of(symbol)

    def reference_problem(self, ref: str) -> str | None:
        kind = self.kind_of(ref)
        if kind == "row source":
            return f"'{ref}' is a row source: a row's client_ids names contacts one by one"
        if kind is None:
            contacts = [s for s, d in self.inline.items() if d.kind == "contact"]
            return f"unknown symbol '{ref}'{did_you_mean(ref, contacts)}"
        if kind != "contact":
            return f"'{ref}' is a {kind}, but client_ids wants a contact"
        return None

    def first_use(self, symbol: str) -> str | None:
        """Where a symbol is defined already, or None."""
        draft = self.inline.get(symbol)
        if draft is not None:
            line = self.document.position(draft.at, key=True)[0]
            return f"{format_path(draft.at)} ({self.document.file}:{line})"
        if symbol in self.rows.by_name:
            line = self.document.position(("rows", symbol), key=True)[0]
            return f"row source rows.{symbol} ({self.document.file}:{line})"
        code = self.rows.index.get(symbol)
        if code is None:
            return None
        source, index = self.rows.locate(code)
        return source.place(index)

    def place(self, symbol: str) -> str:
        """``FILE:LINE`` where a record is written: in the manifest or in a data file."""
        draft = self.inline.get(symbol)
        if draft is not None:
            line = self.document.position(draft.at, key=True)[0]
            return f"{self.document.file}:{line}"
        source, index = self.rows.locate(self.rows.index[symbol])
        return source.place(index)

    def check_pending(self, report: RowDiagnosticLog) -> None:
        """Check the references to rows that were read after the row that made them."""
        for ref, label, template, file, line, columns in self.pending:
            message = self.reference_problem(ref)
            if message is not None:
                report.begin(file, line, columns, template)
                report.report(label, message)
