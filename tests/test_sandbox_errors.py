"""Every documented error case, by exact status and message, on the in-process front door."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kayse_pipeline.sandbox import open_sandbox
from testing.sandbox import running_sandbox, sandbox_client

CLIENT = {"first_name": "Ana", "last_name": "Lee", "external_source": "other",
          "external_source_id": "c-1"}  # fmt: skip
CASE = {"case_number": "N-1", "status": "active", "type": "civil", "external_source": "other",
        "external_source_id": "k-1"}  # fmt: skip
RUN = {"start_date": "2026-04-01", "end_date": "2026-04-30", "start_time": "09:00",
       "end_time": "17:00"}  # fmt: skip
CAMPAIGN = {"name": "C", "agent_id": "a", "case_list_id": 1, "runs": [RUN]}


def without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    """A fresh sandbox holding client 1, case 1 and list 1."""
    with open_sandbox(tmp_path / "sb", rate_limit="off") as core, sandbox_client(core) as client:
        assert client.post("/clients", json=CLIENT).status_code == 201
        assert client.post("/cases", json={**CASE, "client_ids": [1]}).status_code == 201
        assert client.post("/case_lists", json={"name": "L"}).status_code == 201
        yield client


BAD_REQUESTS: list[tuple[str, str, Any, str]] = [
    # body shape
    ("POST", "/clients", "not json", "request body is not valid JSON"),
    ("POST", "/clients", [], "request body must be a JSON object"),
    # clients: each required field, types, references
    *[("POST", "/clients", without(CLIENT, k), f"{k} is required") for k in CLIENT],
    ("POST", "/clients", {**CLIENT, "first_name": "  "}, "first_name is required"),
    ("POST", "/clients", {**CLIENT, "last_name": 7}, "last_name must be a string"),
    ("POST", "/clients", {**CLIENT, "date_of_birth": "1990-02-30"},
     "date_of_birth must be a date in YYYY-MM-DD form"),
    ("POST", "/clients", {**CLIENT, "voice_calls_opted_out": "yes"},
     "voice_calls_opted_out must be true or false"),
    ("POST", "/clients", {**CLIENT, "meta": []}, "meta must be an object"),
    ("POST", "/clients", {**CLIENT, "case_ids": [1, "2"]}, "case_ids must be an array of ids"),
    ("POST", "/clients", {**CLIENT, "case_ids": [1, 1, 99]},
     "case_ids[2] does not name an existing case"),
    ("PUT", "/clients/1", without(CLIENT, "first_name"), "first_name is required"),
    # cases
    *[("POST", "/cases", without(CASE, k), f"{k} is required") for k in CASE],
    ("POST", "/cases", {**CASE, "type": "tax"}, "type must be one of the account's values: "
     "civil, criminal, family, personal_injury, workers_compensation"),
    ("POST", "/cases", {**CASE, "status": "Active"}, "status must be one of the account's "
     "values: active, closed, pending, open, new_lead"),
    ("POST", "/cases", {**CASE, "is_obo": 1}, "is_obo must be true or false"),
    ("POST", "/cases", {**CASE, "client_ids": [2]},
     "client_ids[0] does not name an existing client"),
    ("POST", "/cases", {**CASE, "client_ids": [1, 1, True]}, "client_ids must be an array of ids"),
    # lists
    ("POST", "/case_lists", {}, "name is required"),
    ("POST", "/case_lists", {"name": "L", "include_ids": [1]},
     "include_ids needs filter beside it"),
    ("POST", "/case_lists", {"name": "L", "exclude_ids": [1]},
     "exclude_ids needs filter beside it"),
    ("POST", "/case_lists", {"name": "L", "filter": {"zip": [1]}},
     "filter.zip is not a filter key the sandbox knows: case_type_ids, status_ids"),
    ("POST", "/case_lists", {"name": "L", "filter": {"status_ids": [6]}},
     "filter.status_ids must be an array of metadata ids"),
    ("POST", "/case_lists", {"name": "L", "filter": {}, "exclude_ids": [5]},
     "exclude_ids[0] does not name an existing case"),
    ("GET", "/case_lists?page_size=101", None, "page_size must be an integer from 1 to 100"),
    ("GET", "/case_lists?page=0", None, "page must be an integer from 1 to 2147483648"),
    ("GET", "/case_lists?hide_empty=maybe", None, "hide_empty must be true or false"),
    # membership
    ("PATCH", "/case_lists/1/attach", {}, "include_ids is required"),
    ("PATCH", "/case_lists/1/attach", {"include_ids": []}, "include_ids must not be empty"),
    ("PATCH", "/case_lists/1/detach", {"include_ids": [3]},
     "include_ids[0] does not name an existing case"),
    ("POST", "/case_lists/1/clients/append", {"client_ids": [1, 4]},
     "client_ids[1] does not name an existing client"),
    ("POST", "/case_lists/1/clients/remove", {"client_ids": "1"},
     "client_ids must be an array of ids"),
    # campaigns
    *[("POST", "/campaigns", without(CAMPAIGN, k), f"{k} is required")
      for k in ("name", "case_list_id", "runs")],
    ("POST", "/campaigns", without(CAMPAIGN, "agent_id"),
     "agent_id is required unless every run is messaging_only"),
    ("POST", "/campaigns", {**CAMPAIGN, "case_list_id": 2},
     "case_list_id does not name an existing case list"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": []}, "runs must hold at least one run"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [without(RUN, "end_date")]},
     "runs[0].end_date is required"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [RUN, {**RUN, "start_date": "2026/04/01"}]},
     "runs[1].start_date must be a date in YYYY-MM-DD form"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [{**RUN, "end_date": "2026-03-01"}]},
     "runs[0].end_date must not be before start_date"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [{**RUN, "start_time": "9:00"}]},
     "runs[0].start_time must be a time in HH:mm form"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [{**RUN, "start_time": "07:59"}]},
     "runs[0].start_time must be within 08:00-21:00"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [{**RUN, "end_time": "21:30"}]},
     "runs[0].end_time must be within 08:00-21:00"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [{**RUN, "end_time": "09:00"}]},
     "runs[0].end_time must be after start_time"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [without(RUN, "end_time")]},
     "runs[0].end_time is required"),
    ("POST", "/campaigns", {**CAMPAIGN, "runs": [{**RUN, "messaging_only": True}]},
     "runs[0].start_time and end_time must not be sent on a messaging_only run"),
    ("POST", "/campaigns", {**CAMPAIGN, "use_company_hours": True},
     "business_hours is required when use_company_hours is true"),
    ("POST", "/campaigns", {**CAMPAIGN, "business_hours": [
        {"start_time": "09:00", "end_time": "12:00"},
        {"start_time": "11:00", "end_time": "13:00"}]},
     "business_hours[1] overlaps business_hours[0]"),
    ("POST", "/campaigns", {**CAMPAIGN, "concurrency_limit": -1},
     "concurrency_limit must be a non-negative integer"),
    # bulk envelopes and items
    ("POST", "/clients/bulk", {}, "clients is required"),
    ("POST", "/clients/bulk", {"clients": {}}, "clients must be an array"),
    ("POST", "/clients/bulk", {"clients": []}, "clients must not be empty"),
    ("POST", "/clients/bulk", {"clients": [CLIENT, 5]}, "clients[1] must be a JSON object"),
    ("POST", "/clients/bulk", {"clients": [CLIENT, {**CLIENT, "id": 9}]},
     "clients[1].id does not name an existing client"),
    ("POST", "/clients/bulk", {"clients": [CLIENT, {**CLIENT, "id": "1"}]},
     "clients[1].id must be a positive integer"),
    ("POST", "/cases/bulk", {"cases": [CASE, without(CASE, "type")]}, "cases[1].type is required"),
    ("POST", "/case_lists/bulk", {"lists": [{"name": "a"}, {}]}, "lists[1].name is required"),
    ("POST", "/clients/bulk", {"clients": [CLIENT] * 501}, "clients holds more than 500 items"),
    ("POST", "/cases/bulk_delete", {"ids": list(range(1, 502))}, "ids holds more than 500 ids"),
    ("POST", "/cases/bulk_delete", {"ids": [1], "with_clients": "no"},
     "with_clients must be true or false"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "message"), BAD_REQUESTS)
def test_bad_request(api: httpx.Client, method: str, path: str, body: Any, message: str) -> None:
    content = body if isinstance(body, str) else None if body is None else json.dumps(body)
    response = api.request(method, path, content=content)
    assert (response.status_code, response.json()) == (
        400,
        {"error": "bad request", "message": message},
    )


def test_messages_never_echo_values(api: httpx.Client) -> None:
    secret = "maria.secret@example.com"
    for body in ({**CLIENT, "email": 5, "first_name": secret}, {**CLIENT, "date_of_birth": secret}):
        response = api.post("/clients", json={**body, "last_name": [secret]})
        assert response.status_code == 400
        assert secret not in response.text


NOT_FOUND: list[tuple[str, str, str]] = [
    ("GET", "/clients/2", "client not found"),
    ("PUT", "/clients/2", "client not found"),
    ("DELETE", "/cases/2", "case not found"),
    ("PATCH", "/case_lists/7/attach", "case list not found"),
    ("POST", "/case_lists/7/clients/append", "case list not found"),
    ("GET", "/clients/abc", "no endpoint at this path"),
    ("GET", "/case_lists/1", "no endpoint at this path"),  # Kayse has no read of one list
    ("GET", "http://sandbox/v2/clients/1", "no endpoint at this path"),
    ("GET", "/clients/1/", "no endpoint at this path"),
]


@pytest.mark.parametrize(("method", "path", "message"), NOT_FOUND)
def test_not_found(api: httpx.Client, method: str, path: str, message: str) -> None:
    response = api.request(method, path)
    assert (response.status_code, response.json()) == (
        404,
        {"error": "not found", "message": message},
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/clients/1", "DELETE, GET, PUT"),
        ("GET", "/clients", "POST"),
        ("PUT", "/case_lists/1/attach", "PATCH"),
        ("GET", "/cases/bulk_delete", "POST"),
        ("DELETE", "/campaigns", "GET, POST"),
    ],
)
def test_method_not_allowed(api: httpx.Client, method: str, path: str, allowed: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.json() == {
        "error": "method not allowed",
        "message": f"wrong method for this endpoint; use {allowed}",
    }


def test_bulk_is_all_or_nothing(api: httpx.Client) -> None:
    before = api.get("/clients/1").json()
    items = [{**CLIENT, "id": 1, "first_name": "Changed"}, CLIENT, without(CLIENT, "last_name")]
    response = api.post("/clients/bulk", json={"clients": items})
    assert response.json()["message"] == "clients[2].last_name is required"
    assert api.get("/clients/1").json() == before
    assert api.get("/clients/2").status_code == 404  # the valid create was not made either


def test_bulk_delete_501_ids_deletes_nothing(api: httpx.Client) -> None:
    response = api.post("/cases/bulk_delete", json={"ids": [1, *range(1000, 1500)]})
    assert response.status_code == 400
    assert api.get("/cases/1").status_code == 200


def test_401_without_or_with_a_wrong_key(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, rate_limit="5/60") as sb:
        for headers in ({}, {"X-API-KEY": "nope"}, {"X-Public-Api-Key": "wrong"}):
            response = httpx.get(f"{sb.url}/metadata/objects", headers=headers)
            assert response.status_code == 401
            assert response.json() == {
                "error": "unauthorized",
                "message": "missing or wrong API key: send it in the X-API-KEY header",
            }
            assert response.headers["X-RateLimit-Remaining"] == "5"  # not counted
        for name in ("X-API-KEY", "x-api-key", "X-Public-Api-Key"):
            response = httpx.get(f"{sb.url}/metadata/objects", headers={name: sb.api_key})
            assert response.status_code == 200, name


def test_429_with_retry_after_over_http(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, rate_limit="3/60") as sb:
        headers = {"X-API-KEY": sb.api_key}
        statuses = [httpx.get(f"{sb.url}/campaigns", headers=headers) for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in statuses] == ["2", "1", "0", "0", "0"]
        refused = statuses[3]
        assert refused.json()["error"] == "too many requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["X-RateLimit-Reset"] == statuses[0].headers["X-RateLimit-Reset"]
        # Admin routes do not count and still answer.
        assert sb.stats()["by_status"] == {"200": 3, "429": 2}
