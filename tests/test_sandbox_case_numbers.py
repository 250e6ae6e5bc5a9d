"""The sandbox refuses a second case with an existing case_number, as Kayse documents it unique."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kayse_pipeline.sandbox import open_sandbox
from testing.sandbox import sandbox_client

CASE = {"case_number": "PI-1", "status": "active", "type": "civil", "external_source": "other",
        "external_source_id": "k-1"}  # fmt: skip


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    with open_sandbox(tmp_path / "sb", rate_limit="off") as core, sandbox_client(core) as client:
        yield client


def refused(response: httpx.Response) -> Any:
    assert response.status_code == 400, response.text
    return response.json()


def test_a_second_case_with_a_known_number_is_refused_without_the_number(
    api: httpx.Client,
) -> None:
    first = api.post("/cases", json=CASE).json()["id"]
    assert refused(api.post("/cases", json={**CASE, "external_source_id": "k-2"})) == {
        "error": "bad request",
        "message": f"case_number is already the number of case {first}",
    }
    other = api.post("/cases", json={**CASE, "case_number": "PI-2"}).json()["id"]
    assert refused(api.put(f"/cases/{other}", json=CASE))["message"] == (
        f"case_number is already the number of case {first}"
    )
    assert api.put(f"/cases/{first}", json={**CASE, "name": "renamed"}).status_code == 200


def test_bulk_calls_refuse_a_known_number_and_a_number_twice_writing_nothing(
    api: httpx.Client,
) -> None:
    first = api.post("/cases", json=CASE).json()["id"]
    items = [{**CASE, "case_number": "PI-2"}, {**CASE, "case_number": "PI-3"}, CASE]
    assert refused(api.post("/cases/bulk", json={"cases": items}))["message"] == (
        f"cases[2].case_number is already the number of case {first}"
    )
    items = [{**CASE, "case_number": "PI-2"}, {**CASE, "case_number": "PI-2"}]
    assert refused(api.post("/cases/bulk", json={"cases": items}))["message"] == (
        "cases[1].case_number repeats cases[0].case_number"
    )
    assert api.get("/cases/2").status_code == 404  # all or nothing: nothing was written
    update = [{**CASE, "id": first, "name": "same number, same case"}]
    assert api.post("/cases/bulk", json={"cases": update}).status_code == 200
