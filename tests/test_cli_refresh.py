"""refresh and plan --refresh end to end: records deleted or edited in the Kayse app."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.cli import SEED_MANIFEST, actions, kayse
from testing.lifecycle import api, applied, sent_since, state_doc, write
from testing.sandbox import TEST_KEY
from testing.sandbox_process import SandboxProcess

# The seed recipe plus a list that holds the case only through its contact's append.
TWO_LISTS = SEED_MANIFEST.replace(
    "campaigns:", "  by_contact:\n    name: Garcia contacts\n    client_ids: [maria]\ncampaigns:"
)


def test_a_case_deleted_in_kayse_is_recreated_exactly(
    tmp_path: Path, server: SandboxProcess
) -> None:
    applied(tmp_path, server, TWO_LISTS)
    old_case = state_doc(tmp_path)["records"]["garcia_auto"]["id"]
    maria = state_doc(tmp_path)["records"]["maria"]["id"]
    api(server, "DELETE", f"/cases/{old_case}")

    run = kayse(["refresh", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "maria": "in-sync",  # judged without the dead case it was linked to
        "garcia_auto": "gone",
        "q2_pi": "in-sync",
        "by_contact": "in-sync",
        "q2_outreach": "in-sync",
    }
    assert run.json()["requests"] == 5  # 2 reads by ID, 2 list searches, 1 campaign search
    state = state_doc(tmp_path)
    assert "garcia_auto" not in state["records"]
    # Memberships forget the dead case, and the contact whose append had brought it in.
    assert state["memberships"] == {}

    before = server.stats()["by_endpoint"]
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "maria": "unchanged",
        "garcia_auto": "created",
        "q2_pi": "unchanged",
        "by_contact": "unchanged",
        "q2_outreach": "unchanged",
    }
    assert sent_since(server, before) == {
        "POST /v1/cases": 1,
        "PATCH /v1/case_lists/{id}/attach": 1,
        "POST /v1/case_lists/{id}/clients/append": 2,
    }
    dump = server.dump()
    (case,) = dump["cases"]
    assert case["id"] != old_case and case["client_ids"] == [maria]
    assert [lst["case_ids"] for lst in dump["case_lists"]] == [[case["id"]], [case["id"]]]
    assert len(dump["clients"]) == 1 and len(dump["campaigns"]) == 1


def test_an_edit_in_kayse_is_planned_as_an_update(tmp_path: Path, server: SandboxProcess) -> None:
    applied(tmp_path, server)
    contact = api(server, "GET", "/clients/1")
    api(server, "PUT", "/clients/1", contact | {"email": "changed@example.com"})

    plan = kayse(
        ["plan", "seed.yaml", "--refresh", "--detailed-exitcode", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert plan.code == 2, plan.stderr
    doc = plan.json()
    assert doc["reads"] == 4
    assert doc["refresh"]["records"][0] == {
        "kind": "contact",
        "symbol": "maria",
        "id": 1,
        "action": "drifted",
        "message": "changed in Kayse (email): the next apply updates it",
    }
    assert actions(plan)["maria"] == "update"
    assert doc["requests"] == 1

    before = server.stats()["by_endpoint"]
    run = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert sent_since(server, before) == {"PUT /v1/clients/{id}": 1}
    assert server.dump()["clients"][0]["email"] == "maria.garcia@example.com"

    run = kayse(["refresh", "seed.yaml"], cwd=tmp_path, url=server.url)
    assert run.code == 0
    assert run.stdout == (
        "  in-sync     contact maria (id 1)\n"
        "  in-sync     case garcia_auto (id 1)\n"
        "  in-sync     list q2_pi (id 1)\n"
        "  in-sync     campaign q2_outreach (id 1)\n"
        "Refresh: 4 in-sync; 4 reads spent.\n"
    )


@pytest.mark.parametrize("failure", ["401", "500"])
def test_a_refused_or_failing_refresh_changes_nothing(
    tmp_path: Path, server: SandboxProcess, failure: str
) -> None:
    applied(tmp_path, server)
    api(server, "DELETE", "/cases/1")  # a refresh that got through would drop it
    before = (tmp_path / "seed.state.json").read_text()
    key = "wrong-key-999" if failure == "401" else TEST_KEY
    if failure == "500":
        server.set_faults("500=1")
    args = ["refresh", "seed.yaml", "--output", "json"]
    run = kayse(args, cwd=tmp_path, url=server.url, key=key)
    assert run.code == 1
    assert f"HTTP {failure}" in run.json()["stopped"]
    assert actions(run) == {
        "maria": "unreadable",
        "garcia_auto": "skipped",
        "q2_pi": "skipped",
        "q2_outreach": "skipped",
    }
    assert (tmp_path / "seed.state.json").read_text() == before
    assert not (tmp_path / "seed.state.json.journal").exists()
    assert "wrong-key-999" not in run.stdout + run.stderr

    server.set_faults("off")
    run = kayse(args, cwd=tmp_path, url=server.url)
    assert run.code == 0
    assert actions(run)["garcia_auto"] == "gone"


def test_max_reads_caps_what_a_refresh_spends(tmp_path: Path, server: SandboxProcess) -> None:
    applied(tmp_path, server)
    before = server.stats()["requests"]
    run = kayse(["refresh", "seed.yaml", "--max-reads", "2"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert run.stdout == (
        "  in-sync     contact maria (id 1)\n"
        "  in-sync     case garcia_auto (id 1)\n"
        "  skipped     list q2_pi (id 1): not read: --max-reads is spent\n"
        "  skipped     campaign q2_outreach (id 1): not read: --max-reads is spent\n"
        "Refresh: 2 in-sync, 2 skipped; 2 reads spent (--max-reads 2).\n"
    )
    assert server.stats()["requests"] - before == 2


def test_lists_and_campaigns_are_found_by_listing_and_never_dropped(
    tmp_path: Path, server: SandboxProcess
) -> None:
    # 120 older lists whose names contain the recipe's: its list is on the second page.
    old = [{"name": f"Q2 Personal Injury Outreach (old {n})"} for n in range(120)]
    api(server, "POST", "/case_lists/bulk", {"lists": old})
    applied(tmp_path, server)
    list_id = state_doc(tmp_path)["records"]["q2_pi"]["id"]
    assert list_id == 121
    run = kayse(["refresh", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert actions(run)["q2_pi"] == "in-sync"
    assert run.json()["requests"] == 5  # the list search takes 2 pages

    api(server, "POST", "/case_lists/bulk", {"lists": [{"id": list_id, "name": "Renamed"}]})
    set_id = ["state", "set", "seed.yaml", "q2_outreach", "9999"]
    assert kayse(set_id, cwd=tmp_path, url=server.url).code == 0
    run = kayse(["refresh", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    records = {r["symbol"]: r for r in run.json()["records"]}
    assert records["q2_pi"]["action"] == "drifted"
    assert records["q2_pi"]["message"] == (
        "changed in Kayse (description, name): the next apply updates it"
    )
    assert records["q2_outreach"]["action"] == "unconfirmed"
    assert records["q2_outreach"]["message"] == "not found in GET /campaigns: left as it is"
    # contact, case; list: 2 pages by name, 2 of the whole listing; campaign: by name, all.
    assert run.json()["requests"] == 8
    state = state_doc(tmp_path)
    assert state["records"]["q2_outreach"]["id"] == 9999
    assert state["records"]["q2_pi"]["fingerprint"] == "drift"

    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run)["q2_pi"] == "updated"
    renamed = next(lst for lst in server.dump()["case_lists"] if lst["id"] == list_id)
    assert renamed["name"] == "Q2 Personal Injury Outreach"
    assert renamed["case_ids"] == [1]


def test_refresh_of_an_empty_state_sends_nothing(tmp_path: Path, server: SandboxProcess) -> None:
    write(tmp_path, SEED_MANIFEST)
    run = kayse(["refresh", "seed.yaml"], cwd=tmp_path, url=server.url, key=None)
    assert run.code == 0, run.stderr
    assert run.stdout == "Refresh: no saved record to read; 0 reads spent.\n"
    assert server.stats()["requests"] == 0
