"""The ``rows`` section: contacts and cases made from each row of a CSV or JSON Lines file.

Each file is read one row at a time; every row is checked like an inline record (the
schema, ``defaults``, the API's required fields, the domain rules, its symbols and
references) and kept in compact form (rowtable.py). A problem that comes from a row is
reported at ``FILE:ROW:COLUMN`` of the data file; one that comes from the template
itself (a constant, a field it lacks) once, at the template in the manifest.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from kayse_pipeline.errors import Diagnostic
from kayse_pipeline.manifest.defaults import Draft
from kayse_pipeline.manifest.diagnostics import (
    PERSONAL_FIELDS,
    Reporter,
    did_you_mean,
    format_path,
    show,
)
from kayse_pipeline.manifest.rows.compact import RowSet, RowSource, pack
from kayse_pipeline.manifest.rows.files import FORMATS, DataFile, Problem, Row
from kayse_pipeline.manifest.rows.problems import RowReporter
from kayse_pipeline.manifest.rows.template import Compiler, Render, RowTemplate
from kayse_pipeline.manifest.rules import DATE_FIELDS, check_record
from kayse_pipeline.manifest.schema import (
    REQUIRED_FIELDS,
    SYMBOL_RE,
    SYMBOL_RULE,
    check_schema,
    manifest_schema,
    section_checks,
)
from kayse_pipeline.manifest.schema_predicates import Compiler as SchemaCompiler
from kayse_pipeline.manifest.schema_predicates import Predicate
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import SECTION_OF_KIND, Account, Kind

ROW_KINDS: tuple[Kind, Kind] = ("contact", "case")


def load_rows(
    data: Mapping[str, Any],
    reporter: Reporter,
    *,
    folder: Path,
    display_folder: PurePath,
    account: Account,
    drafts: Sequence[Draft],
) -> RowSet | None:
    """Read and check every row source of the manifest; None when it has none."""
    section = data.get("rows")
    if not isinstance(section, dict) or not section:
        return None
    loader = _Loader(reporter, data.get("defaults"), account, drafts)
    for name, spec in section.items():
        if isinstance(spec, dict) and SYMBOL_RE.match(name):
            loader.source(name, spec, folder, display_folder)
    loader.finish()
    return loader.rows


class _Loader:
    """Reads the row sources of one manifest into a RowSet, reporting what is wrong."""

    def __init__(
        self, reporter: Reporter, defaults: Any, account: Account, drafts: Sequence[Draft]
    ) -> None:
        self.reporter = reporter
        self.rows_reporter = RowReporter(reporter)
        self.account = account
        self.defaults: dict[Kind, Mapping[str, Any]] = {}
        for kind in ROW_KINDS:
            found = defaults.get(SECTION_OF_KIND[kind]) if isinstance(defaults, dict) else None
            self.defaults[kind] = found if isinstance(found, dict) else {}
        self.inline: dict[str, Draft] = {}
        for draft in drafts:
            self.inline.setdefault(draft.symbol, draft)
        self.rows = RowSet()
        self.checks = section_checks()
        self.quick: dict[int, Callable[[dict[str, Any]], bool]] = {}  # by id of the template
        # references to symbols not seen yet: (symbol, label, template, file, line, columns)
        self.pending: list[tuple[str, NodePath, RowTemplate, str, int, Sequence[int]]] = []

    def source(self, name: str, spec: Mapping[str, Any], folder: Path, display: PurePath) -> None:
        """Compile one source's templates, then read, check and keep its rows."""
        path: NodePath = ("rows", name)
        first = self._first_use(name)
        if first is not None:
            self.reporter.report(path, f"symbol already used by {first}", key=True)
        written = [kind for kind in ROW_KINDS if isinstance(spec.get(kind), dict)]
        if all(spec.get(kind) is None for kind in ROW_KINDS):
            self.reporter.report(path, "needs a contact or a case template (or both)", key=True)
        compiler = Compiler(self.reporter.report)
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
        self.rows.add_source(source)
        if not isinstance(file, str):
            return  # the schema reported it
        fmt = FORMATS.get(PurePath(file).suffix.lower())
        if fmt is None:
            message = f"must name a .csv, .jsonl or .ndjson file, not {show(file)}"
            self.reporter.report((*path, "file"), message)
            return
        datafile = DataFile(folder / file, fmt, list(compiler.slot_of))
        try:
            datafile.open()
        except OSError as exc:
            reason = (exc.strerror or type(exc).__name__).lower()
            self.reporter.report((*path, "file"), f"cannot read {show(file)}: {reason}")
            return
        try:
            self._read(source, datafile, compiler)
        finally:
            datafile.close()

    def _no_personal_symbols(self, compiler: Compiler) -> None:
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

    def _read(self, source: RowSource, datafile: DataFile, compiler: Compiler) -> None:
        for problem in datafile.header_problems:
            self._problem(source, problem)
        for name in datafile.missing:
            hint = did_you_mean(name, datafile.header)
            for where in compiler.uses[name]:
                self.reporter.report(where, f"no column '{name}' in {source.display}{hint}")
        for item in datafile.rows():
            if isinstance(item, Problem):
                self._problem(source, item)
                continue
            source.lines.append(item.line)
            symbol: str | None = None
            for kind, template in source.templates.items():
                if kind == "case" and template.own_contact and symbol is None:
                    contact = source.templates["contact"].symbol(item.cells)
                    if not SYMBOL_RE.match(contact):
                        source.symbols[kind].append(None)
                        continue  # its link is that symbol, already reported as invalid
                symbol = self._record(source, template, datafile.columns, item)
                source.symbols[kind].append(symbol)
            for kind in ROW_KINDS:
                if kind not in source.templates:
                    source.symbols[kind].append(None)
            source.rows.append(pack(item.cells))
        if datafile.format == "jsonl":
            for name in datafile.missing:
                for where in compiler.uses[name]:
                    self.reporter.report(where, f"no row of {source.display} has the key '{name}'")

    def _problem(self, source: RowSource, problem: Problem) -> None:
        diagnostic = Diagnostic(source.display, problem.line, problem.column, problem.message)
        self.rows_reporter.add(diagnostic)

    def _record(
        self, source: RowSource, template: RowTemplate, columns: Sequence[int], row: Row
    ) -> str | None:
        """Check one record of one row; its symbol once registered, None if it was refused."""
        kind, section, cells = template.kind, template.section, row.cells
        report = self.rows_reporter
        report.begin(source.display, row.line, columns, template)
        symbol: str = template.symbol(cells)
        symbol_slot = template.slots[("symbol",)]
        if not SYMBOL_RE.match(symbol):
            label = format_path((*template.path, "symbol"))
            message = f"{label}: {show(symbol)} is not a valid symbol ({SYMBOL_RULE})"
            report.at_cell(symbol_slot, message, path=label)
            return None
        first = self._first_use(symbol)
        if first is not None:
            where = f"{section}.{symbol}"
            report.at_cell(symbol_slot, f"{where}: symbol already used by {first}", path=where)
            return None
        self.rows.register(symbol, source.start + len(source.lines) - 1, kind)
        values = template.render(cells)
        quick = self.quick.get(id(template))
        if quick is None or not quick(values):
            self._check(source, template, symbol, values)
            if quick is None:  # the template's constants are checked: its first row is done
                self.quick[id(template)] = _quick_check(template, self.account)
        if kind != "case":
            return symbol
        case_type = values.get("type", source.defaults["case"].get("type"))
        if isinstance(case_type, str):
            source.case_types.setdefault(case_type, symbol)
        if "client_ids" in template.written and isinstance(values.get("client_ids"), list):
            for index, ref in enumerate(values["client_ids"]):
                if isinstance(ref, str) and SYMBOL_RE.match(ref):
                    self._reference(template, (section, symbol, "client_ids", index), ref)
        return symbol

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

    def _reference(self, template: RowTemplate, label: NodePath, ref: str) -> None:
        """Check that a row's reference names a contact, now or once every row is read."""
        report = self.rows_reporter
        if self._kind_of(ref) is None:
            self.pending.append((ref, label, template, report.file, report.line, report.columns))
            return
        message = self._reference_problem(ref)
        if message is not None:
            report.report(label, message)

    def _kind_of(self, symbol: str) -> Kind | str | None:
        """A symbol's kind, "row source" for a source's name, or None while it is unknown."""
        if symbol in self.rows.by_name:
            return "row source"
        inline = self.inline.get(symbol)
        return inline.kind if inline is not None else self.rows.kind_of(symbol)

    def _reference_problem(self, ref: str) -> str | None:
        kind = self._kind_of(ref)
        if kind == "row source":
            return f"'{ref}' is a row source: a row's client_ids names contacts one by one"
        if kind is None:
            contacts = [s for s, d in self.inline.items() if d.kind == "contact"]
            return f"unknown symbol '{ref}'{did_you_mean(ref, contacts)}"
        if kind != "contact":
            return f"'{ref}' is a {kind}, but client_ids wants a contact"
        return None

    def _first_use(self, symbol: str) -> str | None:
        """Where a symbol is defined already, or None."""
        draft = self.inline.get(symbol)
        if draft is not None:
            line = self.reporter.document.position(draft.at, key=True)[0]
            return f"{format_path(draft.at)} ({self.reporter.document.file}:{line})"
        if symbol in self.rows.by_name:
            line = self.reporter.document.position(("rows", symbol), key=True)[0]
            return f"row source rows.{symbol} ({self.reporter.document.file}:{line})"
        code = self.rows.index.get(symbol)
        if code is None:
            return None
        source, index = self.rows.locate(code)
        return f"{source.display}:{source.lines[index]}"

    def finish(self) -> None:
        """Check references to rows read later, and count the problems not listed."""
        for ref, label, template, file, line, columns in self.pending:
            message = self._reference_problem(ref)
            if message is not None:
                self.rows_reporter.begin(file, line, columns, template)
                self.rows_reporter.report(label, message)
        self.rows_reporter.finish()


