"""How a message names a record: its kind and symbol, and what finds it in Kayse, never personal.

Every message that names a record to a person (the unknown-record advice, a failure, a
plan line) goes through ``record_name``. Symbols never hold personal data (the manifest
checks that); the clue beside one is an external ID, a case number or a list's name, and
only when no lead's data went into it: not a field that a personal column of a data row
fills (``external_source_id: "{email}"``), not a value that holds one of the record's own
personal fields. Without such a clue, the record's place in the manifest or data file
(``leads.csv:12``) tells the person which one it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from kayse_pipeline.model import JSON, PERSONAL_FIELDS, Kind, Record

# Fields that find a record in Kayse; never a contact's or a case's name (a person's name).
CLUES: Mapping[Kind, tuple[str, ...]] = {
    "contact": ("external_source_id",),
    "case": ("external_source_id", "case_number"),
    "list": ("external_source_id", "name"),
    "campaign": ("name",),
}


def record_name(kind: str, symbol: str, record: Record | None = None) -> str:
    """``contact lead_0001``; given the record, also ``(external_source_id intake-0001)``."""
    return f"{kind} {symbol}{clue(record)}" if record is not None else f"{kind} {symbol}"


def clue(record: Record) -> str:
    """`` (FIELD VALUE)`` that finds the record in Kayse without personal data, else its place."""
    own = [t.lower() for t in map(_text, (record.fields.get(f) for f in PERSONAL_FIELDS)) if t]
    for key in CLUES[record.kind]:
        text = _text(record.fields.get(key))
        if text is None or key in record.hidden:
            continue
        if any(len(value) > 2 and value in text.lower() for value in own):
            continue  # an identifier made of the lead's own email, phone or name
        return f" ({key} {text})"
    return f" ({record.position.file}:{record.position.line})"


def _text(value: JSON) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)
