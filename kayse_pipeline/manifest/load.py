"""Manifest file -> validated, frozen model: YAML, version, env, schema, defaults, rules, refs.

Every problem is collected and reported at once, except two that make the rest
meaningless: text that is not YAML, and a ``version`` other than 1 (reported alone).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.defaults import Draft, collect_drafts
from kayse_pipeline.manifest.diagnostics import DiagnosticLog, show
from kayse_pipeline.manifest.env import Values, allowed_names, interpolate
from kayse_pipeline.manifest.leads import Uniques, check_defaults, check_inline
from kayse_pipeline.manifest.references import check_references
from kayse_pipeline.manifest.rules import check_rules
from kayse_pipeline.manifest.schema import MANIFEST_ONLY_FIELDS, SCHEMA_REGION, check_schema
from kayse_pipeline.manifest.values import is_region
from kayse_pipeline.manifest.yaml_io import Document, gc_paused, load_yaml
from kayse_pipeline.model import (
    REFERENCE_FIELDS,
    SINGLE_REFERENCE_FIELDS,
    Account,
    Kind,
    LoadNotes,
    Manifest,
    Position,
    Record,
    Ref,
)

if TYPE_CHECKING:
    from kayse_pipeline.manifest.rows.compact import RowSet

MANIFEST_VERSION = 1

__all__ = ["MANIFEST_VERSION", "Loaded", "load_manifest", "parse_manifest", "read_manifest"]


@dataclass(frozen=True)
class Loaded:
    """A valid manifest, what is allowed in it but probably not meant, and the variables it uses."""

    manifest: Manifest
    warnings: tuple[Diagnostic, ...] = ()
    variables: frozenset[str] = frozenset()


def load_manifest(
    path: Path, env: Mapping[str, str] | None = None, *, display_name: str | None = None
) -> Manifest:
    """Read and validate the manifest at ``path``; raise ManifestError with every problem.

    ``env`` supplies ``${NAME}`` variables (default: the process environment);
    ``display_name`` is how diagnostics name the file (default: ``str(path)``).
    """
    return read_manifest(path, env, display_name=display_name).manifest


def read_manifest(
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    given: Mapping[str, str] | None = None,
    display_name: str | None = None,
) -> Loaded:
    """``load_manifest`` with its warnings; ``given`` values (``--var``) come before ``env``."""
    file = str(path) if display_name is None else display_name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ManifestError(
            [Diagnostic(file, 1, 1, f"cannot read the manifest: {reason}")]
        ) from None
    values = Values(os.environ if env is None else env, given or {})
    with gc_paused():
        return _parse(raw, path, values, file)


def parse_manifest(
    raw: bytes, path: Path, env: Mapping[str, str] | None = None, *, display_name: str | None = None
) -> Manifest:
    """Validate manifest bytes as if read from ``path``; raise ManifestError with every problem."""
    values = Values(os.environ if env is None else env)
    with gc_paused():
        return _parse(raw, path, values, display_name or str(path)).manifest


def _parse(raw: bytes, path: Path, values: Values, file: str) -> Loaded:
    text = _decode(raw, file)
    document = load_yaml(text, file)
    data = _check_version(document)
    if document.problems:
        raise ManifestError(list(document.problems))
    reporter = DiagnosticLog(document)
    used: frozenset[str] = frozenset()
    if "$" in text:  # most manifests have no variable: skip the walk
        _, used = interpolate(data, values, reporter, allowed=allowed_names(data))
    check_schema(data, reporter)
    account = _account(data.get("account"), reporter)
    normalised = check_defaults(data, account, reporter)
    drafts = collect_drafts(data)
    uniques = Uniques(account)
    normalised += check_inline(drafts, account, reporter, uniques)
    rows: RowSet | None = None
    if data.get("rows"):  # the row readers load only for a manifest that has row sources
        from kayse_pipeline.manifest.rows.section import load_rows

        rows = load_rows(
            data,
            reporter,
            folder=path.parent,
            display_folder=PurePath(file).parent,
            account=account,
            drafts=drafts,
            uniques=uniques,
        )
    check_rules(drafts, account, reporter, rows.case_types if rows is not None else None)
    check_references(drafts, reporter, rows)
    reporter.raise_if_any()
    keep = frozenset(
        d.symbol for d in drafts if d.kind == "list" and d.values.get("prune") is False
    )
    inline = {draft.symbol: _freeze(draft, document, rows) for draft in drafts}
    notes = LoadNotes(
        skipped_rows=tuple(rows.skipped) if rows is not None else (),
        normalised=normalised + (rows.normalised if rows is not None else 0),
    )
    records: Mapping[str, Record] = MappingProxyType(inline)
    if rows is not None:
        from kayse_pipeline.manifest.rows.compact import RowTable

        records = RowTable(inline, rows)
    manifest = Manifest(
        path=path,
        account=account,
        records=records,
        notes=notes,
        keep_members=keep,
    )
    return Loaded(manifest, tuple(sorted(reporter.warnings)), used)


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(
            [Diagnostic(file, line, column, "the manifest is not UTF-8 text")]
        ) from None


def _check_version(document: Document) -> dict[str, Any]:
    """The document's top mapping, if it says ``version: 1``; else one diagnostic, alone."""
    data = document.data
    where: tuple[str, ...] = ()
    if not isinstance(data, dict):
        message = "a manifest is a YAML mapping that starts with 'version: 1'"
    elif "version" not in data:
        message = "missing 'version: 1': this kayse-pipeline reads version 1"
    elif type(data["version"]) is int and data["version"] == MANIFEST_VERSION:
        return data
    else:
        where = ("version",)
        message = (
            f"unsupported manifest version {show(data['version'])}: "
            f"this kayse-pipeline reads version {MANIFEST_VERSION}"
        )
    line, column = document.position(where)
    raise ManifestError([Diagnostic(document.file, line, column, message)])


