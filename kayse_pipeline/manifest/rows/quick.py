"""A fast check of a data row: true when the values from its cells pass every check.

Most rows of an import are fine; checking each with jsonschema and the rules would cost
seconds per ten thousand. The quick check answers only "fine or not"; a row it refuses
is checked in full, which says what is wrong.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping
from typing import Any

from kayse_pipeline.manifest.rows.template import RowTemplate
from kayse_pipeline.manifest.rules import DATE_FIELDS
from kayse_pipeline.manifest.schema import REQUIRED_FIELDS, manifest_schema
from kayse_pipeline.manifest.schema_predicates import Predicate, PredicateCompiler
from kayse_pipeline.model import SECTION_OF_KIND, Account, Kind


@functools.cache
def _field_checks(kind: Kind) -> Mapping[str, Predicate]:
    """Each field of a kind: the schema's predicate for its value."""
    schema = manifest_schema()
    compiler = PredicateCompiler(schema)
    return {
        name: compiler.compile(prop) for name, prop in schema["$defs"][kind]["properties"].items()
    }


def quick_check(template: RowTemplate, account: Account) -> Callable[[dict[str, Any]], bool]:
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
