"""Field rules of the Kayse objects as kayse-api.md documents them; pure checks, no storage.

Every message names the offending field by its path (``clients[2].first_name``) and never
repeats a value that was sent: values are personal data.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from kayse_pipeline.sandbox.account import AccountConfig

JsonObject = dict[str, Any]

MAX_ID: Final = 2**63 - 1  # SQLite's integer range
CALL_WINDOW: Final = ("08:00", "21:00")  # TCPA: calls between 8 AM and 9 PM
FILTER_KEYS: Final = ("case_type_ids", "status_ids")


class Problem(Exception):
    """An answer other than success, with the documented error body."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": error, "message": message}


def bad_request(message: str) -> Problem:
    """A 400 answer."""
    return Problem(400, "bad request", message)


def not_found(message: str) -> Problem:
    """A 404 answer."""
    return Problem(404, "not found", message)


@dataclass(frozen=True)
class Field:
    """One field of a request body; ``type`` is the name the metadata endpoint reports."""

    name: str
    type: str
    required: bool = False
    description: str = ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return _is_int(value) and 1 <= value <= MAX_ID


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value) is not None


# type name -> (check, what the message says the value must be)
_TYPES: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "uint": (_is_id, "a positive integer"),
    "count": (lambda v: _is_int(v) and 0 <= v <= MAX_ID, "a non-negative integer"),
    "date": (_is_date, "a date in YYYY-MM-DD form"),
    "time": (_is_time, "a time in HH:mm form"),
    "object": (lambda v: isinstance(v, dict), "an object"),
    "array": (lambda v: isinstance(v, list), "an array"),
    "[]uint": (lambda v: isinstance(v, list) and all(map(_is_id, v)), "an array of ids"),
}

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


def require_object(value: Any, where: str) -> JsonObject:
    """The value as a JSON object, or 400."""
    if not isinstance(value, dict):
        raise bad_request(f"{where or 'request body'} must be a JSON object")
    return value


def check_fields(rules: tuple[Field, ...], body: Any, where: str = "") -> JsonObject:
    """Every known field of the body, type-checked, absent ones as None; unknown ones dropped."""
    body = require_object(body, where.rstrip("."))
    record: JsonObject = {}
    for rule in rules:
        value = body.get(rule.name)
        blank = isinstance(value, str) and not value.strip()
        if value is None or (rule.required and blank):
            if rule.required:
                raise bad_request(f"{where}{rule.name} is required")
            record[rule.name] = None
            continue
        check, expected = _TYPES[rule.type]
        if not check(value):
            raise bad_request(f"{where}{rule.name} must be {expected}")
        record[rule.name] = value
    return record


def check_client(body: Any, where: str = "") -> JsonObject:
    """A client body (create, replace, bulk item)."""
    return check_fields(CLIENT_FIELDS, body, where)


def check_case(body: Any, account: AccountConfig, where: str = "") -> JsonObject:
    """A case body; its type and status must be configured in the account."""
    record = check_fields(CASE_FIELDS, body, where)
    for field, allowed in (("type", account.case_types), ("status", account.case_statuses)):
        if record[field] not in allowed:
            names = ", ".join(allowed)
            raise bad_request(f"{where}{field} must be one of the account's values: {names}")
    return record


def check_list(body: Any, account: AccountConfig, where: str = "") -> JsonObject:
    """A case-list body: filter keys known, include/exclude only beside a filter."""
    record = check_fields(LIST_FIELDS, body, where)
    list_filter = record["filter"]
    if list_filter is not None:
        limits = {"case_type_ids": account.case_types, "status_ids": account.case_statuses}
        for key, value in list_filter.items():
            if key not in limits:
                known = ", ".join(FILTER_KEYS)
                raise bad_request(
                    f"{where}filter.{key} is not a filter key the sandbox knows: {known}"
                )
            if not isinstance(value, list) or not all(
                _is_id(i) and i <= len(limits[key]) for i in value
            ):
                raise bad_request(f"{where}filter.{key} must be an array of metadata ids")
    for key in ("include_ids", "exclude_ids"):
        if record[key] and list_filter is None:
            raise bad_request(f"{where}{key} needs filter beside it")
    return record


