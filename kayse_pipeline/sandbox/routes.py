"""The route table and its handlers: parse, validate, check references, call ``Records``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from kayse_pipeline.sandbox.account import AccountConfig
from kayse_pipeline.sandbox.records import Records
from kayse_pipeline.sandbox.validation import (
    JsonObject,
    bad_request,
    check_campaign,
    check_case,
    check_client,
    check_ids,
    check_item_id,
    check_items,
    check_list,
    describe,
    not_found,
    query_bool,
    query_int,
    require_object,
)

PREFIX: Final = "/v1"
BULK_DELETE_MAX: Final = 500  # documented for /cases/bulk_delete
PAGE_SIZE_MAX: Final = 100  # documented for /case_lists


class Admin(Protocol):
    """What the admin routes need from the core."""

    def stats(self) -> JsonObject: ...

    def set_faults(self, spec: str) -> str: ...


@dataclass
class Context:
    """One request as a handler sees it."""

    records: Records
    account: AccountConfig
    admin: Admin
    bulk_max: int
    record_id: int = 0
    query: Mapping[str, str] = field(default_factory=dict)
    raw_body: bytes = b""

    def body(self) -> JsonObject:
        """The request body, which must be a JSON object."""
        try:
            value = json.loads(self.raw_body or b"null")
        except ValueError:
            raise bad_request("request body is not valid JSON") from None
        return require_object(value, "")

    def require_ids(self, table: str, ids: list[int], where: str) -> None:
        """400 naming the first id (by index) that is not a record of ``table``."""
        found = self.records.store.existing(table, ids)
        for index, value in enumerate(ids):
            if value not in found:
                raise bad_request(f"{where}[{index}] does not name an existing {_NOUN[table]}")

    def require_record(self, table: str) -> None:
        """404 unless the path's id names a record of ``table``."""
        if not self.records.store.existing(table, [self.record_id]):
            raise not_found(f"{_NOUN[table]} not found")


_NOUN: Final = {"clients": "client", "cases": "case", "case_lists": "case list"}


# -- clients -----------------------------------------------------------------------------------


def _client(ctx: Context, body: Any, where: str = "") -> JsonObject:
    record = check_client(body, ctx.account, where)
    ctx.require_ids("cases", record["case_ids"] or [], f"{where}case_ids")
    return record


def create_client(ctx: Context) -> Any:
    return ctx.records.client(ctx.records.save_client(_client(ctx, ctx.body())))


def get_client(ctx: Context) -> Any:
    ctx.require_record("clients")
    return ctx.records.client(ctx.record_id)


def put_client(ctx: Context) -> Any:
    ctx.require_record("clients")
    record = _client(ctx, ctx.body())
    return ctx.records.client(ctx.records.save_client(record, ctx.record_id))


def delete_client(ctx: Context) -> Any:
    ctx.require_record("clients")
    ctx.records.delete_client(ctx.record_id)
    return {"message": "client deleted successfully"}


def bulk_clients(ctx: Context) -> Any:
    items = _bulk(ctx, "clients", lambda item, where: _client(ctx, item, where))
    ids = [ctx.records.save_client(record, item_id) for item_id, record in items]
    return {"clients": [ctx.records.client(i) for i in ids]}


# -- cases -------------------------------------------------------------------------------------


def _case(ctx: Context, body: Any, where: str = "") -> JsonObject:
    record = check_case(body, ctx.account, where)
    ctx.require_ids("clients", record["client_ids"] or [], f"{where}client_ids")
    return record


def _unique_case_numbers(ctx: Context, items: list[tuple[int | None, JsonObject, str]]) -> None:
    """400 for a case_number that another case has, or that an earlier item of the call has.

    Kayse documents case_number as the case's unique identifier. The message names the
    other case, never the number.
    """
    earlier: dict[str, str] = {}
    for item_id, record, where in items:
        number = record["case_number"]
        if number in earlier:
            raise bad_request(f"{where}case_number repeats {earlier[number]}case_number")
        earlier[number] = where
        holder = ctx.records.store.case_numbered(number)
        if holder is not None and holder != item_id:
            raise bad_request(f"{where}case_number is already the number of case {holder}")


def create_case(ctx: Context) -> Any:
    record = _case(ctx, ctx.body())
    _unique_case_numbers(ctx, [(None, record, "")])
    return ctx.records.case(ctx.records.save_case(record))


def get_case(ctx: Context) -> Any:
    ctx.require_record("cases")
    return ctx.records.case(ctx.record_id)