def _own_contact(contact: RowTemplate) -> Render:
    """A case's client_ids when its template names none: the contact of its own row."""
    return lambda cells: [contact.symbol(cells)]


@functools.cache
def _field_checks(kind: Kind) -> Mapping[str, Predicate]:
    """Each field of a kind: the schema's predicate for its value."""
    schema = manifest_schema()
    compiler = SchemaCompiler(schema)
    return {
        name: compiler.compile(prop) for name, prop in schema["$defs"][kind]["properties"].items()
    }


def _quick_check(template: RowTemplate, account: Account) -> Callable[[dict[str, Any]], bool]:
    """True for a row whose values from placeholders pass every check that _check makes.

    The template's constants and ``defaults`` are the same in every row and were checked
    with its first row; only the values that come from cells can differ. A row it refuses
    goes through _check, which says what is wrong.
    """
    kind = template.kind
    allowed: dict[str, tuple[str, ...] | None] = {}
    if kind == "case":
        allowed = {"status": account.case_statuses, "type": account.case_types}
    required = REQUIRED_FIELDS[SECTION_OF_KIND[kind]]
    schema = _field_checks(kind)
    tests: list[tuple[str, Predicate]] = []
    for name in template.written:
        if template.slots.get((name,)) is None:
            continue  # a constant
        date = name in DATE_FIELDS[kind]
        test = _field_test(schema[name], name in required, date, allowed.get(name))
        tests.append((name, test))

    def quick(values: dict[str, Any]) -> bool:
        return all(test(values[name]) for name, test in tests if name in values)

    return quick


def _field_test(
    schema_ok: Predicate, required: bool, date: bool, allowed: tuple[str, ...] | None
) -> Predicate:
    """One field's checks from the schema and the rules, as one predicate."""

    def test(value: Any) -> bool:
        if not schema_ok(value):
            return False
        if not isinstance(value, str):
            return True
        if required and not value.strip():
            return False
        if date and not _is_date(value):
            return False
        return allowed is None or value in allowed

    return test


def _is_date(text: str) -> bool:
    """Whether YYYY-MM-DD text is a day of the calendar."""
    try:
        datetime.date.fromisoformat(text)  # the schema's pattern already said YYYY-MM-DD
    except ValueError:
        return False
    return True
