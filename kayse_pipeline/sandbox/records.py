"""What happens to the data: records, links, list membership, as Kayse answers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from kayse_pipeline.sandbox.account import AccountConfig
from kayse_pipeline.sandbox.store import Store
from kayse_pipeline.sandbox.validation import JsonObject

ORIGIN: Final = "public_api"

# Internal keys of a list's stored body: the filter resolved to names when it was saved, so
# that later changes of the account's configuration do not silently change old lists.
_MATCH_TYPES: Final = "_match_types"
_MATCH_STATUSES: Final = "_match_statuses"


class Records:
    """The record operations that the routes call, inside the core's transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- clients -------------------------------------------------------------------------------

    def save_client(self, record: JsonObject, client_id: int | None = None) -> int:
        """Create (no id) or fully replace a client; ``case_ids`` replaces its links."""
        case_ids = record.pop("case_ids") or []
        client_id = self._save("clients", record, client_id)
        self.store.set_cases_of_client(client_id, case_ids)
        return client_id

    def client(self, client_id: int) -> JsonObject | None:
        """A client as the API shows it, or None."""
        body = self.store.get("clients", client_id)
        if body is None:
            return None
        origin = _pop_origin(body)
        return {
            "id": client_id,
            **body,
            "case_ids": self.store.cases_of_client(client_id),
            **origin,
        }

    def delete_client(self, client_id: int) -> bool:
        """Remove a client and its links; its cases stay."""
        self.store.set_cases_of_client(client_id, [])
        return self.store.delete("clients", client_id)

    # -- cases ---------------------------------------------------------------------------------

    def save_case(self, record: JsonObject, case_id: int | None = None) -> int:
        """Create (no id) or fully replace a case; ``client_ids`` replaces its links."""
        client_ids = record.pop("client_ids") or []
        case_id = self._save("cases", record, case_id)
        self.store.set_clients_of_case(case_id, client_ids)
        if record["opt_out_voice_calls"] is True:
            # Documented: every linked client becomes voice-call opted out.
            for client_id in client_ids:
                body = self.store.get("clients", client_id)
                if body is not None and body.get("voice_calls_opted_out") is not True:
                    self.store.put("clients", client_id, {**body, "voice_calls_opted_out": True})
        return case_id

    def case(self, case_id: int) -> JsonObject | None:
        """A case as the API shows it, or None."""
        body = self.store.get("cases", case_id)
        if body is None:
            return None
        origin = _pop_origin(body)
        client_ids = self.store.clients_of_case(case_id)
        called = body.get("opt_out_voice_calls") is True or any(
            (self.store.get("clients", c) or {}).get("voice_calls_opted_out") is True
            for c in client_ids
        )
        return {
            "id": case_id,
            **body,
            "client_ids": client_ids,
            "call_opted_out": called,
            "sms_opted_out": False,
            "email_opted_out": False,
            **origin,
        }

    def delete_case(self, case_id: int) -> bool:
        """Remove a case, its client links and its place in every list."""
        self.store.forget_case(case_id)
        return self.store.delete("cases", case_id)

    def delete_cases(
        self, case_ids: list[int], *, with_clients: bool
    ) -> tuple[list[int], list[int]]:
        """Delete the existing ones of these cases (and clients linked only to them)."""
        doomed = sorted(self.store.existing("cases", case_ids))
        orphans: list[int] = []
        if with_clients:
            gone = set(doomed)
            linked = {c for case_id in doomed for c in self.store.clients_of_case(case_id)}
            orphans = sorted(c for c in linked if set(self.store.cases_of_client(c)) <= gone)
        for case_id in doomed:
            self.delete_case(case_id)
        for client_id in orphans:
            self.delete_client(client_id)
        return doomed, orphans

    # -- case lists ----------------------------------------------------------------------------

    def save_list(
        self, record: JsonObject, account: AccountConfig, list_id: int | None = None
    ) -> int:
        """Create or fully replace a list: filter resolved, overrides set, OBO flag pushed."""
        include = record.pop("include_ids") or []
        exclude = record.pop("exclude_ids") or []
        list_filter = record["filter"] or {}
        record[_MATCH_TYPES] = _resolve(list_filter.get("case_type_ids"), account.type_names)
        record[_MATCH_STATUSES] = _resolve(list_filter.get("status_ids"), account.status_names)
        list_id = self._save("case_lists", record, list_id)
        self.store.set_overrides(list_id, include, exclude)
        if record["is_obo"] is True:
            # Slate: is_obo is pushed onto the list's cases.
            for case_id in self.members(list_id):
                body = self.store.get("cases", case_id)
                if body is not None and body.get("is_obo") is not True:
                    self.store.put("cases", case_id, {**body, "is_obo": True})
        return list_id

    def members(self, list_id: int, body: JsonObject | None = None) -> list[int]:
        """The ids of a list's cases, evaluated now (dynamic lists follow their filter)."""
        body = body if body is not None else self.store.get("case_lists", list_id) or {}
        return self.store.members(
            list_id,
            body.get(_MATCH_TYPES),
            body.get(_MATCH_STATUSES),
            filtered=body.get("filter") is not None,
        )

    def case_list(self, list_id: int, body: JsonObject | None = None) -> JsonObject | None:
        """A case list as the API shows it, or None."""
        body = body if body is not None else self.store.get("case_lists", list_id)
        if body is None:
            return None
        count = len(self.members(list_id, body))
        shown = {k: v for k, v in body.items() if not k.startswith("_")}
        origin = _pop_origin(shown)
        return {"id": list_id, **shown, "case_count": count, **origin}

    def attach(self, list_id: int, case_ids: list[int]) -> None:
        """Force cases into a list (a set operation)."""
        self.store.override(list_id, case_ids, included=True)

    def detach(self, list_id: int, case_ids: list[int]) -> None:
        """Take cases out of a list; a filtered list remembers them as excluded."""
        body = self.store.get("case_lists", list_id) or {}
        if body.get("filter") is None:
            self.store.drop_overrides(list_id, case_ids)
        else:
            self.store.override(list_id, case_ids, included=False)

    def cases_of_clients(self, client_ids: list[int]) -> list[int]:
        """Every case linked to any of these clients."""
        return sorted({c for client in client_ids for c in self.store.cases_of_client(client)})

    # -- campaigns -----------------------------------------------------------------------------

    def campaign(self, campaign_id: int, body: JsonObject) -> JsonObject:
        """A campaign as the list endpoint shows it."""
        case_list = self.store.get("case_lists", body["case_list_id"]) or {}
        return {"id": campaign_id, **body, "case_list_name": case_list.get("name")}

    # -- everything ----------------------------------------------------------------------------

    def dump(self) -> dict[str, list[JsonObject]]:
        """Every record, as the API shows it; lists also carry their member ``case_ids``."""
        clients = [self.client(i) for i, _ in self.store.rows("clients")]
        cases = [self.case(i) for i, _ in self.store.rows("cases")]
        lists: list[JsonObject] = []
        for list_id, body in self.store.rows("case_lists"):
            shown = self.case_list(list_id, body)
            assert shown is not None
            lists.append({**shown, "case_ids": self.members(list_id, body)})
        return {
            "clients": [c for c in clients if c is not None],
            "cases": [c for c in cases if c is not None],
            "case_lists": lists,
            "campaigns": [self.campaign(i, b) for i, b in self.store.rows("campaigns")],
        }

    def _save(self, table: str, record: JsonObject, record_id: int | None) -> int:
        if record_id is None:
            return self.store.insert(table, {**record, "origin": ORIGIN, "update_origin": None})
        old = self.store.get(table, record_id) or {}
        body = {**record, "origin": old.get("origin", ORIGIN), "update_origin": ORIGIN}
        self.store.put(table, record_id, body)
        return record_id


def _pop_origin(body: JsonObject) -> dict[str, Any]:
    # origin / update_origin come last, as in the docs' examples.
    return {"origin": body.pop("origin", ORIGIN), "update_origin": body.pop("update_origin", None)}


def _resolve(ids: list[int] | None, names: Callable[[list[int]], list[str]]) -> list[str] | None:
    return None if ids is None else names(ids)