def put_case(ctx: Context) -> Any:
    ctx.require_record("cases")
    record = _case(ctx, ctx.body())
    _unique_case_numbers(ctx, [(ctx.record_id, record, "")])
    return ctx.records.case(ctx.records.save_case(record, ctx.record_id))


def delete_case(ctx: Context) -> Any:
    ctx.require_record("cases")
    ctx.records.delete_case(ctx.record_id)
    return {"message": "case deleted successfully"}


def bulk_cases(ctx: Context) -> Any:
    items = _bulk(ctx, "cases", lambda item, where: _case(ctx, item, where))
    _unique_case_numbers(ctx, [(i, record, f"cases[{n}].") for n, (i, record) in enumerate(items)])
    ids = [ctx.records.save_case(record, item_id) for item_id, record in items]
    return {"cases": [ctx.records.case(i) for i in ids]}


def bulk_delete_cases(ctx: Context) -> Any:
    body = ctx.body()
    ids = check_ids(body, "ids", BULK_DELETE_MAX)
    with_clients = body.get("with_clients", False)
    if not isinstance(with_clients, bool):
        raise bad_request("with_clients must be true or false")
    deleted, clients = ctx.records.delete_cases(ids, with_clients=with_clients)
    return {"deleted_ids": deleted, "deleted_client_ids": clients}


# -- case lists --------------------------------------------------------------------------------


def _list(ctx: Context, body: Any, where: str = "") -> JsonObject:
    record = check_list(body, ctx.account, where)
    for key in ("include_ids", "exclude_ids"):
        ctx.require_ids("cases", record[key] or [], f"{where}{key}")
    return record


def search_lists(ctx: Context) -> Any:
    key = ctx.query.get("key", "").lower()
    page = query_int(ctx.query, "page", 1, 2**31)
    size = query_int(ctx.query, "page_size", 25, PAGE_SIZE_MAX)
    hide_empty = query_bool(ctx.query, "hide_empty")
    shown = []
    for list_id, body in ctx.records.store.rows("case_lists"):
        if key in (body.get("name") or "").lower():
            view = ctx.records.case_list(list_id, body)
            if view is not None and not (hide_empty and view["case_count"] == 0):
                shown.append(view)
    return {"data": shown[(page - 1) * size : page * size], "page": page, "total": len(shown)}


def create_list(ctx: Context) -> Any:
    return ctx.records.case_list(ctx.records.save_list(_list(ctx, ctx.body()), ctx.account))


def bulk_lists(ctx: Context) -> Any:
    items = _bulk(ctx, "lists", lambda item, where: _list(ctx, item, where))
    done = []
    for item_id, record in items:
        list_id = ctx.records.save_list(record, ctx.account, item_id)
        done.append({"id": list_id, "action": "created" if item_id is None else "updated"})
    return {"lists": done}


def attach(ctx: Context) -> Any:
    return _membership(ctx, "attach")


def detach(ctx: Context) -> Any:
    return _membership(ctx, "detach")


def _membership(ctx: Context, action: str) -> JsonObject:
    ctx.require_record("case_lists")
    ids = check_ids(ctx.body(), "include_ids", ctx.bulk_max)
    ctx.require_ids("cases", ids, "include_ids")
    change = ctx.records.attach if action == "attach" else ctx.records.detach
    change(ctx.record_id, ids)
    return {
        "action": action,
        "list_id": ctx.record_id,
        "matched_case_count": len(set(ids)),
        "case_count": len(ctx.records.members(ctx.record_id)),
    }


def append_clients(ctx: Context) -> Any:
    return _client_membership(ctx, "append")


def remove_clients(ctx: Context) -> Any:
    return _client_membership(ctx, "remove")


def _client_membership(ctx: Context, action: str) -> JsonObject:
    ctx.require_record("case_lists")
    client_ids = check_ids(ctx.body(), "client_ids", ctx.bulk_max)
    ctx.require_ids("clients", client_ids, "client_ids")
    case_ids = ctx.records.cases_of_clients(client_ids)
    change = ctx.records.attach if action == "append" else ctx.records.detach
    change(ctx.record_id, case_ids)
    return {
        "action": action,
        "list_id": ctx.record_id,
        "client_count": len(set(client_ids)),
        "matched_case_count": len(case_ids),
    }


# -- campaigns, metadata, admin ----------------------------------------------------------------


def create_campaign(ctx: Context) -> Any:
    record = check_campaign(ctx.body())
    if not ctx.records.store.existing("case_lists", [record["case_list_id"]]):
        raise bad_request("case_list_id does not name an existing case list")
    return {"id": ctx.records.store.insert("campaigns", record)}


