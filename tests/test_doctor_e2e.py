"""`kayse-pipeline doctor` against `sandbox serve` in its configurations and foreign servers.

Every test counts at the server what doctor sent: only GETs, at most 5.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from testing.cli import SEED_MANIFEST, Run, kayse
from testing.foreign_servers import foreign_server
from testing.hostile_server import Reply, hostile_server
from testing.sandbox import running_sandbox
from testing.sandbox_process import SandboxProcess

CHANGED_ACCOUNT = """\
case_types: [Personal Injury, Workers' Compensation]
case_statuses: [active]
fields:
  clients:
    date_of_birth: required
    date_of_death: absent
  cases:
    external_source: {values: [intake_form, referral]}
"""
# The seed recipe with what a real account may refuse: a case type as the recipe writes it,
# a field the account does not list, existing records named by ID.
EXISTING_MANIFEST = SEED_MANIFEST.replace(
    "    include_ids: [garcia_auto]\n", "    include_ids: [garcia_auto, 1, 2]\n"
).replace("    case_list_id: q2_pi\n", "    case_list_id: 1\n")


def verdicts(run: Run) -> dict[str, str]:
    return {c["name"]: c["verdict"] for c in run.json()["checks"]}


def check(run: Run, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in run.json()["checks"] if c["name"] == name)
    return found


def sent(server: SandboxProcess) -> dict[str, int]:
    stats = server.stats()
    assert stats["requests"] <= 5
    methods: dict[str, int] = stats["by_method"]
    return methods


def doctor(tmp_path: Path, url: str, *args: str, key: str | None = "test-key-123") -> Run:
    return kayse(["doctor", *args, "--output", "json"], cwd=tmp_path, url=url, key=key)


def write(tmp_path: Path, text: str, name: str = "recipe.yaml") -> str:
    (tmp_path / name).write_text(text)
    return name


def test_a_sandbox_like_the_docs_passes_with_the_agent_left_to_a_person(tmp_path: Path) -> None:
    manifest = write(tmp_path, SEED_MANIFEST)
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        run = doctor(tmp_path, sb.url, manifest)
        assert run.code == 0, run.stderr
        assert verdicts(run) == {
            "url": "ok",
            "key": "ok",
            "rate-limit": "ok",
            "budget": "ok",
            "fields": "ok",
            "values": "ok",
            "existing": "warning",
        }
        assert sent(sb) == {"GET": 3}  # metadata, one page of lists, one error probe
    saw = run.json()["checks"]
    assert any("is an epoch time" in s for s in check(run, "rate-limit")["saw"])
    assert "the manifest's plan needs 6 request(s)" in check(run, "budget")["saw"]
    assert check(run, "existing")["saw"] == [
        "agent_id 'agent_quickstart' (campaigns q2_outreach): cannot be confirmed: "
        "Kayse documents no read of agents"
    ]
    assert run.json()["requests"] == 3 and saw


def test_a_changed_field_table_fails_fields_and_values(tmp_path: Path) -> None:
    account = tmp_path / "account.yaml"
    account.write_text(CHANGED_ACCOUNT)
    manifest = write(
        tmp_path,
        SEED_MANIFEST.replace("    mobile:", "    date_of_death: 2020-01-01\n    mobile:").replace(
            "  case_types: [personal_injury]\n", "  case_types: [personal_injury]\n"
        ),
    )
    extra = ["--account-file", str(account)]
    with running_sandbox(tmp_path, rate_limit="500/3600", extra_args=extra) as sb:
        run = doctor(tmp_path, sb.url, manifest)
        assert run.code == 1
        assert sent(sb) == {"GET": 3}
    assert verdicts(run) | {"existing": "-"} == {
        "url": "ok",
        "key": "ok",
        "rate-limit": "ok",
        "budget": "ok",
        "fields": "failed",
        "values": "failed",
        "existing": "-",
    }
    fields = check(run, "fields")["saw"]
    assert (
        "clients.date_of_birth is required by the account; 1 of 1 contacts lack it (maria)"
        in fields
    )
    assert (
        "contacts use date_of_death, which the account does not list for clients (maria)" in fields
    )
    assert "cases.case_number: the manifest requires it, the account does not" not in fields
    values = check(run, "values")
    assert (
        "cases use type 'personal_injury', which the account does not have (garcia_auto); "
        "it has 'Personal Injury'" in values["saw"]
    )
    assert (
        "cases use external_source 'other', which the account does not have (garcia_auto)"
        in values["saw"]
    )
    assert (
        "account.case_types lists 'personal_injury', which the account does not have"
        in values["saw"]
    )
    assert any(t.startswith("write 'Personal Injury' exactly") for t in values["todo"])


def test_without_a_manifest_the_schema_alone_is_compared(tmp_path: Path) -> None:
    account = tmp_path / "account.yaml"
    account.write_text("fields:\n  cases:\n    name: required\n    referral_partner: required\n")
    extra = ["--account-file", str(account)]
    with running_sandbox(tmp_path, rate_limit="500/3600", extra_args=extra) as sb:
        run = doctor(tmp_path, sb.url)
        assert run.code == 0, run.stderr  # warnings do not fail
        assert sent(sb) == {"GET": 3}
    assert "existing" not in verdicts(run)
    assert check(run, "fields")["verdict"] == "warning"
    assert check(run, "fields")["saw"][:2] == [
        "cases.name is required by the account, optional in the manifest schema",
        "cases.referral_partner is required by the account, optional in the manifest schema "
        "(which cannot set it)",
    ]
    assert check(run, "budget")["saw"][0].startswith("497 of 500 requests left")


def test_a_wrong_key_fails_after_one_request(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        run = doctor(tmp_path, sb.url, key="not-the-key")
        assert run.code == 1
        assert sent(sb) == {"GET": 1}
    key = check(run, "key")
    assert key["verdict"] == "failed"
    assert key["saw"][0].startswith("GET /metadata/objects answered HTTP 401 (application/json)")
    assert check(run, "url")["verdict"] == "ok"  # a JSON 401 {error, message}: it is Kayse
    assert "not-the-key" not in run.stdout + run.stderr


def test_an_html_server_is_not_kayse(tmp_path: Path) -> None:
    with foreign_server("html") as server:
        run = doctor(tmp_path, server.url.removesuffix("/v1"))
        assert run.code == 1
        assert dict(server.methods) == {"GET": 1}
    assert verdicts(run)["key"] == "warning"  # a web page says nothing of the key
    url = check(run, "url")
    assert url["verdict"] == "failed"
    assert url["saw"] == [
        "GET /metadata/objects answered HTTP 200 with text/html, not Kayse's JSON"
    ]
    assert url["todo"] == [
        "is --api-url (or KAYSE_API_URL) the Kayse Public API? It should end in /v1 "
        "(https://public-api.kayse.ai/v1)"
    ]


def test_a_json_404_server_is_not_kayse_either(tmp_path: Path) -> None:
    with foreign_server("json404") as server:
        run = doctor(tmp_path, server.url)
        assert run.code == 1
        assert dict(server.methods) == {"GET": 2}
    assert verdicts(run)["url"] == "failed"
    assert check(run, "url")["saw"] == [
        "GET /metadata/objects answered HTTP 404 in JSON, but not with Kayse's error body "
        "{error, message}",
        "GET /case_lists answered HTTP 404 in JSON, but not with Kayse's error body "
        "{error, message}",
    ]
    assert verdicts(run)["rate-limit"] == "warning"


@pytest.mark.parametrize("style", ["epoch", "seconds"])
def test_the_sandbox_reset_style_is_told_apart(tmp_path: Path, style: str) -> None:
    extra = ["--reset-style", style]
    with running_sandbox(tmp_path, rate_limit="500/3600", extra_args=extra) as sb:
        run = doctor(tmp_path, sb.url)
        assert sent(sb) == {"GET": 3}
    assert run.code == 0, run.stderr
    rate = check(run, "rate-limit")
    assert rate["verdict"] == "ok"
    expected = {
        "epoch": "X-RateLimit-Reset is an epoch time: the window ends in ",
        "seconds": "X-RateLimit-Reset is seconds remaining (",
    }[style]
    assert rate["saw"][1].startswith(expected)


def test_a_reset_in_seconds_is_told_from_an_epoch_and_escapes_and_key_never_reach_the_output(
    tmp_path: Path,
) -> None:
    with foreign_server("kayse-seconds") as server:
        run = kayse(["doctor"], cwd=tmp_path, url=server.url, key="secret-key-42")
        assert dict(server.methods) == {"GET": 3}
    assert "X-RateLimit-Reset is seconds remaining (1799 s)" in run.stdout
    assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout
    assert "no such thing" in run.stdout and "([redacted])" in run.stdout
    assert "secret-key-42" not in run.stdout + run.stderr


def test_existing_records_are_confirmed_by_reads_within_five_requests(tmp_path: Path) -> None:
    manifest = write(tmp_path, EXISTING_MANIFEST)
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        seed = write(tmp_path, SEED_MANIFEST, "seed.yaml")
        assert kayse(["apply", seed], cwd=tmp_path, url=sb.url).code == 0
        before = sb.stats()
        run = doctor(tmp_path, sb.url, manifest)
        after = sb.stats()
    assert run.code == 1  # case 2 does not exist
    assert after["by_method"]["GET"] - before["by_method"].get("GET", 0) == 4
    assert {m: n for m, n in after["by_method"].items() if m != "GET"} == {
        m: n for m, n in before["by_method"].items() if m != "GET"
    }
    existing = check(run, "existing")
    assert existing["verdict"] == "failed"
    assert existing["saw"] == [
        "case 1 (named by lists.q2_pi.include_ids) exists",
        "case 2 (named by lists.q2_pi.include_ids) does not exist (HTTP 404)",
        "list 1 (named by campaigns.q2_outreach) exists: 'Q2 Personal Injury Outreach'",
        "lists.q2_pi: a list named 'Q2 Personal Injury Outreach' already exists (id 1); "
        "apply would create a second one",
        "agent_id 'agent_quickstart' (campaigns q2_outreach): cannot be confirmed: "
        "Kayse documents no read of agents",
    ]


def test_many_existing_ids_stay_within_five_requests_and_one_line(tmp_path: Path) -> None:
    ids = ", ".join(str(i) for i in range(1, 9))
    manifest = write(
        tmp_path,
        SEED_MANIFEST.replace("    include_ids: [garcia_auto]\n", f"    include_ids: [{ids}]\n"),
    )
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        run = doctor(tmp_path, sb.url, manifest)
        assert sent(sb) == {"GET": 5}
    assert run.code == 1  # none of them exists in an empty sandbox
    saw = check(run, "existing")["saw"]
    assert saw[0] == (
        "5 existing case(s) not read (doctor sends at most 5 requests): 4, 5, 6, 7, 8"
    )
    assert saw[1:4] == [
        f"case {i} (named by lists.q2_pi.include_ids) does not exist (HTTP 404)" for i in (1, 2, 3)
    ]


def test_a_small_budget_is_weighed_against_the_plan(tmp_path: Path) -> None:
    manifest = write(tmp_path, SEED_MANIFEST)
    with running_sandbox(tmp_path, rate_limit="8/3600") as sb:
        run = doctor(tmp_path, sb.url, manifest)
        assert sent(sb) == {"GET": 3}
    assert run.code == 0
    budget = check(run, "budget")
    assert budget["verdict"] == "warning"
    assert budget["saw"][-1] == "the plan needs more than the 5 left"
    assert check(run, "rate-limit")["saw"][1] == ("the limit is 8, not the documented 500 per hour")


def test_an_invalid_manifest_sends_nothing(tmp_path: Path) -> None:
    manifest = write(tmp_path, "version: 1\ncontacts:\n  Bad Symbol: {}\n")
    with running_sandbox(tmp_path) as sb:
        run = doctor(tmp_path, sb.url, manifest)
        assert sb.stats()["requests"] == 0
    assert run.code == 1
    assert run.stderr.startswith("recipe.yaml:3:3: ")


def test_text_and_markdown_name_every_check(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        runs = {
            o: kayse(["doctor", "--output", o], cwd=tmp_path, url=sb.url)
            for o in ("text", "markdown")
        }
    for output, run in runs.items():
        assert run.code == 0, run.stderr
        for title in ("the URL answers like Kayse", "the API key is accepted", "the rate budget"):
            assert title in run.stdout
        assert ("| check | verdict | what to do |" in run.stdout) == (output == "markdown")


def many_contacts(n: int) -> str:
    """A recipe of ``n`` contacts: one bulk create at --batch-size 100, ceil(n/10) at 10."""
    contacts = "".join(
        f"  c{i}:\n    first_name: C{i}\n    last_name: L\n    external_source_id: x{i}\n"
        for i in range(n)
    )
    return f"version: 1\ndefaults:\n  contacts: {{external_source: other}}\ncontacts:\n{contacts}"


def test_batch_size_counts_the_plan_as_plan_does(tmp_path: Path) -> None:
    manifest = write(tmp_path, many_contacts(25))
    sizes: dict[str, list[str]] = {"default": [], "10": ["--batch-size", "10"]}
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        runs = {name: doctor(tmp_path, sb.url, manifest, *args) for name, args in sizes.items()}
        plans = {
            name: kayse(["plan", manifest, *args, "--output", "json"], cwd=tmp_path, url=sb.url)
            for name, args in sizes.items()
        }
        refused = doctor(tmp_path, sb.url, manifest, "--batch-size", "0")
    needs = {name: check(run, "budget")["saw"][1] for name, run in runs.items()}
    assert needs == {
        "default": "the manifest's plan needs 1 request(s)",
        "10": "the manifest's plan needs 3 request(s)",
    }
    assert {name: run.json()["requests"] for name, run in plans.items()} == {"default": 1, "10": 3}
    assert refused.code == 1  # the bounds of plan's and apply's --batch-size
    assert "--batch-size" in refused.stderr and refused.stdout == ""


def test_the_manifests_warnings_are_told_once(tmp_path: Path) -> None:
    manifest = write(tmp_path, many_contacts(1))
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        run = kayse(["doctor", manifest, "--var", "UNUSED=1"], cwd=tmp_path, url=sb.url)
    assert run.code == 0, run.stderr
    assert run.stderr.count("UNUSED is given a value") == 1, run.stderr


ALL_CHECKS = ["url", "key", "rate-limit", "budget", "fields", "values", "existing"]


def test_without_a_key_every_check_is_still_reported(tmp_path: Path) -> None:
    manifest = write(tmp_path, SEED_MANIFEST)
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        run = doctor(tmp_path, sb.url, manifest, key=None)
        assert sent(sb) == {"GET": 1}  # the 401 stops it
    assert run.code == 1
    assert list(verdicts(run)) == ALL_CHECKS
    assert check(run, "key")["saw"][0] == "KAYSE_API_KEY is not set"
    assert check(run, "key")["verdict"] == "failed"


def test_a_state_that_cannot_be_read_is_said_and_the_account_still_checked(
    tmp_path: Path,
) -> None:
    manifest = write(tmp_path, SEED_MANIFEST)
    (tmp_path / "recipe.state.json").write_text("{not json")
    with running_sandbox(tmp_path, rate_limit="500/3600") as sb:
        run = doctor(tmp_path, sb.url, manifest)
        assert sent(sb) == {"GET": 3}
    assert run.code == 0, run.stderr
    assert list(verdicts(run)) == ALL_CHECKS
    budget = check(run, "budget")
    assert budget["verdict"] == "warning"
    assert budget["saw"][-1].startswith("the plan cannot be made: "), budget
    assert "recipe.state.json" in budget["saw"][-1]


def test_markdown_is_built_like_plans_and_escapes_what_the_server_says(tmp_path: Path) -> None:
    said = "<img src=x onerror=alert(1)> | @org/team **now** [x](http://e)\n::error::owned"
    refusal = Reply(401, {"error": "unauthorized", "message": said})
    with hostile_server([refusal], max_seconds=60) as server:
        run = kayse(["doctor", "--output", "markdown"], cwd=tmp_path, url=server.url, key="k-1234")
    assert run.code == 1
    lines = run.stdout.splitlines()
    assert lines[0] == f"### kayse-pipeline doctor: <code>{server.url}</code>"
    table = lines[2 : lines.index("", 2)]
    assert table[:2] == ["| check | verdict | what to do |", "|---|---|---|"]
    assert len(table) == 2 + 6  # one row per check (no manifest: no "existing")
    assert all(len(re.split(r"(?<!\\)\|", row)) == 5 for row in table)  # three cells each
    details = lines.index("<details>")
    assert lines[details + 1] == "<summary>What doctor saw</summary>"
    assert lines[-1] == "</details>"
    key = lines[lines.index("- **key** (failed)") + 1]
    assert key.startswith("  - GET /metadata/objects answered HTTP 401")
    assert "&lt;img src=x onerror=alert\\(1\\)&gt; \\| &#64;org/team \\*\\*now\\*\\*" in key
    for raw in ("<img", "@org", "**now**", "](http"):
        assert raw not in run.stdout
    assert not re.search(r"^\s*(::|##\[)", run.stdout, re.MULTILINE)
