"""The bundled JSON Schema of the manifest, and its errors turned into readable diagnostics.

The schema checks shape: sections, symbols, field names, types and formats. Fields
that the API requires are checked later, once ``defaults`` are merged under each
record, because a required field may come from ``defaults``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kayse_pipeline.manifest.diagnostics import (
    DiagnosticLog,
    did_you_mean,
    is_personal,
    show,
    show_field,
)
from kayse_pipeline.manifest.schema_predicates import Predicate, PredicateCompiler
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import KIND_OF_SECTION

if TYPE_CHECKING:  # jsonschema loads only when a document needs its messages
    import jsonschema
    from jsonschema.exceptions import ValidationError

SCHEMA_RESOURCE = "manifest_schema.json"
SYMBOL_RE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
SYMBOL_RULE = "a lowercase letter, then lowercase letters, digits or _, up to 64 characters"

# Fields the API requires on create, checked after defaults are merged (kayse-api.md 6.1-9.1).
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "contacts": ("first_name", "last_name", "external_source", "external_source_id"),
    "cases": ("case_number", "status", "type", "external_source", "external_source_id"),
    "lists": ("name",),
    "campaigns": ("name", "case_list_id", "runs"),
}

# Fields of the manifest that say what kayse-pipeline should do: never sent to Kayse.
MANIFEST_ONLY_FIELDS = frozenset({"prune"})
SCHEMA_REGION = re.compile(r"[A-Z]{2}\Z")

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


@functools.cache
def manifest_schema() -> Mapping[str, Any]:
    """The manifest's JSON Schema (draft 2020-12), read from the installed package."""
    # Beside this module in the installed package (importlib.resources costs more to import).
    text = Path(__file__).with_name(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    """The schema's validator, built once per process."""
    import jsonschema

    return jsonschema.Draft202012Validator(manifest_schema())


def _pattern_messages() -> dict[str, str]:
    defs = manifest_schema()["$defs"]
    region = manifest_schema()["properties"]["account"]["properties"]["phone_region"]
    return {
        defs["date"]["pattern"]: "must be a date YYYY-MM-DD",
        defs["time"]["pattern"]: "must be a time HH:mm",
        defs["variableName"]["pattern"]: "must be a variable name (letters, digits and _)",
        region["pattern"]: "must be an ISO 3166 region code in capitals, such as US",
    }


@functools.cache
def section_checks() -> Mapping[str, tuple[Predicate, Predicate]]:
    """For each section of records: fast predicates for its symbols and for its records."""
    schema = manifest_schema()
    compiler = PredicateCompiler(schema)
    return {
        section: (
            compiler.compile(schema["properties"][section]["propertyNames"]),
            compiler.compile(schema["properties"][section]["additionalProperties"]),
        )
        for section in KIND_OF_SECTION
    }


@functools.cache
def _document_check() -> Predicate | None:
    """A fast predicate for a whole document, or None if the schema uses what it cannot check."""
    schema = manifest_schema()
    try:
        return PredicateCompiler(schema).compile(schema)
    except ValueError:
        return None


def check_schema(data: Any, reporter: DiagnosticLog) -> None:
    """Report every place where ``data`` does not fit the manifest's schema."""
    suspects = _suspects(data)
    fits = _document_check()
    if fits is not None and fits(suspects):
        return  # valid: jsonschema is needed only to explain a problem
    patterns = _pattern_messages()
    for error in _validator().iter_errors(suspects):
        _translate(error, reporter, patterns)


def _suspects(data: Any) -> Any:
    """``data`` with only the records that may be invalid: jsonschema is slow on thousands."""
    if not isinstance(data, dict):
        return data
    pruned = dict(data)
    for section, (symbol_ok, record_ok) in section_checks().items():
        records = data.get(section)
        if isinstance(records, dict):
            pruned[section] = {
                symbol: record
                for symbol, record in records.items()
                if not (symbol_ok(symbol) and record_ok(record))
            }
    return pruned


def _translate(
    error: ValidationError, reporter: DiagnosticLog, patterns: Mapping[str, str]
) -> None:
    path: NodePath = tuple(error.absolute_path)
    # jsonschema types these attributes loosely; here they hold plain JSON values.
    kind, expected, instance, schema = (
        error.validator,
        cast(Any, error.validator_value),
        cast(Any, error.instance),
        cast(Any, error.schema),
    )
    if "propertyNames" in error.schema_path:
        name = str(instance)
        reporter.report(
            path, f"'{name}' is not a valid symbol ({SYMBOL_RULE})", at=(*path, name), key=True
        )
        reporter.poison((*path, name))
    elif kind == "additionalProperties" and expected is False:
        known = schema.get("properties", {})
        # The top level, account and defaults have keys; records, runs and hours have fields.
        what = "key" if len(path) <= 1 else "field"
        for name in instance:
            if name not in known:
                reporter.report(
                    path,
                    f"unknown {what} '{name}'{did_you_mean(name, known)}",
                    at=(*path, name),
                    key=True,
                )
                reporter.poison((*path, name))
    elif kind == "required":
        for name in expected:
            if name not in instance:
                reporter.report((*path, name), "required field missing", at=path)
                reporter.poison((*path, name))
    else:
        reporter.report(path, _value_message(error, path, patterns))
        reporter.poison(path)


def _value_message(error: ValidationError, path: NodePath, patterns: Mapping[str, str]) -> str:
    """The message for a value that has the wrong type, form or size."""
    kind, expected, value = error.validator, cast(Any, error.validator_value), error.instance
    if kind == "type":
        if expected == ["string", "integer"]:
            return f"must be a symbol or the integer ID of an existing record, not {show(value)}"
        if path[-2:-1] == ("case_ids",) and isinstance(value, str):
            return (
                "case_ids takes IDs of existing cases only; "
                "link a contact to a new case with that case's client_ids"
            )
        shown = show_field(value, path)
        message = f"must be {_TYPE_NAMES.get(str(expected), expected)}, not {shown}"
        if expected == "integer" and isinstance(value, str) and value.isdigit():
            message += " (write the number without quotes; ${...} always gives a string)"
        return message
    if kind == "pattern":
        if expected in patterns:
            return f"{patterns[expected]}, not {show_field(value, path)}"
        if str(value).isdigit():
            return (
                f"{show(value)} is a string, so it would be a symbol; "
                f"write an existing record's ID as a plain integer: {value}"
            )
        return f"{show(value)} is not a valid symbol ({SYMBOL_RULE})"
    if kind == "minItems":
        return "needs at least one run" if path[-1:] == ("runs",) else "must not be empty"
    if kind == "minimum":
        return f"must be {expected} or more, not {show_field(value, path)}"
    if kind == "maximum":
        return f"must be {expected} or less (a Kayse ID), not {show_field(value, path)}"
    if kind == "const":
        return f"must be {show(expected)}, not {show_field(value, path)}"
    if is_personal(path):  # jsonschema's own messages quote the value
        return f"is not valid ({kind} check; the value is personal data, not shown)"
    return error.message