def search_campaigns(ctx: Context) -> Any:
    key = ctx.query.get("key", "").lower()
    rows = ctx.records.store.rows("campaigns")
    return [ctx.records.campaign(i, b) for i, b in rows if key in b["name"].lower()]


def metadata(ctx: Context) -> Any:
    # The same tables that validate bodies, so what metadata says is what the sandbox takes.
    order = ("cases", "clients", "case_lists")
    return [{"name": name, "fields": describe(ctx.account.table(name))} for name in order]


def stats(ctx: Context) -> Any:
    return ctx.admin.stats()


def set_faults(ctx: Context) -> Any:
    spec = ctx.body().get("faults")
    if not isinstance(spec, str):
        raise bad_request('faults must be a fault spec string ("off" for none)')
    return {"faults": ctx.admin.set_faults(spec)}


def _bulk(
    ctx: Context, key: str, check: Callable[[Any, str], JsonObject]
) -> list[tuple[int | None, JsonObject]]:
    """Validate every item before anything is written: a bulk call is all-or-nothing."""
    table = "case_lists" if key == "lists" else key
    checked = []
    for index, item in enumerate(check_items(ctx.body(), key, ctx.bulk_max)):
        where = f"{key}[{index}]."
        item_id = check_item_id(item, where)
        if item_id is not None and not ctx.records.store.existing(table, [item_id]):
            raise bad_request(f"{where}id does not name an existing {_NOUN[table]}")
        checked.append((item_id, check(item, where)))
    return checked


# -- the table ---------------------------------------------------------------------------------

Handler = Callable[[Context], Any]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path under /v1 (``{id}`` = a record id), handler, success status."""

    method: str
    template: str
    handler: Handler
    status: int = 200
    admin: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        """The template as a regular expression over the full path."""
        return _compiled(self.template)


ROUTES: Final = (
    Route("POST", "/clients", create_client, 201),
    Route("GET", "/clients/{id}", get_client),
    Route("PUT", "/clients/{id}", put_client),
    Route("DELETE", "/clients/{id}", delete_client),
    Route("POST", "/clients/bulk", bulk_clients),
    Route("POST", "/cases", create_case, 201),
    Route("GET", "/cases/{id}", get_case),
    Route("PUT", "/cases/{id}", put_case),
    Route("DELETE", "/cases/{id}", delete_case),
    Route("POST", "/cases/bulk", bulk_cases),
    Route("POST", "/cases/bulk_delete", bulk_delete_cases),
    Route("GET", "/case_lists", search_lists),
    Route("POST", "/case_lists", create_list, 201),
    Route("POST", "/case_lists/bulk", bulk_lists),
    Route("PATCH", "/case_lists/{id}/attach", attach),
    Route("PATCH", "/case_lists/{id}/detach", detach),
    Route("POST", "/case_lists/{id}/clients/append", append_clients),
    Route("POST", "/case_lists/{id}/clients/remove", remove_clients),
    Route("POST", "/campaigns", create_campaign, 201),
    Route("GET", "/campaigns", search_campaigns),
    Route("GET", "/metadata/objects", metadata),
    Route("GET", "/_sandbox/stats", stats, admin=True),
    Route("POST", "/_sandbox/faults", set_faults, admin=True),
)

_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(template: str) -> re.Pattern[str]:
    if template not in _PATTERNS:
        # Ids are at most 18 digits: anything longer cannot be a record id (SQLite's range).
        body = re.escape(PREFIX + template).replace(r"\{id\}", r"(?P<id>[1-9][0-9]{0,17})")
        _PATTERNS[template] = re.compile(body)
    return _PATTERNS[template]


@dataclass(frozen=True)
class Resolution:
    """What a method and path resolve to: a route, or the methods the path allows (405)."""

    route: Route | None
    record_id: int = 0
    allowed: tuple[str, ...] = ()
    method: str = ""


def resolve(method: str, path: str) -> Resolution:
    """Find the route for a request; ``route`` None with ``allowed`` empty means 404."""
    allowed: list[str] = []
    for route in ROUTES:
        match = route.pattern.fullmatch(path)
        if match is None:
            continue
        if route.method == method:
            record_id = int(match["id"]) if "id" in match.groupdict() else 0
            return Resolution(route, record_id, method=method)
        allowed.append(route.method)
    return Resolution(None, allowed=tuple(sorted(allowed)), method=method)
