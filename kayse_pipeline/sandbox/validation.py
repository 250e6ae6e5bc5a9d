"""Field rules of the Kayse objects as kayse-api.md documents them; pure checks, no storage.

Every message names the offending field by its path (``clients[2].first_name``) and never
repeats a value that was sent: values are personal data.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Final

from kayse_pipeline.sandbox.account import AccountConfig
from kayse_pipeline.sandbox.fields import (
    CAMPAIGN_FIELDS,
    HOURS_FIELDS,
    RUN_FIELDS,
    Field,
)

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
        value = body.get(rule.name) if rule.listed else None
        blank = isinstance(value, str) and not value.strip()
        if value is None or (rule.required and blank):
            if rule.required:
                raise bad_request(f"{where}{rule.name} is required")
            record[rule.name] = None
            continue
        check, expected = _TYPES[rule.type]
        if not check(value):
            raise bad_request(f"{where}{rule.name} must be {expected}")
        if rule.values is not None and value not in rule.values:
            names = ", ".join(rule.values)
            raise bad_request(f"{where}{rule.name} must be one of the account's values: {names}")
        record[rule.name] = value
    return record


def check_client(body: Any, account: AccountConfig, where: str = "") -> JsonObject:
    """A client body (create, replace, bulk item)."""
    return check_fields(account.table("clients"), body, where)


def check_case(body: Any, account: AccountConfig, where: str = "") -> JsonObject:
    """A case body; its type and status must be configured in the account."""
    return check_fields(account.table("cases"), body, where)


def check_list(body: Any, account: AccountConfig, where: str = "") -> JsonObject:
    """A case-list body: filter keys known, include/exclude only beside a filter."""
    record = check_fields(account.table("case_lists"), body, where)
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
    """The metadata endpoint's view of a field table; closed lists as ``values``."""
    kinds = {"count": "uint", "array": "[]object", "time": "string"}
    shown: list[JsonObject] = []
    for r in rules:
        if not r.listed:
            continue
        entry: JsonObject = {
            "name": r.name,
            "type": kinds.get(r.type, r.type),
            "required": r.required,
            "description": r.description,
        }
        if r.values is not None:
            # The ids are what list filters take as status_ids / case_type_ids.
            entry["values"] = [{"id": i, "name": n} for i, n in enumerate(r.values, start=1)]
        shown.append(entry)
    return shown
