"""Reading saved records back from Kayse, and comparing them with what the manifest wants.

How a record is found:

- contacts and cases by ID (``GET /clients/{id}``, ``GET /cases/{id}``): a 404 is the
  only answer that says a record is gone;
- lists and campaigns have no documented read by ID: they are looked for in
  ``GET /case_lists?key=NAME`` (pages of 100) and ``GET /campaigns?key=NAME`` under the
  manifest's name, then in the whole listing (read once per run). Not found there means
  "could not confirm", never "gone".

When a record has drifted: a field that ``apply`` would send has another value in
Kayse's answer. Fields that the answer lacks are not compared (Kayse shows fewer fields
than it takes); objects are compared by the keys the manifest sets; arrays of IDs as
sets; other arrays item by item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kayse_pipeline.api.answer import URL_HINT
from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.api.endpoints import ENDPOINTS, read_call
from kayse_pipeline.errors import ApiError, AuthError, TransportError
from kayse_pipeline.manifest.values import normalised, value_formats
from kayse_pipeline.model import Kind, Manifest, Record
from kayse_pipeline.run.body import Bodies, IdSource

ID_ARRAYS = frozenset({"client_ids", "case_ids", "include_ids", "exclude_ids"})
PAGE_SIZE = 100  # the documented maximum of GET /case_lists
READ_BY_ID: tuple[Kind, ...] = ("contact", "case")  # the kinds whose 404 proves a deletion
# A field that only one of the two kinds read by ID carries: a contact is not a case.
KIND_MARK: dict[Kind, str] = {"contact": "first_name", "case": "case_number"}


class Desired:
    """What apply would send for each record, compared with what Kayse shows."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.bodies = Bodies(manifest)

    def differences(self, record: Record, ids: IdSource, actual: Mapping[str, Any]) -> list[str]:
        """Names of the fields whose value in Kayse is not the one the manifest wants.

        Phones and emails are compared normalised on both sides, as the manifest's are: a
        number Kayse shows in another format is the same number.
        """
        wanted = self.bodies.body(record, ids)
        formats = value_formats(record.kind)
        region = self.manifest.account.phone_region
        differ: list[str] = []
        for name, value in wanted.items():
            if name not in actual:
                continue
            have = actual[name]
            if name in formats:
                have = normalised(formats[name], have, region)
            if not _same(value, have, as_set=name in ID_ARRAYS):
                differ.append(name)
        return sorted(differ)


def _same(want: Any, have: Any, *, as_set: bool = False) -> bool:
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(
            key not in have or _same(value, have[key]) for key, value in want.items()
        )
    if isinstance(want, list | tuple):
        if not isinstance(have, list):
            return False
        if as_set:
            hashable = all(isinstance(v, int | None) for v in [*want, *have])
            return hashable and set(want) == set(have)
        return len(want) == len(have) and all(_same(w, h) for w, h in zip(want, have, strict=True))
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have  # True == 1 in Python, not in JSON
    return bool(want == have)


class Reader:
    """Finds saved records in Kayse; remembers listings so that each page is read once."""

    def __init__(self, client: KayseClient) -> None:
        self.client = client
        self._lists: dict[int, dict[str, Any]] = {}
        self._next_list_page: int | None = 1  # of the unfiltered listing; None once read through
        self._campaigns: dict[int, dict[str, Any]] = {}
        self._campaigns_listed = False

    def read(self, kind: Kind, record_id: int, name: Any) -> dict[str, Any] | None:
        """The record as Kayse shows it, or None when Kayse does not show it.

        For contacts and cases None means a 404; for lists and campaigns it means only
        that neither the search by ``name`` nor the whole listing shows the ID.
        """
        if kind in READ_BY_ID:
            return self._by_id(kind, record_id)
        key = name if isinstance(name, str) and name else None
        if kind == "list":
            return self._find_list(record_id, key)
        return self._find_campaign(record_id, key)

    def _by_id(self, kind: Kind, record_id: int) -> dict[str, Any] | None:
        name = read_call(kind)
        try:
            answer = self.client.call(name, id=record_id)
        except ApiError as exc:
            # Only Kayse's own "not found" says a record is gone; a proxy's 404 says nothing.
            if exc.status == 404 and exc.shaped and not isinstance(exc, AuthError):
                return None
            raise
        record = _object(answer, name)
        if record.get("id") != record_id or (
            KIND_MARK[_other(kind)] in record and (KIND_MARK[kind] not in record)
        ):
            call = ENDPOINTS[name]
            raise TransportError(
                f"{call.method} {call.path}: the answer is not {kind} {record_id} "
                f"but another record; {URL_HINT}"
            )
        return record

    def _find_list(self, record_id: int, key: str | None) -> dict[str, Any] | None:
        if key is not None:
            page, more = 1, True
            while record_id not in self._lists and more:
                more = self._list_page(key, page)
                page += 1
        while record_id not in self._lists and self._next_list_page is not None:
            page = self._next_list_page
            self._next_list_page = page + 1 if self._list_page(None, page) else None
        return self._lists.get(record_id)

    def _list_page(self, key: str | None, page: int) -> bool:
        """Read one page of GET /case_lists into the cache; True when more pages follow."""
        params: dict[str, str | int] = {"page": page, "page_size": PAGE_SIZE}
        if key is not None:
            params["key"] = key
        answer = self.client.call("case_lists.list", params=params)
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
            raise _unexpected("case_lists.list")
        rows = [_object(row, "case_lists.list") for row in answer["data"]]
        self._lists.update((row["id"], row) for row in rows if type(row.get("id")) is int)
        total = answer.get("total")
        more = page * PAGE_SIZE < total if type(total) is int else len(rows) == PAGE_SIZE
        return bool(rows) and more

    def _find_campaign(self, record_id: int, key: str | None) -> dict[str, Any] | None:
        if record_id not in self._campaigns and key is not None:
            self._campaign_listing(key)
        if record_id not in self._campaigns and not self._campaigns_listed:
            self._campaigns_listed = True
            self._campaign_listing(None)
        return self._campaigns.get(record_id)

    def _campaign_listing(self, key: str | None) -> None:
        answer = self.client.call("campaigns.list", params={"key": key} if key else None)
        if not isinstance(answer, list):
            raise _unexpected("campaigns.list")
        for row in answer:
            row = _object(row, "campaigns.list")
            if type(row.get("id")) is int:
                self._campaigns[row["id"]] = row


def _other(kind: Kind) -> Kind:
    return "case" if kind == "contact" else "contact"


def _object(answer: Any, endpoint: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise _unexpected(endpoint)
    return answer


def _unexpected(endpoint: str) -> TransportError:
    call = ENDPOINTS[endpoint]
    return TransportError(
        f"{call.method} {call.path}: the answer is not shaped as Kayse documents it; "
        "is --api-url the Kayse Public API?"
    )
