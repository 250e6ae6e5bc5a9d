"""destroy and plan --destroy end to end: the recipe's records go, every other one stays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from testing.cli import SEED_MANIFEST, actions, kayse
from testing.lifecycle import api, applied, kayse_stdin, sent_since, state_doc
from testing.sandbox import TEST_KEY, running_sandbox
from testing.sandbox_process import SandboxProcess, sandbox_process


def unrelated(server: SandboxProcess) -> None:
    """Records someone made by hand: a contact, a case of theirs, and a list holding it."""
    person = {"first_name": "Ann", "last_name": "Lee", "external_source": "manual"}
    contact = api(server, "POST", "/clients", person | {"external_source_id": "hand_1"})
    case = {"case_number": "HAND-1", "status": "active", "type": "personal_injury"}
    case |= {"external_source": "manual", "external_source_id": "hand_c1"}
    case_id = api(server, "POST", "/cases", case | {"client_ids": [contact["id"]]})["id"]
    list_id = api(server, "POST", "/case_lists", {"name": "Hand-made list"})["id"]
    api(server, "PATCH", f"/case_lists/{list_id}/attach", {"include_ids": [case_id]})


def test_destroy_removes_the_recipes_records_and_nothing_else(
    tmp_path: Path, server: SandboxProcess
) -> None:
    unrelated(server)
    applied(tmp_path, server)
    # The recipe's list also holds the hand-made case: destroy detaches it, never deletes it.
    api(server, "PATCH", "/case_lists/2/attach", {"include_ids": [1]})
    before_dump = server.dump()

    plan = kayse(
        ["plan", "seed.yaml", "--destroy", "--detailed-exitcode", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert plan.code == 2, plan.stderr
    assert actions(plan) == {
        "q2_outreach": "left-behind",
        "q2_pi": "left-behind",
        "garcia_auto": "delete",
        "maria": "delete",
    }
    assert plan.json()["requests"] == 4

    before = server.stats()["by_endpoint"]
    run = kayse(["destroy", "seed.yaml", "--yes", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "q2_outreach": "left-behind",
        "q2_pi": "left-behind",
        "garcia_auto": "deleted",
        "maria": "deleted",
    }
    assert run.json()["requests"] == 4
    assert sent_since(server, before) == {
        "PATCH /v1/case_lists/{id}/detach": 1,
        "POST /v1/case_lists/{id}/clients/remove": 1,
        "POST /v1/cases/bulk_delete": 1,
        "DELETE /v1/clients/{id}": 1,
    }
    dump = server.dump()
    assert dump["clients"] == before_dump["clients"][:1]  # Ann, untouched
    assert dump["cases"] == before_dump["cases"][:1]  # her case, untouched
    assert dump["case_lists"][0] == before_dump["case_lists"][0]  # her list, untouched
    assert dump["case_lists"][1]["case_ids"] == [1]  # the recipe attached only its own case
    assert dump["campaigns"] == before_dump["campaigns"]
    state = state_doc(tmp_path)
    assert set(state["records"]) == {"q2_pi", "q2_outreach"}  # still in Kayse, left behind
    assert state["memberships"] == {}

    again = kayse(["destroy", "seed.yaml", "--yes"], cwd=tmp_path, url=server.url)
    assert again.code == 0
    assert again.stdout.splitlines()[-1] == "Summary: 2 left-behind; 0 request(s) sent."


def test_destroy_without_a_terminal_needs_yes(tmp_path: Path, server: SandboxProcess) -> None:
    applied(tmp_path, server)
    before = server.stats()["requests"]
    run = kayse_stdin(["destroy", "seed.yaml"], cwd=tmp_path, url=server.url, key=TEST_KEY)
    assert run.code == 1
    assert run.stderr == (
        "error: destroy would delete 2 record(s) in Kayse: run it on a terminal to confirm, "
        "or pass --yes; nothing was sent\n"
    )
    assert server.stats()["requests"] == before


def test_destroy_asks_on_a_terminal(tmp_path: Path, server: SandboxProcess) -> None:
    applied(tmp_path, server)
    before = server.stats()["requests"]
    args = ["destroy", "seed.yaml"]
    no = kayse_stdin(args, cwd=tmp_path, url=server.url, key=TEST_KEY, answer="n\n")
    assert no.code == 1
    assert "Delete these records from Kayse? [y/N]" in no.stderr
    assert "  - contact maria (id 1)" in no.stderr  # the plan is shown first
    assert no.stderr.endswith("Destroy cancelled: nothing was sent.\n")
    assert server.stats()["requests"] == before

    yes = kayse_stdin(args, cwd=tmp_path, url=server.url, key=TEST_KEY, answer="y\n")
    assert yes.code == 0, yes.stderr
    assert yes.stdout.splitlines()[-1] == "Summary: 2 deleted, 2 left-behind; 4 request(s) sent."
    dump = server.dump()
    assert dump["clients"] == [] and dump["cases"] == []


def test_destroy_deletes_cases_500_at_a_time_and_tolerates_gone_ones(
    tmp_path: Path, server: SandboxProcess
) -> None:
    cases = "".join(
        f"  c{n}:\n    case_number: N-{n}\n    status: active\n    type: personal_injury\n"
        f"    external_source_id: x{n}\n"
        for n in range(501)
    )
    many = SEED_MANIFEST.replace("\ncases:\n", "\ncases:\n" + cases)
    applied(tmp_path, server, many)
    api(server, "DELETE", "/cases/7")  # deleted in the app meanwhile
    api(server, "DELETE", "/clients/1")

    plan = kayse(["plan", "seed.yaml", "--destroy"], cwd=tmp_path, url=server.url)
    assert "  3. POST   /cases/bulk_delete                   delete 502 case(s), 2 requests" in (
        plan.stdout
    )
    before = server.stats()["by_endpoint"]
    run = kayse(["destroy", "seed.yaml", "--yes", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    summary = run.json()["summary"]
    assert summary == {"deleted": 501, "gone": 2, "left-behind": 2}
    sent = sent_since(server, before)
    assert sent["POST /v1/cases/bulk_delete"] == 2
    assert sent["GET /v1/cases/{id}"] == 1  # the one bulk_delete did not name: a 404 proves it
    assert sent["DELETE /v1/clients/{id}"] == 1
    assert server.dump()["cases"] == []
    assert set(state_doc(tmp_path)["records"]) == {"q2_pi", "q2_outreach"}


def test_a_destroy_that_stops_halfway_resumes(tmp_path: Path) -> None:
    # 8 requests per 8 s: apply takes 6, so the destroy runs out after its 2 detaches.
    with running_sandbox(tmp_path, rate_limit="8/8") as server:
        applied(tmp_path, server)
        args = ["destroy", "seed.yaml", "--yes", "--output", "json"]
        first = kayse([*args, "--max-wait", "0"], cwd=tmp_path, url=server.url)
        assert first.code == 1
        assert "more than --max-wait (0 s)" in first.json()["stopped"]
        assert actions(first) == {
            "q2_outreach": "left-behind",
            "q2_pi": "left-behind",
            "garcia_auto": "skipped",
            "maria": "skipped",
        }
        assert state_doc(tmp_path)["memberships"] == {}  # the detaches are saved
        before = server.stats()["by_endpoint"]
        second = kayse(args, cwd=tmp_path, url=server.url)  # waits for the reset
        assert second.code == 0, second.stderr
        assert actions(second)["garcia_auto"] == "deleted"
        assert actions(second)["maria"] == "deleted"
        # Only what was left: no detach again (a 429 may come first, the budget being spent).
        assert set(sent_since(server, before)) == {
            "POST /v1/cases/bulk_delete",
            "DELETE /v1/clients/{id}",
        }
        assert server.dump()["cases"] == [] and server.dump()["clients"] == []


def test_destroy_target_takes_what_depends_on_it(tmp_path: Path, server: SandboxProcess) -> None:
    applied(tmp_path, server)
    run = kayse(
        ["destroy", "seed.yaml", "--yes", "--target", "garcia_auto", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "q2_outreach": "left-behind",
        "q2_pi": "left-behind",
        "garcia_auto": "deleted",
    }
    assert run.json()["membership_changes"] == ["list q2_pi: detach 1 case(s)"]
    assert len(server.dump()["clients"]) == 1  # maria is not the target's dependent

    again = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert again.code == 0, again.stderr
    assert actions(again)["garcia_auto"] == "created"
    dump = server.dump()
    assert dump["case_lists"][0]["case_ids"] == [dump["cases"][0]["id"]]


# -- another account's key: every record answers Kayse's own 404 --------------------------

OTHER_KEY = "another-accounts-key-77"


@contextmanager
def account(directory: Path, key: str = TEST_KEY, port: int = 0) -> Iterator[SandboxProcess]:
    """A sandbox as one Kayse account (its folder, its key), at a fixed port when given.

    Two accounts served one after the other at one port share a URL, as two accounts of
    Kayse do: the state's target matches, and only the key tells them apart.
    """
    directory.mkdir(exist_ok=True)
    with sandbox_process(directory, api_key=key, extra_args=("--port", str(port))) as process:
        yield process


def destroy_with_another_accounts_key(tmp_path: Path, port: int) -> None:
    """Destroy at the same URL with a fresh account's key: nothing released, exit 1, why."""
    state = tmp_path / "seed.state.json"
    before = state.read_bytes()
    with account(tmp_path / "other", OTHER_KEY, port) as other:
        run = kayse(["destroy", "seed.yaml", "--yes"], cwd=tmp_path, url=other.url, key=OTHER_KEY)
        sent = other.stats()["requests"]
    assert run.code == 1, run.stderr
    assert state.read_bytes() == before  # every ID and membership still saved
    assert not (tmp_path / "seed.state.journal").exists()
    assert "stopped: every record answered 404: is this the right account and URL? " in run.stdout
    assert "Nothing was released." in run.stdout
    assert "`kayse-pipeline doctor MANIFEST`" in run.stdout
    assert "`kayse-pipeline state forget MANIFEST SYMBOL ...`" in run.stdout
    summary = run.stdout.splitlines()[-1]
    assert summary.startswith("Summary: ") and "deleted" not in summary and "gone" not in summary
    assert f"; {sent} request(s) sent." in summary  # each record and membership asked once


