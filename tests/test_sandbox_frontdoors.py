"""The in-process transport and the HTTP server give the same answers to the same requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kayse_pipeline.sandbox import SandboxTransport, open_sandbox
from testing.sandbox import TEST_KEY, running_sandbox, sandbox_client, sandbox_server
from testing.sandbox_process import SandboxProcess

__all__ = ["sandbox_server"]  # a fixture

CLIENT = {"first_name": "Ana", "last_name": "Lee", "external_source": "other",
          "external_source_id": "c-1", "mobile": "+15551234567"}  # fmt: skip
CASE = {"case_number": "N-1", "status": "active", "type": "personal_injury",
        "external_source": "other", "external_source_id": "k-1"}  # fmt: skip
RUN = {"start_date": "2026-04-01", "end_date": "2026-04-30", "start_time": "09:00",
       "end_time": "17:00"}  # fmt: skip

# (method, path, JSON body or None, send the key)
SEQUENCE: list[tuple[str, str, Any, bool]] = [
    ("GET", "/metadata/objects", None, True),
    ("POST", "/clients", CLIENT, True),
    ("POST", "/clients", {**CLIENT, "first_name": None}, True),
    ("POST", "/clients", CLIENT, False),
    ("POST", "/clients/bulk", {"clients": [CLIENT, {**CLIENT, "id": 1, "city": "Austin"}]}, True),
    ("GET", "/clients/1", None, True),
    ("POST", "/cases", {**CASE, "client_ids": [1, 2]}, True),
    ("POST", "/cases/bulk", {"cases": [CASE, {**CASE, "type": "tax"}]}, True),
    ("PUT", "/cases/1", {**CASE, "name": "Renamed", "client_ids": [2]}, True),
    ("GET", "/clients/2", None, True),
    ("POST", "/case_lists", {"name": "Q2", "description": "d"}, True),
    ("POST", "/case_lists/bulk", {"lists": [{"name": "B", "filter": {"status_ids": [1]}}]}, True),
    ("PATCH", "/case_lists/1/attach", {"include_ids": [1]}, True),
    ("POST", "/case_lists/1/clients/append", {"client_ids": [1, 2]}, True),
    ("GET", "/case_lists?key=q&page_size=5", None, True),
    ("POST", "/campaigns", {"name": "C", "agent_id": "a", "case_list_id": 1, "runs": [RUN]}, True),
    ("GET", "/campaigns?key=c", None, True),
    ("DELETE", "/clients/99", None, True),
    ("GET", "/case_lists/1", None, True),
    ("POST", "/clients/1", CLIENT, True),
    ("POST", "/cases/bulk_delete", {"ids": [1, 5], "with_clients": True}, True),
    ("PATCH", "/case_lists/1/detach", {"include_ids": [1]}, True),
]

COMPARED_HEADERS = ("content-type", "x-ratelimit-limit", "x-ratelimit-remaining", "allow")


def run(client: httpx.Client) -> list[tuple[int, Any, dict[str, str]]]:
    answers = []
    for method, path, body, keyed in SEQUENCE:
        headers = {"X-API-KEY": TEST_KEY} if keyed else {}
        response = client.request(method, path.lstrip("/"), json=body, headers=headers)
        kept = {h: response.headers[h] for h in COMPARED_HEADERS if h in response.headers}
        answers.append((response.status_code, response.json(), kept))
    return answers


def test_both_front_doors_answer_alike(tmp_path: Path) -> None:
    with open_sandbox(tmp_path / "in", api_key=TEST_KEY, rate_limit="500/3600") as core:
        transport = SandboxTransport(core, require_key=True)
        with httpx.Client(transport=transport, base_url="http://sandbox/v1/") as client:
            in_process = run(client)
    with (
        running_sandbox(tmp_path, rate_limit="500/3600") as sb,
        httpx.Client(base_url=sb.url + "/") as client,
    ):
        over_http = run(client)
    for step, (a, b) in enumerate(zip(in_process, over_http, strict=True)):
        assert a == b, f"step {step}: {SEQUENCE[step][:2]}"
    statuses = [a[0] for a in in_process]
    assert statuses == [200, 201, 400, 401, 200, 200, 201, 400, 200, 200, 201, 200, 200, 200,
                        200, 201, 200, 404, 404, 405, 200, 400]  # fmt: skip


def test_in_process_needs_no_key_but_refuses_a_wrong_one(tmp_path: Path) -> None:
    with open_sandbox(tmp_path, api_key=TEST_KEY) as core, sandbox_client(core) as api:
        assert api.get("/campaigns").status_code == 200
        assert api.get("/campaigns", headers={"X-API-KEY": "wrong"}).status_code == 401
    with open_sandbox(tmp_path) as core, sandbox_client(core) as api:  # no key configured
        assert api.get("/campaigns", headers={"X-API-KEY": "anything"}).status_code == 200


def test_require_key_needs_a_core_with_a_key(tmp_path: Path) -> None:
    with open_sandbox(tmp_path) as core, pytest.raises(ValueError, match="require_key"):
        SandboxTransport(core, require_key=True)


def test_http_takes_chunked_bodies(sandbox_server: SandboxProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"chunked"}'

    headers = {"X-API-KEY": sandbox_server.api_key}
    response = httpx.post(f"{sandbox_server.url}/case_lists", content=chunks(), headers=headers)
    assert (response.status_code, response.json()["name"]) == (201, "chunked")