def check_campaign(body: Any) -> JsonObject:
    """A campaign body in the runs[] schema."""
    record = check_fields(CAMPAIGN_FIELDS, body)
    company_hours = record["use_company_hours"] is True
    if not record["runs"]:
        raise bad_request("runs must hold at least one run")
    runs = [check_fields(RUN_FIELDS, run, f"runs[{i}].") for i, run in enumerate(record["runs"])]
    for i, run in enumerate(runs):
        where = f"runs[{i}]."
        if run["end_date"] < run["start_date"]:
            raise bad_request(f"{where}end_date must not be before start_date")
        timed = run["start_time"] is not None or run["end_time"] is not None
        if run["messaging_only"] is True:
            if timed:
                raise bad_request(
                    f"{where}start_time and end_time must not be sent on a messaging_only run"
                )
        elif timed or not company_hours:
            _check_window(run, where)
    if record["agent_id"] is None and not all(run["messaging_only"] is True for run in runs):
        raise bad_request("agent_id is required unless every run is messaging_only")
    hours = record["business_hours"]
    if company_hours and not hours:
        raise bad_request("business_hours is required when use_company_hours is true")
    slots = [
        check_fields(HOURS_FIELDS, h, f"business_hours[{i}].") for i, h in enumerate(hours or [])
    ]
    for i, slot in enumerate(slots):
        _check_window(slot, f"business_hours[{i}].")
    ordered = sorted(range(len(slots)), key=lambda i: slots[i]["start_time"])
    for before, after in itertools.pairwise(ordered):
        if slots[after]["start_time"] < slots[before]["end_time"]:
            raise bad_request(f"business_hours[{after}] overlaps business_hours[{before}]")
    record["runs"] = [{k: v for k, v in run.items() if v is not None} for run in runs]
    record["business_hours"] = slots or None
    return record


def _check_window(slot: JsonObject, where: str) -> None:
    for key in ("start_time", "end_time"):
        if slot[key] is None:
            raise bad_request(f"{where}{key} is required")
        if not CALL_WINDOW[0] <= slot[key] <= CALL_WINDOW[1]:
            raise bad_request(f"{where}{key} must be within {CALL_WINDOW[0]}-{CALL_WINDOW[1]}")
    if slot["end_time"] <= slot["start_time"]:
        raise bad_request(f"{where}end_time must be after start_time")


def check_ids(body: Any, key: str, limit: int) -> list[int]:
    """The id array under ``key``: present, non-empty, ids only, at most ``limit``."""
    value = require_object(body, "").get(key)
    if value is None:
        raise bad_request(f"{key} is required")
    if not _TYPES["[]uint"][0](value):
        raise bad_request(f"{key} must be an array of ids")
    if not value:
        raise bad_request(f"{key} must not be empty")
    if len(value) > limit:
        raise bad_request(f"{key} holds more than {limit} ids")
    return list(value)


def check_items(body: Any, key: str, limit: int) -> list[Any]:
    """The item array of a bulk call: present, non-empty, at most ``limit`` items."""
    value = require_object(body, "").get(key)
    if value is None:
        raise bad_request(f"{key} is required")
    if not isinstance(value, list):
        raise bad_request(f"{key} must be an array")
    if not value:
        raise bad_request(f"{key} must not be empty")
    if len(value) > limit:
        raise bad_request(f"{key} holds more than {limit} items")
    return value


def check_item_id(item: Any, where: str) -> int | None:
    """The ``id`` of a bulk item (update) or None (create)."""
    value = require_object(item, where.rstrip(".")).get("id")
    if value is not None and not _is_id(value):
        raise bad_request(f"{where}id must be a positive integer")
    return value


def query_int(query: Mapping[str, str], key: str, default: int, highest: int) -> int:
    """A positive integer query parameter, at most ``highest``."""
    raw = query.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= highest:
        raise bad_request(f"{key} must be an integer from 1 to {highest}")
    return int(raw)


def query_bool(query: Mapping[str, str], key: str) -> bool:
    """A boolean query parameter (true/false/1/0)."""
    raw = query.get(key, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise bad_request(f"{key} must be true or false")
    return raw in ("true", "1")


def describe(rules: tuple[Field, ...]) -> list[JsonObject]:
    """The metadata endpoint's view of a field table."""
    kinds = {"count": "uint", "array": "[]object", "time": "string"}
    return [
        {
            "name": r.name,
            "type": kinds.get(r.type, r.type),
            "required": r.required,
            "description": r.description,
        }
        for r in rules
    ]
