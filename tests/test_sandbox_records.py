"""What the sandbox does with records: replace, links, lists, bulk, persistence."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.model import Account
from kayse_pipeline.sandbox import SandboxCore, dump_sandbox, open_sandbox, reset_sandbox
from testing.sandbox import running_sandbox, sandbox_client

CLIENT = {"first_name": "Ana", "last_name": "Lee", "external_source": "other",
          "external_source_id": "c-1"}  # fmt: skip
CASE = {"case_number": "N-1", "status": "active", "type": "civil", "external_source": "other",
        "external_source_id": "k-1"}  # fmt: skip
RUN = {"start_date": "2026-04-01", "end_date": "2026-04-30", "messaging_only": True}


@pytest.fixture
def core(tmp_path: Path) -> Iterator[SandboxCore]:
    with open_sandbox(tmp_path / "sb", rate_limit="off") as opened:
        yield opened


@pytest.fixture
def api(core: SandboxCore) -> Iterator[httpx.Client]:
    with sandbox_client(core) as client:
        yield client


def case(number: int, **fields: Any) -> dict[str, Any]:
    """CASE with its own case_number (the sandbox refuses a number that another case has)."""
    return {**CASE, "case_number": f"N-{number}", **fields}


def create(api: httpx.Client, path: str, body: dict[str, Any]) -> int:
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text
    record_id: int = response.json()["id"]
    return record_id


def test_put_replaces_the_whole_record_links_included(api: httpx.Client) -> None:
    case_id = create(api, "/cases", CASE)
    client_id = create(api, "/clients", {**CLIENT, "city": "Austin", "case_ids": [case_id]})
    assert api.get(f"/cases/{case_id}").json()["client_ids"] == [client_id]

    response = api.put(f"/clients/{client_id}", json={**CLIENT, "first_name": "Anna"})
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["first_name"] == "Anna"
    assert replaced["city"] is None  # omitted optional field -> null
    assert replaced["case_ids"] == []  # omitted links -> none
    assert (replaced["origin"], replaced["update_origin"]) == ("public_api", "public_api")
    assert api.get(f"/clients/{client_id}").json() == replaced
    assert api.get(f"/cases/{case_id}").json()["client_ids"] == []  # one relation, both sides


def test_case_put_replaces_client_links(api: httpx.Client) -> None:
    first, second = create(api, "/clients", CLIENT), create(api, "/clients", CLIENT)
    case_id = create(api, "/cases", {**CASE, "client_ids": [first]})
    response = api.put(f"/cases/{case_id}", json={**CASE, "client_ids": [second, second]})
    assert response.json()["client_ids"] == [second]
    assert api.get(f"/clients/{first}").json()["case_ids"] == []
    assert api.get(f"/clients/{second}").json()["case_ids"] == [case_id]


def test_creates_are_not_deduplicated_and_ids_are_never_reused(api: httpx.Client) -> None:
    first, second = create(api, "/clients", CLIENT), create(api, "/clients", CLIENT)
    assert second == first + 1
    assert api.delete(f"/clients/{second}").json() == {"message": "client deleted successfully"}
    assert create(api, "/clients", CLIENT) == second + 1
    assert api.get(f"/clients/{second}").status_code == 404


def test_deleting_a_case_removes_it_from_lists_and_links(api: httpx.Client) -> None:
    client_id = create(api, "/clients", CLIENT)
    case_id = create(api, "/cases", {**CASE, "client_ids": [client_id]})
    list_id = create(api, "/case_lists", {"name": "L"})
    api.patch(f"/case_lists/{list_id}/attach", json={"include_ids": [case_id]})
    assert api.delete(f"/cases/{case_id}").json() == {"message": "case deleted successfully"}
    assert api.get("/case_lists").json()["data"][0]["case_count"] == 0
    assert api.get(f"/clients/{client_id}").json()["case_ids"] == []


def test_membership_calls_are_idempotent_set_operations(
    api: httpx.Client, core: SandboxCore
) -> None:
    client_id = create(api, "/clients", CLIENT)
    cases = [create(api, "/cases", case(n, client_ids=[client_id])) for n in range(2)]
    list_id = create(api, "/case_lists", {"name": "L"})
    for _ in range(2):
        body = {"client_ids": [client_id, client_id]}
        appended = api.post(f"/case_lists/{list_id}/clients/append", json=body)
        assert (appended.json()["client_count"], appended.json()["matched_case_count"]) == (1, 2)
        assert api.get("/case_lists").json()["data"][0]["case_count"] == 2
    for _ in range(2):
        detached = api.patch(f"/case_lists/{list_id}/detach", json={"include_ids": [cases[0]]})
        assert detached.json()["case_count"] == 1
    assert dump_ids(core, list_id) == [cases[1]]


def dump_ids(core: SandboxCore, list_id: int) -> list[int]:
    """A list's member case ids, as the dump shows them."""
    lists = {x["id"]: x for x in core.dump()["case_lists"]}
    ids: list[int] = lists[list_id]["case_ids"]
    return ids