def test_destroy_with_another_accounts_key_releases_nothing(tmp_path: Path) -> None:
    with account(tmp_path / "mine") as mine:
        applied(tmp_path, mine)
        port = urlsplit(mine.url).port
        records = mine.dump()
    assert port is not None
    destroy_with_another_accounts_key(tmp_path, port)
    with account(tmp_path / "mine", port=port) as mine:
        assert mine.dump() == records  # deleted nowhere: the records are still there


# The seed's contact and case, and a second contact; no list, so that no detach answers first.
NO_LIST = SEED_MANIFEST.split("lists:")[0].replace(
    "cases:\n",
    "  jon:\n    first_name: Jon\n    last_name: Lee\n    external_source_id: crm_contact_902\n"
    "cases:\n",
)


def test_one_vanished_record_among_several_is_still_released(tmp_path: Path) -> None:
    with account(tmp_path / "mine") as mine:
        applied(tmp_path, mine, NO_LIST)
        port = urlsplit(mine.url).port
    assert port is not None
    destroy_with_another_accounts_key(tmp_path, port)  # stopped: the right key is needed
    with account(tmp_path / "mine", port=port) as mine:
        case_id = state_doc(tmp_path)["records"]["garcia_auto"]["id"]
        api(mine, "DELETE", f"/cases/{case_id}")  # deleted in the app meanwhile
        run = kayse(
            ["destroy", "seed.yaml", "--yes", "--output", "json"], cwd=tmp_path, url=mine.url
        )
        dump = mine.dump()
    assert run.code == 0, run.stderr
    # The case's 404 is the first answer; the contacts' deletions then show the right key.
    assert actions(run) == {"garcia_auto": "gone", "maria": "deleted", "jon": "deleted"}
    assert state_doc(tmp_path)["records"] == {}
    assert dump["clients"] == [] and dump["cases"] == []


