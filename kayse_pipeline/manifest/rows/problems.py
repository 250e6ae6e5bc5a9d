"""Where the problems of data rows are placed: at a row's cell, or once at its template."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kayse_pipeline.errors import Diagnostic
from kayse_pipeline.manifest.diagnostics import DiagnosticLog, format_path, show
from kayse_pipeline.manifest.rows.template import RowTemplate
from kayse_pipeline.manifest.rules import DATE_FIELDS
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import PERSONAL_FIELDS

# Past this many problems in one data file the rest are counted, not listed.
MAX_ROW_ERRORS = 100
HIDDEN = "a value from a personal column (not shown)"


def redact(message: str, personal: Sequence[Any]) -> str:
    """``message`` without any of a row's personal values, however a check quoted them.

    Whatever a check says about a field that a personal column fills (a birth date in a
    case's date, an email in an external ID) names the place, never the value.
    """
    texts = {str(v).strip() for v in personal if isinstance(v, str | int | float)}
    for text in sorted((t for t in texts if len(t) > 1), key=len, reverse=True):
        for quoted in (show(text), repr(text)):
            message = message.replace(quoted, HIDDEN)
        message = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", HIDDEN, message)
    return message


class RowDiagnosticLog(DiagnosticLog):
    """Places the problems of one data row: at its cell, or at its template in the manifest."""

    def __init__(self, main: DiagnosticLog) -> None:
        super().__init__(main.document)
        self.diagnostics = main.diagnostics  # one set: the manifest's and its rows' problems
        self.warnings = main.warnings
        # While a row is being checked: its problems and warnings, kept until it is judged.
        self.row_problems: list[Diagnostic] = []
        self.row_warnings: list[tuple[Diagnostic, str, str]] = []
        self._holding = False
        self.file = ""
        self.line = 0
        self.columns: Sequence[int] = ()
        self.template: RowTemplate | None = None
        self.personal: Sequence[Any] = ()
        self._shown: dict[str, int] = {}
        self._hidden: dict[str, tuple[int, Diagnostic]] = {}

    def begin(
        self,
        file: str,
        line: int,
        columns: Sequence[int],
        template: RowTemplate,
        personal: Sequence[Any] = (),
    ) -> None:
        """Report what follows for one record of one row, whose personal columns hold these."""
        self.file, self.line, self.columns, self.template = file, line, columns, template
        self.personal = personal
        self._failed.clear()

    def report(
        self, label: NodePath, message: str, *, at: NodePath | None = None, key: bool = False
    ) -> None:
        """A problem at a record's path: at the cell that gave the value, else at the template."""
        template = self.template
        if template is None or len(label) < 2 or label[0] not in ("contacts", "cases"):
            super().report(label, message, at=at, key=key)  # defaults, or the manifest itself
            return
        written, slot, node = template.slot_at(label[2:])
        if slot is not None:
            path = format_path(label)
            self.at_cell(slot, f"{path}: {redact(message, self.personal)}", path=path)
        elif written:  # a constant of the template: the same for every row, reported once
            where = (*template.path, *node)
            super().report((*template.path, *label[2:]), message, at=where, key=key)
        else:  # a field the template does not write
            super().report((*template.path, *label[2:]), message, at=template.path, key=True)

    def warn(
        self,
        label: NodePath,
        message: str,
        *,
        at: NodePath | None = None,
        code: str = "",
        summary: str = "",
    ) -> None:
        """A warning at the cell that gave the value, else at the template (once)."""
        template = self.template
        if template is None or len(label) < 3 or label[0] not in ("contacts", "cases"):
            super().warn(label, message, at=at, code=code, summary=summary)
            return
        written, slot, node = template.slot_at(label[2:])
        if slot is None:
            at = (*template.path, *node) if written else template.path
            super().warn((*template.path, *label[2:]), message, at=at, code=code, summary=summary)
            return
        path = format_path(label)
        column = self.columns[slot]
        warning = Diagnostic(self.file, self.line, column, f"{path}: {message}", path)
        if self._holding:
            self.row_warnings.append((warning, code, summary))
        else:
            self.warnings.add(warning, code=code, summary=summary)

    def hold(self) -> None:
        """Keep the problems and warnings of the next row until ``release`` or ``drop``."""
        self._holding = True
        self.row_problems.clear()
        self.row_warnings.clear()

    def release(self) -> None:
        """Report what the row being held had."""
        self._holding = False
        for diagnostic in self.row_problems:
            self.add(diagnostic)
        for warning, code, summary in self.row_warnings:
            self.warnings.add(warning, code=code, summary=summary)

    def drop(self) -> list[Diagnostic]:
        """Forget what the row being held had (it is left out); return its problems."""
        self._holding = False
        problems = list(self.row_problems)
        self.row_warnings.clear()
        return problems

    def at_cell(self, slot: int | None, message: str, *, path: str = "") -> None:
        """A problem at the current row, in the column of a slot (column 1 without one)."""
        column = self.columns[slot] if slot is not None else 1
        self.add(Diagnostic(self.file, self.line, column, message, path))

    def add(self, diagnostic: Diagnostic) -> None:
        """Keep a data file's problem, or count it once the file has shown enough."""
        if self._holding:
            self.row_problems.append(diagnostic)
            return
        shown = self._shown.get(diagnostic.file, 0)
        if shown < MAX_ROW_ERRORS:
            if diagnostic not in self.diagnostics:
                self.diagnostics.add(diagnostic)
                self._shown[diagnostic.file] = shown + 1
            return
        count, first = self._hidden.get(diagnostic.file, (0, diagnostic))
        self._hidden[diagnostic.file] = (count + 1, first)

    def finish(self) -> None:
        """Say how many problems of each data file were not listed."""
        for file, (count, first) in self._hidden.items():
            message = (
                f"{count} more problem(s) in {file} are not listed: "
                f"fix the {MAX_ROW_ERRORS} above and validate again"
            )
            self.diagnostics.add(Diagnostic(file, first.line, first.column, message))


# Column names that say personal data even where no personal field uses them.
_PERSONAL_WORDS = ("name", "mail", "phone", "mobile", "birth", "dob", "address", "street", "zip")


def personal_columns(uses: Mapping[str, Sequence[NodePath]]) -> list[str]:
    """The columns that hold a lead's personal data: their values are never shown.

    A column is personal when a template puts it in a personal field or a date field (a
    birth date, an accident date), or when its name says so (``email``, ``dob``, ...).
    """
    found = []
    for name, paths in uses.items():
        fields = [(str(p[2]), p[3]) for p in paths if len(p) > 3]
        used = any(f in PERSONAL_FIELDS or f in DATE_FIELDS.get(k, ()) for k, f in fields)
        if used or any(word in name.lower() for word in _PERSONAL_WORDS):
            found.append(name)
    return found