def test_filtered_lists_follow_their_filter_with_overrides(
    api: httpx.Client, core: SandboxCore
) -> None:
    active = create(api, "/cases", CASE)  # status 1 = active, type 1 = civil
    closed = create(api, "/cases", case(2, status="closed"))
    family = create(api, "/cases", case(3, type="family"))
    body = {"name": "Active civil", "filter": {"status_ids": [1], "case_type_ids": [1]},
            "include_ids": [closed], "exclude_ids": [active]}  # fmt: skip
    list_id = create(api, "/case_lists", body)
    assert dump_ids(core, list_id) == [closed]
    later = create(api, "/cases", case(4))  # dynamic: a new matching case joins
    assert dump_ids(core, list_id) == [closed, later]
    api.patch(f"/case_lists/{list_id}/detach", json={"include_ids": [later]})
    api.patch(f"/case_lists/{list_id}/attach", json={"include_ids": [active, family]})
    assert dump_ids(core, list_id) == [active, closed, family]
    everything = create(api, "/case_lists", {"name": "all", "filter": {}})
    assert dump_ids(core, everything) == [active, closed, family, later]


def test_list_bulk_upsert_replaces_membership_and_pushes_obo(
    api: httpx.Client, core: SandboxCore
) -> None:
    case_id = create(api, "/cases", CASE)
    other = create(api, "/cases", case(2))
    list_id = create(api, "/case_lists", {"name": "L"})
    api.patch(f"/case_lists/{list_id}/attach", json={"include_ids": [case_id]})
    items = [
        {"id": list_id, "name": "L2", "filter": {"status_ids": [2]}, "include_ids": [other],
         "is_obo": True},
        {"name": "new"},
    ]  # fmt: skip
    response = api.post("/case_lists/bulk", json={"lists": items})
    assert response.json() == {
        "lists": [{"id": list_id, "action": "updated"}, {"id": list_id + 1, "action": "created"}]
    }
    assert dump_ids(core, list_id) == [other]
    assert api.get(f"/cases/{other}").json()["is_obo"] is True
    assert api.get(f"/cases/{case_id}").json()["is_obo"] is None


def test_bulk_upsert_creates_and_updates(api: httpx.Client) -> None:
    existing = create(api, "/clients", {**CLIENT, "city": "Austin"})
    response = api.post(
        "/clients/bulk", json={"clients": [{**CLIENT, "id": existing, "first_name": "B"}, CLIENT]}
    )
    assert response.status_code == 200
    items = response.json()["clients"]
    assert [(c["id"], c["first_name"], c["city"]) for c in items] == [
        (existing, "B", None),
        (existing + 1, "Ana", None),
    ]
    assert items[0]["update_origin"] == "public_api"
    cases = api.post("/cases/bulk", json={"cases": [{**CASE, "client_ids": [existing]}]}).json()
    assert cases["cases"][0]["client_ids"] == [existing]


def test_bulk_delete_with_clients_removes_only_clients_linked_to_nothing_else(
    api: httpx.Client,
) -> None:
    only, shared = create(api, "/clients", CLIENT), create(api, "/clients", CLIENT)
    doomed = create(api, "/cases", {**CASE, "client_ids": [only, shared]})
    kept = create(api, "/cases", case(2, client_ids=[shared]))
    response = api.post("/cases/bulk_delete", json={"ids": [doomed, 999], "with_clients": True})
    assert response.json() == {"deleted_ids": [doomed], "deleted_client_ids": [only]}
    assert api.get(f"/clients/{shared}").json()["case_ids"] == [kept]


def test_case_opt_out_reaches_linked_clients(api: httpx.Client) -> None:
    client_id = create(api, "/clients", CLIENT)
    case = api.post("/cases", json={**CASE, "client_ids": [client_id], "opt_out_voice_calls": True})
    assert case.json()["call_opted_out"] is True
    assert api.get(f"/clients/{client_id}").json()["voice_calls_opted_out"] is True


def test_case_list_search_pages_and_hides_empty(api: httpx.Client) -> None:
    case_id = create(api, "/cases", CASE)
    for name in ("Alpha", "alphabet", "Beta"):
        create(api, "/case_lists", {"name": name})
    api.patch("/case_lists/2/attach", json={"include_ids": [case_id]})
    page = api.get("/case_lists", params={"key": "ALPHA", "page_size": 1, "page": 2}).json()
    assert (page["page"], page["total"], [x["name"] for x in page["data"]]) == (2, 2, ["alphabet"])
    full = api.get("/case_lists", params={"hide_empty": "true"}).json()
    assert [x["id"] for x in full["data"]] == [2]


