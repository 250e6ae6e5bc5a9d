"""Domain rules checked on merged records before anything is sent to Kayse (kayse-api.md 6-9)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kayse_pipeline.manifest.defaults import Draft
from kayse_pipeline.manifest.diagnostics import DiagnosticLog, did_you_mean, is_personal
from kayse_pipeline.manifest.schema import REQUIRED_FIELDS
from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import SECTION_OF_KIND, Account

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])\Z")
_MISSING = object()
# The TCPA calling window that Kayse enforces on call times.
WINDOW = (8 * 60, 21 * 60)
DATE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "contact": ("date_of_birth", "date_of_death"),
    "case": ("created_date", "court_date", "end_date"),
    "list": (),
    "campaign": (),
}
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    kind: REQUIRED_FIELDS[section] for kind, section in SECTION_OF_KIND.items()
}
CaseTypes = Callable[[str], Mapping[str, str] | None]
"""symbol -> {case type: a case symbol} for the cases it stands for; None: not a row symbol."""


def check_rules(
    drafts: Sequence[Draft],
    account: Account,
    reporter: DiagnosticLog,
    row_case_types: CaseTypes | None = None,
) -> None:
    """Report every record that breaks a rule of the API it will be sent to.

    ``row_case_types`` gives the case types behind a symbol that is no inline record (a
    row symbol or a row source), for the rule that a campaign's list has one case type.
    """
    for draft in drafts:
        check_record(draft, account, reporter)
    _check_list_types(drafts, reporter, row_case_types)


def check_record(draft: Draft, account: Account, reporter: DiagnosticLog) -> None:
    """Report what is wrong with one merged record, on its own."""
    for name in _REQUIRED[draft.kind]:
        value = draft.values.get(name, _MISSING)
        if value is _MISSING:
            reporter.rule((*draft.at, name), "required field missing", at=draft.at, key=True)
        elif isinstance(value, str) and not value.strip():
            reporter.rule(draft.path(name), "required field is empty")
    for name in DATE_FIELDS[draft.kind]:
        if name in draft.values:
            _date(draft.values[name], draft.path(name), reporter)
    if draft.kind == "case":
        _check_account(draft, account, reporter)
    elif draft.kind == "list":
        if "exclude_ids" in draft.values and "filter" not in draft.values:
            reporter.rule(
                draft.path("exclude_ids"),
                "needs a 'filter' beside it: the API only excludes cases from a filtered list",
                key=True,
            )
    elif draft.kind == "campaign":
        _check_campaign(draft, reporter)


def _check_account(draft: Draft, account: Account, reporter: DiagnosticLog) -> None:
    for name, allowed, listing in (
        ("status", account.case_statuses, "case_statuses"),
        ("type", account.case_types, "case_types"),
    ):
        value = draft.values.get(name)
        if allowed is None or not isinstance(value, str) or value in allowed:
            continue
        hint = (
            did_you_mean(value, allowed) or f" (account.{listing}: {', '.join(allowed) or 'none'})"
        )
        reporter.rule(draft.path(name), f"'{value}' is not a case {name} of the account{hint}")


def _check_campaign(draft: Draft, reporter: DiagnosticLog) -> None:
    values = draft.values
    runs = values.get("runs")
    runs = runs if isinstance(runs, list) else []
    use_hours = values.get("use_company_hours") is True
    messaging = [isinstance(run, dict) and run.get("messaging_only") is True for run in runs]
    if runs and not all(messaging) and "agent_id" not in values:
        reporter.rule(
            (*draft.at, "agent_id"),
            "required unless every run is messaging_only",
            at=draft.at,
            key=True,
        )
    if use_hours and "business_hours" not in values:
        reporter.rule(
            (*draft.at, "business_hours"),
            "required when use_company_hours is true",
            at=draft.at,
            key=True,
        )
    runs_path = draft.path("runs")
    for index, run in enumerate(runs):
        if isinstance(run, dict):
            _check_run(run, (*runs_path, index), messaging[index], use_hours, reporter)
    hours = values.get("business_hours")
    if isinstance(hours, list):
        _check_business_hours(hours, draft.path("business_hours"), reporter)


def _check_run(
    run: dict[str, Any], path: NodePath, messaging: bool, use_hours: bool, reporter: DiagnosticLog
) -> None:
    start = _date(run.get("start_date"), (*path, "start_date"), reporter)
    end = _date(run.get("end_date"), (*path, "end_date"), reporter)
    if start and end and end < start:
        reporter.rule((*path, "end_date"), f"must not be before start_date ({start.isoformat()})")
    if messaging:
        for name in ("start_time", "end_time"):
            if name in run:
                reporter.rule((*path, name), "not allowed on a messaging_only run", key=True)
        return
    timed = "start_time" in run or "end_time" in run
    for name, other in (("start_time", "end_time"), ("end_time", "start_time")):
        if name in run:
            continue
        if not use_hours:
            reporter.rule(
                (*path, name),
                "required unless the run is messaging_only or the campaign uses company hours",
                at=path,
            )
        elif timed:
            reporter.rule((*path, name), f"required beside {other}", at=path)
    _time_span(run, path, reporter)


def _check_business_hours(hours: list[Any], path: NodePath, reporter: DiagnosticLog) -> None:
    spans: list[tuple[int, int, int]] = []
    for index, slot in enumerate(hours):
        if not isinstance(slot, dict):
            continue
        span = _time_span(slot, (*path, index), reporter)
        if span is None:
            continue
        for start, end, other in spans:
            if span[0] < end and start < span[1]:
                reporter.rule(
                    (*path, index),
                    f"overlaps business_hours[{other}] ({_clock(start)}-{_clock(end)})",
                )
                break
        spans.append((*span, index))


def _time_span(
    slot: Mapping[str, Any], path: NodePath, reporter: DiagnosticLog
) -> tuple[int, int] | None:
    """Check one start/end pair of times; return them in minutes when both are usable."""
    minutes: list[int | None] = []
    for name in ("start_time", "end_time"):
        value = slot.get(name)
        match = _TIME.match(value) if isinstance(value, str) else None
        if match is None:
            minutes.append(None)
            continue
        minute = int(match[1]) * 60 + int(match[2])
        if not WINDOW[0] <= minute <= WINDOW[1]:
            reporter.rule((*path, name), f"must be within 08:00-21:00, not '{value}'")
        minutes.append(minute)
    start, end = minutes
    if start is None or end is None:
        return None
    if end <= start:
        reporter.rule((*path, "end_time"), f"must be after start_time ({_clock(start)})")
        return None
    return start, end


def _date(value: Any, path: NodePath, reporter: DiagnosticLog) -> datetime.date | None:
    """The date that ``value`` writes, or None; reports YYYY-MM-DD text that is no calendar date."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None  # absent, or already reported by the schema
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        wrong = "is not a calendar date"
        personal = is_personal(path)  # a birth date is a lead's data: place it, never quote it
        reporter.rule(
            path, f"{wrong} (personal data, not shown)" if personal else f"'{value}' {wrong}"
        )
        return None


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_list_types(
    drafts: Sequence[Draft], reporter: DiagnosticLog, row_case_types: CaseTypes | None
) -> None:
    """Every case on a list that a campaign uses must have the same type (Kayse help: lists)."""
    by_symbol: dict[str, Draft] = {}
    cases_of_contact: dict[str, list[Draft]] = {}
    for draft in drafts:
        by_symbol.setdefault(draft.symbol, draft)
        if draft.kind == "case":
            for contact in _symbols(draft.values.get("client_ids")):
                cases_of_contact.setdefault(contact, []).append(draft)
    for draft in drafts:
        list_symbol = draft.values.get("case_list_id") if draft.kind == "campaign" else None
        target = by_symbol.get(list_symbol) if isinstance(list_symbol, str) else None
        if target is None or target.kind != "list":
            continue
        excluded = set(_symbols(target.values.get("exclude_ids")))
        types: dict[str, str] = {}
        members = [by_symbol.get(s) for s in _symbols(target.values.get("include_ids"))]
        for contact in _symbols(target.values.get("client_ids")):
            members.extend(cases_of_contact.get(contact, ()))
        for case in members:
            if case is not None and case.kind == "case" and case.symbol not in excluded:
                case_type = case.values.get("type")
                if isinstance(case_type, str):
                    types.setdefault(case_type, case.symbol)
        unknown = False  # a member that is no record of the recipe: reported elsewhere
        for name in ("include_ids", "client_ids"):
            for symbol in _symbols(target.values.get(name)):
                if symbol in by_symbol or symbol in excluded:
                    continue
                found = row_case_types(symbol) if row_case_types is not None else None
                unknown = unknown or found is None
                for case_type, case_symbol in (found or {}).items():
                    types.setdefault(case_type, case_symbol)
        if len(types) > 1:
            found_types = " and ".join(f"'{t}' ({types[t]})" for t in sorted(types))
            reporter.rule(
                draft.path("case_list_id"),
                f"every case on list '{list_symbol}' must have the same type, "
                f"but it has {found_types}",
            )
        elif not types and not unknown and _only_own_members(target):
            reporter.rule(
                draft.path("case_list_id"),
                f"list '{list_symbol}' has no case: a campaign needs at least one case on its list",
            )


def _only_own_members(target: Draft) -> bool:
    """Whether the recipe alone decides a list's members: no filter, no existing record's ID."""
    if "filter" in target.values:
        return False
    return not any(
        isinstance(ref, int) and not isinstance(ref, bool)
        for name in ("include_ids", "client_ids")
        for ref in (target.values.get(name) or [])
    )


def _symbols(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