def _account(value: Any, reporter: DiagnosticLog) -> Account:
    """The ``account`` block (already checked by the schema) as the model's Account."""
    if not isinstance(value, dict):
        return Account()

    def names(key: str) -> tuple[str, ...] | None:
        items = value.get(key)
        return tuple(items) if isinstance(items, list) else None

    region = value.get("phone_region")
    if not isinstance(region, str) or not SCHEMA_REGION.match(region):
        region = Account().phone_region  # absent, or reported by the schema
    elif not is_region(region):
        reporter.rule(
            ("account", "phone_region"),
            f"'{region}' is not a region with phone numbers (an ISO 3166 code such as US, CA, GB)",
        )
        region = Account().phone_region
    return Account(
        case_types=names("case_types"),
        case_statuses=names("case_statuses"),
        phone_region=region,
        duplicates="error" if value.get("duplicates") == "error" else "warn",
    )


def _freeze(draft: Draft, document: Document, rows: RowSet | None) -> Record:
    """A valid draft as the frozen Record that the planner reads."""
    reference_names = REFERENCE_FIELDS[draft.kind]
    fields: dict[str, Any] = {}
    refs: dict[str, tuple[Ref, ...]] = {}
    for name, value in draft.values.items():
        if name in MANIFEST_ONLY_FIELDS:
            continue  # tells kayse-pipeline what to do; never sent
        if name not in reference_names:
            fields[name] = value
        elif name in SINGLE_REFERENCE_FIELDS:
            refs[name] = (_ref(value),)
        elif rows is not None and any(item in rows.by_name for item in value):
            refs[name] = _expand(value, reference_names[name], rows)
        else:
            refs[name] = tuple(_ref(item) for item in value)
    line, column = document.position(draft.at, key=True)
    return Record(
        kind=draft.kind,
        symbol=draft.symbol,
        fields=MappingProxyType(fields),
        refs=MappingProxyType(refs),
        position=Position(document.file, line, column),
    )


def _expand(value: Iterable[str | float], wanted: Kind, rows: RowSet) -> tuple[Ref, ...]:
    """References with each row source's name replaced by the symbols it makes, each once."""
    expanded: dict[Ref, None] = {}
    for item in value:
        if isinstance(item, str) and item in rows.by_name:
            expanded.update(dict.fromkeys(rows.symbols_of(item, wanted)))
        else:
            expanded[_ref(item)] = None
    return tuple(expanded)


def _ref(value: str | float) -> Ref:
    # JSON Schema counts 7.0 as an integer; the model promises int IDs.
    return int(value) if isinstance(value, float) else value
