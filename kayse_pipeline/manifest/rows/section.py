"""The ``rows`` section: contacts and cases made from each row of a CSV or JSON Lines file.

Each file (a glob can name several, read in name order) is read one row at a time; every
row is checked like an inline record (the schema, ``defaults``, the API's required
fields, the domain rules, its phones and emails, its symbols, references and duplicates)
and kept in compact form (compact.py). A problem that comes from a row is reported at
``FILE:ROW:COLUMN`` of its data file; one that comes from the template itself (a
constant, a field it lacks) once, at the template in the manifest. With ``on_bad_row:
skip`` a row with a problem is left out instead, and noted as ``FILE:LINE: reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from kayse_pipeline.errors import Diagnostic
from kayse_pipeline.manifest.defaults import Draft
from kayse_pipeline.manifest.diagnostics import (
    DiagnosticLog,
    did_you_mean,
    format_path,
    show,
)
from kayse_pipeline.manifest.leads import SUMMARIES, UNIQUE_FIELDS, Uniques, check_values
from kayse_pipeline.manifest.rows.compact import RowSet, RowSource, pack
from kayse_pipeline.manifest.rows.files import FORMATS, DataFile, FileProblem, Row
from kayse_pipeline.manifest.rows.paths import data_files, is_glob
from kayse_pipeline.manifest.rows.problems import RowDiagnosticLog, personal_columns
from kayse_pipeline.manifest.rows.quick import quick_check
from kayse_pipeline.manifest.rows.symbols import Symbols
from kayse_pipeline.manifest.rows.template import Render, RowTemplate, TemplateCompiler
from kayse_pipeline.manifest.rules import check_record
from kayse_pipeline.manifest.schema import SYMBOL_RE, SYMBOL_RULE, check_schema, section_checks
from kayse_pipeline.manifest.values import ValueFormat, value_formats
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import PERSONAL_FIELDS, SECTION_OF_KIND, Account, Kind, Note
from kayse_pipeline.safe_files import RefusedFile

ROW_KINDS: tuple[Kind, Kind] = ("contact", "case")


def load_rows(
    data: Mapping[str, Any],
    reporter: DiagnosticLog,
    *,
    folder: Path,
    display_folder: PurePath,
    account: Account,
    drafts: Sequence[Draft],
    uniques: Uniques | None = None,
) -> RowSet | None:
    """Read and check every row source of the manifest; None when it has none."""
    section = data.get("rows")
    if not isinstance(section, dict) or not section:
        return None
    loader = _Loader(reporter, data.get("defaults"), account, drafts, uniques or Uniques(account))
    for name, spec in section.items():
        if isinstance(spec, dict) and SYMBOL_RE.match(name):
            loader.source(name, spec, folder, display_folder)
    loader.finish()
    return loader.rows


Undo = list[Callable[[], object]]
"""What to take back when a row is left out after all."""


class _Loader:
    """Reads the row sources of one manifest into a RowSet, reporting what is wrong."""

    def __init__(
        self,
        reporter: DiagnosticLog,
        defaults: Any,
        account: Account,
        drafts: Sequence[Draft],
        uniques: Uniques,
    ) -> None:
        self.reporter = reporter
        self.rows_reporter = RowDiagnosticLog(reporter)
        self.account = account
        self.uniques = uniques
        self.defaults: dict[Kind, Mapping[str, Any]] = {}
        for kind in ROW_KINDS:
            found = defaults.get(SECTION_OF_KIND[kind]) if isinstance(defaults, dict) else None
            self.defaults[kind] = found if isinstance(found, dict) else {}
        self.rows = RowSet()
        self.symbols = Symbols(reporter.document, drafts, self.rows)
        self.checks = section_checks()
        self.quick: dict[int, Callable[[dict[str, Any]], bool]] = {}  # by id of the template
        # per template: phone and email fields kept normalised in the row, and their slot
        self.in_place: dict[int, dict[str, int]] = {}

    def source(self, name: str, spec: Mapping[str, Any], folder: Path, display: PurePath) -> None:
        """Compile one source's templates, then read, check and keep the rows of its files."""
        path: NodePath = ("rows", name)
        first = self.symbols.first_use(name)
        if first is not None:
            self.reporter.report(path, f"symbol already used by {first}", key=True)
        written = [kind for kind in ROW_KINDS if isinstance(spec.get(kind), dict)]
        if all(spec.get(kind) is None for kind in ROW_KINDS):
            self.reporter.report(path, "needs a contact or a case template (or both)", key=True)
        compiler = TemplateCompiler(self.reporter.report)
        templates: dict[Kind, RowTemplate] = {}
        for kind in written:
            contact = templates.get("contact")
            own = _own_contact(contact) if contact is not None else None
            template = compiler.compile(kind, (*path, kind), spec[kind], own)
            if template is not None:
                templates[kind] = template
        self._no_personal_symbols(compiler)
        file = spec.get("file")
        shown = str(display / file) if isinstance(file, str) else ""
        source = RowSource(
            name, shown, frozenset(written), templates, self.defaults, self.rows.next_row
        )
        source.region = self.account.phone_region
        self._plan_normalising(source, spec, compiler)
        personal = personal_columns(compiler.uses)
        source.personal_slots = tuple(compiler.slot_of[column] for column in personal)
        source.hidden = {
            kind: frozenset(
                str(path[3])
                for column in personal
                for path in compiler.uses[column]
                if len(path) > 3 and path[2] == kind
            )
            for kind in written
        }
        self.rows.add_source(source)
        if not isinstance(file, str):
            return  # the schema reported it
        skip = spec.get("on_bad_row") == "skip"
        allow_outside = spec.get("allow_outside_folder") is True
        for full, file_shown in data_files(folder, display, file, (*path, "file"), self.reporter):
            fmt = FORMATS.get(PurePath(full).suffix.lower())
            if fmt is None:
                message = f"must name a .csv, .jsonl or .ndjson file, not {show(file)}"
                if is_glob(file):
                    message = f"matches {show(file_shown)}, not a .csv, .jsonl or .ndjson file"
                self.reporter.report((*path, "file"), message)
                continue
            datafile = DataFile(
                full, fmt, list(compiler.slot_of), folder=folder, allow_outside=allow_outside
            )
            try:
                datafile.open()
            except (OSError, RefusedFile) as exc:
                self.reporter.report((*path, "file"), _unreadable(file_shown, exc))
                continue
            source.start_file(file_shown)
            try:
                self._read(source, datafile, compiler, skip=skip)
            finally:
                datafile.close()

    def _plan_normalising(
        self, source: RowSource, spec: Mapping[str, Any], compiler: TemplateCompiler
    ) -> None:
        """Which phone and email cells are rewritten normalised, and which fields at each build.

        A cell is rewritten when its placeholder is the field's whole value and nothing else
        uses its column; any other phone or email is normalised each time its record is built.
        """
        for kind, template in source.templates.items():
            rewrite: dict[str, int] = {}
            later: list[tuple[str, ValueFormat]] = []
            for name, fmt in value_formats(kind).items():
                slot = template.slots.get((name,))
                if slot is None:
                    continue  # not written, or a constant: checked once, kept normalised
                node = spec[kind].get(name)
                column = next(n for n, s in compiler.slot_of.items() if s == slot)
                whole = isinstance(node, str) and node.strip() == f"{{{column}}}"
                if whole and len(compiler.uses[column]) == 1:
                    rewrite[name] = slot
                else:
                    later.append((name, fmt))
            self.in_place[id(template)] = rewrite
            source.normalise[kind] = tuple(later)

    def _no_personal_symbols(self, compiler: TemplateCompiler) -> None:
        """Symbols are saved in the state file, which never holds a lead's personal data."""
        for name, paths in compiler.uses.items():
            personal = sorted({p[3] for p in paths if len(p) > 3 and p[3] in PERSONAL_FIELDS})
            for path in paths:
                if personal and path[3:] == ("symbol",):
                    self.reporter.report(
                        path,
                        f"a symbol must not be made from {{{name}}}, which holds personal data "
                        f"({', '.join(personal)}): symbols are saved in the state file; "
                        "make them from an ID column",
                    )

    def _read(
        self, source: RowSource, datafile: DataFile, compiler: TemplateCompiler, *, skip: bool
    ) -> None:
        shown = source.files[-1]
        for problem in datafile.header_problems:
            self._problem(shown, problem)
        for name in datafile.missing:
            hint = did_you_mean(name, datafile.header)
            for where in compiler.uses[name]:
                self.reporter.report(where, f"no column '{name}' in {shown}{hint}")
        for item in datafile.rows():
            if not isinstance(item, FileProblem):
                self._row(source, datafile, item, skip=skip)
            elif skip and not item.rest:
                self.rows.skipped.append(Note(shown, item.line, 0, item.message))
            else:
                self._problem(shown, item)
        if datafile.format == "jsonl":
            for name in datafile.missing:
                for where in compiler.uses[name]:
                    self.reporter.report(where, f"no row of {shown} has the key '{name}'")

    def _row(self, source: RowSource, datafile: DataFile, item: Row, *, skip: bool) -> None:
        """Check one row's records and keep them; with ``skip``, leave a bad row out."""
        report = self.rows_reporter
        if skip:
            report.hold()
        source.lines.append(item.line)
        undo: Undo = []
        pending = len(self.symbols.pending)
        made: dict[Kind, str | None] = {}
        symbol: str | None = None
        changed = 0
        for kind, template in source.templates.items():
            if kind == "case" and template.own_contact and symbol is None:
                contact = source.templates["contact"].symbol(item.cells)
                if not SYMBOL_RE.match(contact):
                    made[kind] = None
                    continue  # its link is that symbol, already reported as invalid
            symbol, count = self._record(source, template, datafile.columns, item, undo)
            made[kind] = symbol
            changed += count
        if skip and report.row_problems:
            problems = report.drop()
            source.lines.pop()
            del self.symbols.pending[pending:]
            for take_back in reversed(undo):
                take_back()
            reason = _reason(problems, datafile)
            self.rows.skipped.append(Note(source.files[-1], item.line, 0, reason))
            return
        if skip:
            report.release()
        for kind in ROW_KINDS:
            source.symbols[kind].append(made.get(kind))
        self.rows.normalised += changed
        source.rows.append(pack(item.cells))

    def _problem(self, file: str, problem: FileProblem) -> None:
        diagnostic = Diagnostic(file, problem.line, problem.column, problem.message)
        self.rows_reporter.add(diagnostic)

    def _record(
        self,
        source: RowSource,
        template: RowTemplate,
        columns: Sequence[int],
        row: Row,
        undo: Undo,
    ) -> tuple[str | None, int]:
        """Check one record of one row: its symbol once registered (None if refused), and
        how many of its values were normalised."""
        kind, section, cells = template.kind, template.section, row.cells
        report = self.rows_reporter
        personal = [cells[slot] for slot in source.personal_slots]
        report.begin(source.files[-1], row.line, columns, template, personal)
        symbol: str = template.symbol(cells)
        symbol_slot = template.slots[("symbol",)]
        if not SYMBOL_RE.match(symbol):
            label = format_path((*template.path, "symbol"))
            message = f"{label}: {show(symbol)} is not a valid symbol ({SYMBOL_RULE})"
            report.at_cell(symbol_slot, message, path=label)
            return None, 0
        first = self.symbols.first_use(symbol)
        if first is not None:
            where = f"{section}.{symbol}"
            report.at_cell(symbol_slot, f"{where}: symbol already used by {first}", path=where)
            return None, 0
        self.rows.register(symbol, source.start + len(source.lines) - 1, kind)
        undo.append(lambda: self.rows.unregister(symbol, kind))
        values = template.render(cells)
        changed = self._values(source, template, symbol, values, row, undo)
        quick = self.quick.get(id(template))
        if quick is None or not quick(values):
            self._check(source, template, symbol, values)
            if quick is None:  # the template's constants are checked: its first row is done
                self.quick[id(template)] = quick_check(template, self.account)
        if kind != "case":
            return symbol, changed
        case_type = values.get("type", source.defaults["case"].get("type"))
        if isinstance(case_type, str) and case_type not in source.case_types:
            source.case_types[case_type] = symbol
            undo.append(lambda: source.case_types.pop(case_type))
        if "client_ids" in template.written and isinstance(values.get("client_ids"), list):
            for index, ref in enumerate(values["client_ids"]):
                if isinstance(ref, str) and SYMBOL_RE.match(ref):
                    at: NodePath = (section, symbol, "client_ids", index)
                    self.symbols.reference(template, at, ref, report)
        return symbol, changed

    def _values(
        self,
        source: RowSource,
        template: RowTemplate,
        symbol: str,
        values: dict[str, Any],
        row: Row,
        undo: Undo,
    ) -> int:
        """Check and normalise a record's phones and emails; find values another record has."""
        kind, report = template.kind, self.rows_reporter

        def fail(label: NodePath, message: str) -> None:
            report.report(label, message)

        def warn(label: NodePath, message: str, code: str) -> None:
            report.warn(label, message, code=code, summary=SUMMARIES[code])

        region = self.account.phone_region
        changed = check_values(kind, (template.section, symbol), values, region, fail, warn)
        for name, slot in self.in_place[id(template)].items():
            if name in values:
                row.cells[slot] = values[name]  # kept normalised: never checked again
        if kind in UNIQUE_FIELDS:  # a value from defaults is written once: no duplicate
            self.uniques.report(kind, symbol, values, self.symbols.place, fail, warn)
            undo.append(lambda: self.uniques.forget(kind, symbol, values))
        return changed

    def _check(
        self, source: RowSource, template: RowTemplate, symbol: str, values: dict[str, Any]
    ) -> None:
        """Check one record like an inline one: its own values, then merged with defaults."""
        section = template.section
        if not self.checks[section][1](values):
            check_schema({"version": 1, section: {symbol: dict(values)}}, self.rows_reporter)
        merged = dict(values)
        inherited = source.merged(template.kind, merged)
        check_record(
            Draft(template.kind, symbol, merged, inherited), self.account, self.rows_reporter
        )

    def finish(self) -> None:
        """Check references to rows read later, and count the problems not listed."""
        self.symbols.check_pending(self.rows_reporter)
        self.rows_reporter.finish()


def _unreadable(file: str, exc: OSError | RefusedFile) -> str:
    """Why a data file cannot be read, and for one outside the folder what to do about it."""
    if isinstance(exc, OSError):
        return f"cannot read {show(file)}: {(exc.strerror or type(exc).__name__).lower()}"
    message = f"cannot read {show(file)}: it {exc.reason}"
    if exc.reason.startswith("is outside"):
        message += (
            "; move it into that folder, or set allow_outside_folder: true on this row source"
        )
    return message


def _own_contact(contact: RowTemplate) -> Render:
    """A case's client_ids when its template names none: the contact of its own row."""
    return lambda cells: [contact.symbol(cells)]


def _reason(problems: Sequence[Diagnostic], datafile: DataFile) -> str:
    """Why a row is left out: its first problem, with the column's name; never a value."""
    first = problems[0]
    message = first.message
    if datafile.format == "csv" and 0 < first.column <= len(datafile.header):
        label, _, rest = message.partition(": ")
        message = f"{label} (column '{datafile.header[first.column - 1]}'): {rest}"
    more = f"; and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
    return f"{message}{more}"
