"""What identifies a lead: phones and emails checked and normalised, and duplicates found.

Values are normalised before anything is fingerprinted, compared or sent, so that a recipe
written ``(512) 555-0101`` and one written ``+15125550101`` mean the same record. Two
contacts with one mobile or one email are a warning (a household can share a phone), or
an error with ``account.duplicates: error``; two cases with one ``case_number`` are always
an error (Kayse's case numbers are unique). Every message gives places, never values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import Any

from kayse_pipeline.manifest.defaults import Draft
from kayse_pipeline.manifest.diagnostics import DiagnosticLog
from kayse_pipeline.manifest.values import EXTENSION, NOT_VALID, check_value, value_formats
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import SECTION_OF_KIND, Account, Kind

# The fields whose values must not repeat across the recipe, by kind.
UNIQUE_FIELDS: Mapping[Kind, tuple[str, ...]] = {
    "contact": ("mobile", "email"),
    "case": ("case_number",),
}
SUMMARIES: Mapping[str, str] = {
    NOT_VALID: "phone numbers that are possible but not valid",
    EXTENSION: "phone numbers with an extension",
    "duplicate-mobile": "contacts with the mobile of an earlier contact",
    "duplicate-email": "contacts with the email of an earlier contact",
}

Warn = Callable[[NodePath, str, str], None]
"""Report a warning: (label, message, code)."""
Fail = Callable[[NodePath, str], None]
"""Report an error: (label, message)."""


def check_values(
    kind: Kind,
    at: NodePath,
    values: MutableMapping[str, Any],
    region: str,
    fail: Fail,
    warn: Warn,
) -> int:
    """Check the phones and emails of a record (written at ``at``) and normalise them in place.

    Returns how many values changed.
    """
    changed = 0
    for name, fmt in value_formats(kind).items():
        value = values.get(name)
        if not isinstance(value, str):
            continue  # absent, or the wrong type (the schema says so)
        checked = check_value(fmt, value, region)
        label = (*at, name)
        if checked.error is not None:
            fail(label, checked.error)
            continue
        if checked.warning is not None and checked.code is not None:
            warn(label, checked.warning, checked.code)
        if checked.value != value:
            values[name] = checked.value
            changed += 1
    return changed


class Uniques:
    """The first record of each mobile, email and case number seen, to name both places."""

    def __init__(self, account: Account) -> None:
        self.duplicates_are_errors = account.duplicates == "error"
        self._first: dict[str, dict[str, str]] = {
            name: {} for names in UNIQUE_FIELDS.values() for name in names
        }

    def see(self, kind: Kind, symbol: str, values: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """Remember a record's values; yield (field, earlier symbol) for each one seen before."""
        for name in UNIQUE_FIELDS.get(kind, ()):
            value = values.get(name)
            if not isinstance(value, str) or not value.strip():
                continue
            first = self._first[name].setdefault(value, symbol)
            if first != symbol:
                yield name, first

    def forget(self, kind: Kind, symbol: str, values: Mapping[str, Any]) -> None:
        """Take back what ``see`` remembered of a record that is left out after all."""
        for name in UNIQUE_FIELDS.get(kind, ()):
            value = values.get(name)
            if isinstance(value, str) and self._first[name].get(value) == symbol:
                del self._first[name][value]

    def report(
        self,
        kind: Kind,
        symbol: str,
        values: Mapping[str, Any],
        place_of: Callable[[str], str],
        fail: Fail,
        warn: Warn,
    ) -> None:
        """``see`` a record and report each of its values that an earlier record has."""
        section = SECTION_OF_KIND[kind]
        for name, first in self.see(kind, symbol, values):
            label = (section, symbol, name)
            where = f"{section}.{first} ({place_of(first)})"
            if kind == "case":
                fail(label, f"same case_number as {where}: Kayse's case numbers are unique")
            elif self.duplicates_are_errors:
                fail(label, f"same {name} as {where} (account.duplicates: error)")
            else:
                warn(label, f"same {name} as {where}", f"duplicate-{name}")


def check_inline(
    drafts: Sequence[Draft], account: Account, reporter: DiagnosticLog, uniques: Uniques
) -> int:
    """Check and normalise the phones and emails of inline records, find their duplicates.

    Returns how many values were normalised. Values that ``defaults`` give are checked
    once, where ``defaults`` writes them.
    """

    def place_of(symbol: str) -> str:
        draft = by_symbol[symbol]
        return f"{reporter.document.file}:{reporter.document.position(draft.at, key=True)[0]}"

    by_symbol: dict[str, Draft] = {}
    changed = 0
    for draft in drafts:
        if draft.kind not in UNIQUE_FIELDS:
            continue
        by_symbol.setdefault(draft.symbol, draft)
        own = {k: v for k, v in draft.values.items() if k not in draft.inherited}

        def fail(label: NodePath, message: str, draft: Draft = draft) -> None:
            reporter.rule(label, message, at=draft.path(str(label[-1])))

        def warn(label: NodePath, message: str, code: str, draft: Draft = draft) -> None:
            at = draft.path(str(label[-1]))
            reporter.warn(label, message, code=code, summary=SUMMARIES[code], at=at)

        changed += check_values(draft.kind, draft.at, own, account.phone_region, fail, warn)
        draft.values.update(own)
        if by_symbol[draft.symbol] is draft:  # a repeated symbol is reported as such
            # a value from defaults is written once: it is no record's duplicate
            uniques.report(draft.kind, draft.symbol, own, place_of, fail, warn)
    return changed


def check_defaults(data: Mapping[str, Any], account: Account, reporter: DiagnosticLog) -> int:
    """Check and normalise the phones and emails written in ``defaults`` (before any merge)."""
    defaults = data.get("defaults")
    if not isinstance(defaults, dict):
        return 0
    changed = 0
    for kind, section in SECTION_OF_KIND.items():
        values = defaults.get(section)
        if not isinstance(values, dict) or not value_formats(kind):
            continue

        def fail(label: NodePath, message: str) -> None:
            reporter.rule(label, message)

        def warn(label: NodePath, message: str, code: str) -> None:
            reporter.warn(label, message, code=code, summary=SUMMARIES[code])

        at = ("defaults", section)
        changed += check_values(kind, at, values, account.phone_region, fail, warn)
    return changed