HEAD = """\
version: 1
account: {case_types: [personal_injury], case_statuses: [active]}
defaults:
  contacts: {external_source: other}
  cases: {external_source: other, status: active, type: personal_injury}
"""
CONTACT = "  c{n}: {{first_name: Ann, last_name: Lee, external_source_id: c{n}}}\n"
CASE = "  k{n}: {{case_number: K-{n}, name: K{n}, external_source_id: k{n}, client_ids: [c{n}]}}\n"
FIVE_ON_A_LIST = (
    f"{HEAD}contacts:\n{''.join(CONTACT.format(n=n) for n in range(5))}"
    f"cases:\n{''.join(CASE.format(n=n) for n in range(5))}"
    "lists:\n  held: {name: Held, include_ids: [k0, k1, k2, k3, k4]}\n"
)


def test_a_list_gone_from_kayse_is_asked_once_however_many_members_it_held(
    tmp_path: Path, server: SandboxProcess
) -> None:
    applied(tmp_path, server, FIVE_ON_A_LIST)
    # The list was deleted in the app: its saved ID now finds nothing.
    moved = kayse(["state", "set", "seed.yaml", "held", "999999"], cwd=tmp_path, url=server.url)
    assert moved.code == 0, moved.stderr
    before = server.stats()["by_endpoint"]
    run = kayse(
        ["destroy", "seed.yaml", "--yes", "--batch-size", "2", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert run.code == 0, run.stderr
    # One detach answers 404 for the whole list; 3 more would follow for members 3 to 5.
    assert sent_since(server, before)["PATCH /v1/case_lists/{id}/detach"] == 1
    actions_now = actions(run)
    assert actions_now.pop("held") == "left-behind"
    assert set(actions_now.values()) == {"deleted"}
    assert server.dump()["cases"] == [] and server.dump()["clients"] == []