def test_campaigns_list_is_a_bare_array_searched_by_key(api: httpx.Client) -> None:
    list_id = create(api, "/case_lists", {"name": "L"})
    for name in ("Spring outreach", "Autumn"):
        create(api, "/campaigns", {"name": name, "case_list_id": list_id, "runs": [RUN]})
    found = api.get("/campaigns", params={"key": "spring"}).json()
    assert [(c["id"], c["name"], c["case_list_name"]) for c in found] == [
        (1, "Spring outreach", "L")
    ]
    assert found[0]["runs"] == [RUN]
    assert len(api.get("/campaigns").json()) == 2


def test_metadata_lists_objects_and_the_account_values(tmp_path: Path) -> None:
    account = Account(case_types=("tax",), case_statuses=("intake", "done"))
    with open_sandbox(tmp_path, account=account) as core, sandbox_client(core) as api:
        objects = api.get("/metadata/objects").json()
        assert [o["name"] for o in objects] == ["cases", "clients", "case_lists"]
        fields = {f["name"]: f for f in objects[0]["fields"]}
        assert fields["type"]["values"] == [{"id": 1, "name": "tax"}]
        assert fields["status"]["values"] == [
            {"id": 1, "name": "intake"},
            {"id": 2, "name": "done"},
        ]
        assert fields["case_number"] == {
            "name": "case_number",
            "type": "string",
            "required": True,
            "description": "case identifier",
        }
        assert create(api, "/cases", {**CASE, "type": "tax", "status": "done"}) == 1
        assert api.post("/cases", json=CASE).status_code == 400


def test_records_persist_across_core_instances(tmp_path: Path) -> None:
    with open_sandbox(tmp_path) as core, sandbox_client(core) as api:
        first = create(api, "/clients", CLIENT)
    with open_sandbox(tmp_path) as core, sandbox_client(core) as api:
        assert api.get(f"/clients/{first}").json()["first_name"] == "Ana"
        assert create(api, "/clients", CLIENT) == first + 1
    assert [c["id"] for c in dump_sandbox(tmp_path)["clients"]] == [first, first + 1]
    assert reset_sandbox(tmp_path) is True
    assert dump_sandbox(tmp_path) == {"clients": [], "cases": [], "case_lists": [], "campaigns": []}
    with open_sandbox(tmp_path) as core, sandbox_client(core) as api:
        assert create(api, "/clients", CLIENT) == 1


def test_missing_sandbox_dumps_empty_and_resets_nothing(tmp_path: Path) -> None:
    assert reset_sandbox(tmp_path / "none") is False
    assert dump_sandbox(tmp_path / "none")["clients"] == []
    assert not (tmp_path / "none").exists()


def test_bulk_limit_is_configurable(tmp_path: Path) -> None:
    with open_sandbox(tmp_path, bulk_max=2) as core, sandbox_client(core) as api:
        response = api.post("/clients/bulk", json={"clients": [CLIENT] * 3})
        assert response.json()["message"] == "clients holds more than 2 items"
        assert api.post("/clients/bulk", json={"clients": [CLIENT] * 2}).status_code == 200


def test_unknown_fields_are_ignored(api: httpx.Client) -> None:
    client = api.post("/clients", json={**CLIENT, "favourite_colour": "blue"}).json()
    assert "favourite_colour" not in client


def test_a_failing_handler_answers_500_and_writes_nothing(
    core: SandboxCore, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, client_id: int) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kayse_pipeline.sandbox.records.Records.client", broken)
    response = api.post("/clients", json=CLIENT)
    assert (response.status_code, response.json()) == (
        500,
        {"error": "internal server error", "message": "sandbox failure (RuntimeError)"},
    )
    monkeypatch.undo()
    assert core.dump()["clients"] == []


def test_a_sandbox_of_another_format_is_refused(tmp_path: Path) -> None:
    open_sandbox(tmp_path).close()
    with sqlite3.connect(tmp_path / "sandbox.sqlite3") as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    db.close()
    with pytest.raises(SandboxError) as caught:
        open_sandbox(tmp_path)
    assert str(caught.value) == (
        f"the sandbox in {tmp_path} has another format (0); "
        "empty it with `kayse-pipeline sandbox reset`"
    )
    assert reset_sandbox(tmp_path) is True
    open_sandbox(tmp_path).close()


def test_a_server_and_an_in_process_core_share_one_folder(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sb, httpx.Client(base_url=sb.url) as remote:
        remote.headers["X-API-KEY"] = sb.api_key
        assert remote.post("/clients", json=CLIENT).json()["id"] == 1
        with open_sandbox(sb.dir) as core, sandbox_client(core) as local:
            assert local.get("/clients/1").status_code == 200
            assert create(local, "/clients", CLIENT) == 2
        assert remote.get("/clients/2").json()["first_name"] == "Ana"
