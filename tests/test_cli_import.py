"""import end to end: records made by hand in Kayse, adopted so that apply updates them."""

from __future__ import annotations

from pathlib import Path

from testing.cli import SEED_MANIFEST, actions, kayse
from testing.lifecycle import api, sent_since, state_doc, write
from testing.sandbox_process import SandboxProcess

MARIA = {
    "first_name": "Maria",
    "last_name": "Garcia",
    "email": "maria.garcia@example.com",
    "mobile": "(512) 555-0101",  # the manifest writes +15125550101: the same number
    "external_source": "other",
    "external_source_id": "crm_contact_901",
}


def test_an_adopted_contact_is_updated_not_created_twice(
    tmp_path: Path, server: SandboxProcess
) -> None:
    by_hand = MARIA | {"email": "old@example.com", "mobile": None, "external_source": "manual"}
    contact_id = api(server, "POST", "/clients", by_hand)["id"]
    write(tmp_path, SEED_MANIFEST)
    run = kayse(["import", "seed.yaml", "maria", str(contact_id)], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert run.stdout == (
        f"maria: adopted contact {contact_id}; it differs from the manifest "
        "(email, external_source, mobile): the next apply updates it (1 read)\n"
    )
    assert state_doc(tmp_path)["records"]["maria"] == {
        "kind": "contact",
        "id": contact_id,
        "fingerprint": "drift",
    }

    before = server.stats()["by_endpoint"]
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "maria": "updated",
        "garcia_auto": "created",
        "q2_pi": "created",
        "q2_outreach": "created",
    }
    assert sent_since(server, before)["PUT /v1/clients/{id}"] == 1
    assert "POST /v1/clients" not in sent_since(server, before)
    (contact,) = server.dump()["clients"]
    assert contact["id"] == contact_id
    assert contact["email"] == "maria.garcia@example.com"
    assert contact["case_ids"] == [server.dump()["cases"][0]["id"]]


def test_records_that_match_the_manifest_are_left_as_they_are(
    tmp_path: Path, server: SandboxProcess
) -> None:
    contact_id = api(server, "POST", "/clients", MARIA)["id"]
    list_body = {
        "name": "Q2 Personal Injury Outreach",
        "description": "PI prospects for the Q2 campaign",
    }
    list_id = api(server, "POST", "/case_lists", list_body)["id"]
    run = {
        "start_date": "2026-04-01",
        "end_date": "2026-04-30",
        "start_time": "09:00",
        "end_time": "17:00",
    }
    campaign = {"name": "Q2 PI Outreach", "agent_id": "agent_quickstart", "case_list_id": list_id}
    campaign_id = api(server, "POST", "/campaigns", campaign | {"runs": [run]})["id"]
    write(tmp_path, SEED_MANIFEST)
    for symbol, record_id, kind, reads in [
        ("maria", contact_id, "contact", 1),
        ("q2_pi", list_id, "list", 1),  # found by its name
        ("q2_outreach", campaign_id, "campaign", 1),
    ]:
        done = kayse(["import", "seed.yaml", symbol, str(record_id)], cwd=tmp_path, url=server.url)
        assert done.code == 0, done.stderr
        assert done.stdout == (
            f"{symbol}: adopted {kind} {record_id}; it matches the manifest, "
            f"so the next apply leaves it as it is ({reads} read)\n"
        )

    result = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert result.code == 0, result.stderr
    assert actions(result) == {
        "maria": "unchanged",
        "garcia_auto": "created",
        "q2_pi": "unchanged",
        "q2_outreach": "unchanged",
    }
    dump = server.dump()
    assert [len(dump[k]) for k in ("clients", "cases", "case_lists", "campaigns")] == [1, 1, 1, 1]
    assert dump["case_lists"][0]["case_ids"] == [dump["cases"][0]["id"]]  # attached, appended


def test_import_refuses_what_it_cannot_confirm(tmp_path: Path, server: SandboxProcess) -> None:
    write(
        tmp_path,
        SEED_MANIFEST.replace(
            "\ncases:",
            "\n  jose:\n    first_name: Jose\n    last_name: Ruiz\n"
            "    external_source_id: crm_contact_902\ncases:",
        ),
    )
    table = [
        (["maria", "999"], "error: Kayse has no contact with ID 999; nothing was saved"),
        (["garcia_auto", "999"], "error: Kayse has no case with ID 999; nothing was saved"),
        (
            ["q2_pi", "999"],
            "error: cannot confirm that case list 999 exists: Kayse's listing of case lists "
            "does not show it; nothing was saved",
        ),
        (
            ["q2_outreach", "999"],
            "error: cannot confirm that campaign 999 exists: Kayse's listing of campaigns "
            "does not show it; nothing was saved",
        ),
        (["nobody", "1"], "error: 'nobody' is not a symbol of seed.yaml"),
    ]
    for args, message in table:
        run = kayse(["import", "seed.yaml", *args], cwd=tmp_path, url=server.url)
        assert (run.code, run.stderr.strip()) == (1, message)
    assert not (tmp_path / "seed.state.json").exists()

    contact_id = api(server, "POST", "/clients", MARIA)["id"]
    assert (
        kayse(["import", "seed.yaml", "maria", str(contact_id)], cwd=tmp_path, url=server.url).code
        == 0
    )
    taken = [
        (
            ["maria", "2"],
            f"error: 'maria' is already saved as contact {contact_id}; run "
            "`kayse-pipeline state forget MANIFEST maria` first to adopt another record",
        ),
        (["jose", str(contact_id)], f"error: contact {contact_id} is already saved as 'maria'"),
    ]
    for args, message in taken:
        run = kayse(["import", "seed.yaml", *args], cwd=tmp_path, url=server.url)
        assert (run.code, run.stderr.strip()) == (1, message)
    assert set(state_doc(tmp_path)["records"]) == {"maria"}
