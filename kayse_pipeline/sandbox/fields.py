"""The sandbox's field tables: what each object takes, as validation and metadata share them.

The defaults follow kayse-api.md; an account file's ``fields`` block changes them (a field
made required or optional, given a closed list of values, added, or no longer listed), so
that a sandbox can stand in for an account configured differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final


@dataclass(frozen=True)
class Field:
    """One field of a request body; ``type`` is the name the metadata endpoint reports."""

    name: str
    type: str
    required: bool = False
    description: str = ""
    values: tuple[str, ...] | None = None  # a closed list of allowed values
    listed: bool = True  # False: the account does not offer it (ignored like an unknown field)


@dataclass(frozen=True)
class FieldChange:
    """One change of a field table, as an account file's ``fields`` block states it."""

    table: str
    name: str
    required: bool | None = None
    values: tuple[str, ...] | None = None
    absent: bool = False


CLIENT_FIELDS: Final = (
    Field("first_name", "string", True, "given name"),
    Field("last_name", "string", True, "family name"),
    Field("email", "string"),
    Field("mobile", "string", description="phone number, E.164 form"),
    Field("external_source", "string", True, "label of the system the record comes from"),
    Field("external_source_id", "string", True, "the record's id in that system"),
    Field("date_of_birth", "date"),
    Field("date_of_death", "date"),
    Field("city", "string"),
    Field("state", "string"),
    Field("postal_code", "string"),
    Field("address_line1", "string"),
    Field("address_line2", "string"),
    Field("voice_calls_opted_out", "bool"),
    Field("meta", "object", description="free key/value data"),
    Field("case_ids", "[]uint", description="linked cases; replaces the client's links"),
)
CASE_FIELDS: Final = (
    Field("case_number", "string", True, "case identifier"),
    Field("name", "string"),
    Field("status", "string", True, "a status name configured in the account"),
    Field("type", "string", True, "a case-type name configured in the account"),
    Field("external_source", "string", True, "label of the system the record comes from"),
    Field("external_source_id", "string", True, "the record's id in that system"),
    Field("external_source_data", "object", description="free key/value data from the source"),
    Field("court_name", "string"),
    Field("jurisdiction", "string"),
    Field("description", "string"),
    Field("is_obo", "bool", description="on behalf of another party"),
    Field("created_date", "date"),
    Field("court_date", "date"),
    Field("end_date", "date"),
    Field("client_ids", "[]uint", description="linked clients; replaces the case's links"),
    Field("opt_out_voice_calls", "bool", description="true opts every linked client out"),
)
LIST_FIELDS: Final = (
    Field("name", "string", True),
    Field("description", "string"),
    Field("external_source", "string"),
    Field("external_source_id", "string"),
    Field("filter", "object", description="case_type_ids and/or status_ids (metadata ids)"),
    Field("include_ids", "[]uint", description="cases forced in; needs filter"),
    Field("exclude_ids", "[]uint", description="cases forced out; needs filter"),
    Field("is_obo", "bool", description="true marks the list's cases on behalf of"),
)
CAMPAIGN_FIELDS: Final = (
    Field("name", "string", True),
    Field("agent_id", "string", description="required unless every run is messaging_only"),
    Field("case_list_id", "uint", True),
    Field("is_obo", "bool"),
    Field("calls_scheduled_externally", "bool"),
    Field("never_ending", "bool"),
    Field("concurrency_limit", "count", description="0 means unlimited"),
    Field("self_healing_disabled", "bool"),
    Field("form_id", "uint"),
    Field("use_company_hours", "bool"),
    Field("business_hours", "array", description="required when use_company_hours"),
    Field("runs", "array", True),
    Field("report_schedule", "object"),
)
RUN_FIELDS: Final = (
    Field("client_run_id", "string"),
    Field("start_date", "date", True),
    Field("end_date", "date", True),
    Field("start_time", "time"),
    Field("end_time", "time"),
    Field("messaging_only", "bool"),
)
HOURS_FIELDS: Final = (Field("start_time", "time", True), Field("end_time", "time", True))


TABLES: Final[Mapping[str, tuple[Field, ...]]] = {
    "clients": CLIENT_FIELDS,
    "cases": CASE_FIELDS,
    "case_lists": LIST_FIELDS,
}


def changed(table: str, changes: Iterable[FieldChange]) -> tuple[Field, ...]:
    """A table with an account's changes applied; a field it does not know is added as text."""
    fields = {f.name: f for f in TABLES[table]}
    for change in changes:
        if change.table != table:
            continue
        field = fields.get(change.name, Field(change.name, "string"))
        if change.absent:
            field = replace(field, listed=False)
        if change.required is not None:
            field = replace(field, required=change.required)
        if change.values is not None:
            field = replace(field, values=change.values)
        fields[change.name] = field
    return tuple(fields.values())
