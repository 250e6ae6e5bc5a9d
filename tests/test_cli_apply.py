"""apply end to end: the real CLI in a child process against `sandbox serve` over HTTP."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from testing.cli import SEED_MANIFEST, actions, kayse
from testing.lifecycle import sent_since
from testing.sandbox import running_sandbox
from testing.sandbox_process import SandboxProcess


def write(tmp_path: Path, text: str, name: str = "seed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def writes(server: SandboxProcess) -> int:
    """Requests the server has answered that were not reads."""
    stats = server.stats()
    return sum(n for key, n in stats["by_endpoint"].items() if not key.startswith("GET"))


def test_seed_flow_creates_in_order_and_saves_every_id(
    tmp_path: Path, server: SandboxProcess
) -> None:
    write(tmp_path, SEED_MANIFEST)
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    doc = run.json()
    assert [(r["kind"], r["symbol"], r["action"]) for r in doc["records"]] == [
        ("contact", "maria", "created"),
        ("case", "garcia_auto", "created"),
        ("list", "q2_pi", "created"),
        ("campaign", "q2_outreach", "created"),
    ]
    assert doc["requests"] == 6  # contact, case, list, attach, append, campaign
    dump = server.dump()
    (contact,) = dump["clients"]
    (case,) = dump["cases"]
    (case_list,) = dump["case_lists"]
    (campaign,) = dump["campaigns"]
    assert case["client_ids"] == [contact["id"]]
    assert campaign["case_list_id"] == case_list["id"]
    state = json.loads((tmp_path / "seed.state.json").read_text())
    assert state["records"]["maria"]["id"] == contact["id"]
    assert state["records"]["q2_outreach"]["id"] == campaign["id"]
    assert state["memberships"]["q2_pi"] == {
        "client_ids": [contact["id"]],
        "include_ids": [case["id"]],
    }


def test_reapply_sends_no_request(tmp_path: Path, server: SandboxProcess) -> None:
    write(tmp_path, SEED_MANIFEST)
    assert kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url).code == 0
    before = server.stats()["requests"]
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0
    assert run.json()["requests"] == 0
    assert set(actions(run).values()) == {"unchanged"}
    assert server.stats()["requests"] == before
    plan = kayse(["plan", "seed.yaml", "--detailed-exitcode"], cwd=tmp_path, url=server.url)
    assert plan.code == 0, plan.stdout
    assert "Nothing to do" in plan.stdout


def test_edit_sends_exactly_one_update(tmp_path: Path, server: SandboxProcess) -> None:
    write(tmp_path, SEED_MANIFEST)
    assert kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url).code == 0
    write(tmp_path, SEED_MANIFEST.replace("maria.garcia@example.com", "m.garcia@example.com"))
    plan = kayse(
        ["plan", "seed.yaml", "--detailed-exitcode", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert plan.code == 2
    assert plan.json()["requests"] == 1
    before = server.stats()["by_endpoint"]
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "maria": "updated",
        "garcia_auto": "unchanged",
        "q2_pi": "unchanged",
        "q2_outreach": "unchanged",
    }
    sent = sent_since(server, before)
    assert sent == {"PUT /v1/clients/{id}": 1}
    (contact,) = server.dump()["clients"]
    assert contact["email"] == "m.garcia@example.com"
    assert contact["case_ids"] == [server.dump()["cases"][0]["id"]]  # the PUT kept the link


def test_membership_changes_attach_and_detach(tmp_path: Path, server: SandboxProcess) -> None:
    two_cases = SEED_MANIFEST.replace(
        "lists:",
        "  second:\n    case_number: PI-2\n    status: active\n    type: personal_injury\n"
        "    external_source_id: crm_case_2\n    client_ids: [maria]\nlists:",
    )
    write(tmp_path, two_cases.replace("    client_ids: [maria]\ncampaigns:", "campaigns:"))
    assert kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url).code == 0
    dump = server.dump()
    ids = {c["case_number"]: c["id"] for c in dump["cases"]}
    assert dump["case_lists"][0]["case_ids"] == [ids["PI-2026-042"]]
    edited = two_cases.replace("include_ids: [garcia_auto]", "include_ids: [second]")
    write(tmp_path, edited.replace("    client_ids: [maria]\ncampaigns:", "campaigns:"))
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert run.json()["requests"] == 2
    assert run.json()["membership_changes"] == [
        "list q2_pi: detach 1 case(s)",
        "list q2_pi: attach 1 case(s)",
    ]
    assert server.dump()["case_lists"][0]["case_ids"] == [ids["PI-2"]]


def test_failure_skips_dependents_and_the_next_apply_resumes(
    tmp_path: Path, server: SandboxProcess
) -> None:
    # Valid for the manifest (no account block), refused by the account: the case fails.
    broken = SEED_MANIFEST.replace(
        "account:\n  case_types: [personal_injury]\n  case_statuses: [active]\n", ""
    )
    write(tmp_path, broken.replace("type: personal_injury", "type: maritime_salvage"))
    run = kayse(
        ["apply", "seed.yaml", "--output", "json", "--junit", "report.xml"],
        cwd=tmp_path,
        url=server.url,
    )
    assert run.code == 1
    assert actions(run) == {
        "maria": "created",
        "garcia_auto": "failed",
        "q2_pi": "created",
        "q2_outreach": "skipped",
    }
    failed = next(r for r in run.json()["records"] if r["action"] == "failed")
    assert "HTTP 400" in failed["message"] and "type" in failed["message"]
    suite = ET.parse(tmp_path / "report.xml").getroot()
    assert (
        suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    )
    write(tmp_path, broken)
    run = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr
    assert actions(run) == {
        "maria": "unchanged",
        "garcia_auto": "created",
        "q2_pi": "unchanged",
        "q2_outreach": "created",
    }
    dump = server.dump()
    assert len(dump["clients"]) == 1 and len(dump["cases"]) == 1 and len(dump["campaigns"]) == 1


def test_resume_after_the_budget_runs_out(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, rate_limit="3/3") as server:
        write(tmp_path, SEED_MANIFEST)
        first = kayse(
            ["apply", "seed.yaml", "--max-wait", "0", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
        )
        assert first.code == 1
        assert "more than --max-wait (0 s)" in first.json()["stopped"]
        assert first.json()["requests"] == 3
        time.sleep(4)
        second = kayse(["apply", "seed.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert second.code == 0, second.stderr
        assert second.json()["requests"] == 3
        dump = server.dump()
        assert [len(dump[k]) for k in ("clients", "cases", "case_lists", "campaigns")] == [
            1,
            1,
            1,
            1,
        ]
        assert server.stats()["by_status"].get("429", 0) == 0


def test_state_of_another_target_is_refused(tmp_path: Path, server: SandboxProcess) -> None:
    write(tmp_path, SEED_MANIFEST)
    assert kayse(["apply", "seed.yaml", "--sandbox"], cwd=tmp_path, key=None).code == 0
    run = kayse(
        ["apply", "seed.yaml", "--state", "seed.sandbox.state.json"], cwd=tmp_path, url=server.url
    )
    assert run.code == 1
    assert run.stderr.strip() == (
        f"error: seed.sandbox.state.json belongs to sandbox, not {server.url}; "
        f"add --sandbox to use it, or --state another file to keep a state for {server.url}"
    )
    assert server.stats()["requests"] == 0


def test_concurrent_apply_is_refused(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, extra_args=["--faults", "slow=1,slow_seconds=2"]) as server:
        write(tmp_path, SEED_MANIFEST)
        results = {}

        def first() -> None:
            results["first"] = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url)

        thread = threading.Thread(target=first)
        thread.start()
        time.sleep(1.5)
        second = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url)
        thread.join()
        assert second.code == 1
        assert "is in use by another kayse-pipeline run (pid" in second.stderr
        assert results["first"].code == 0
        assert len(server.dump()["clients"]) == 1


def test_missing_key_is_an_error_before_anything_is_sent(
    tmp_path: Path, server: SandboxProcess
) -> None:
    write(tmp_path, SEED_MANIFEST)
    run = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url, key=None)
    assert run.code == 1
    assert run.stderr.startswith("error: KAYSE_API_KEY is not set")
    assert server.stats()["requests"] == 0
    assert not (tmp_path / "seed.state.json").exists()


def test_wrong_key_is_a_clear_error(tmp_path: Path, server: SandboxProcess) -> None:
    write(tmp_path, SEED_MANIFEST)
    run = kayse(
        ["apply", "seed.yaml", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
        key="wrong-key-999",
    )
    assert run.code == 1
    assert "HTTP 401" in run.json()["stopped"]
    assert "wrong-key-999" not in run.stdout + run.stderr
    assert json.loads((tmp_path / "seed.state.json").read_text())["records"] == {}


def test_sandbox_quickstart_needs_no_key_and_converges(tmp_path: Path) -> None:
    write(tmp_path, SEED_MANIFEST)
    first = kayse(["apply", "seed.yaml", "--sandbox"], cwd=tmp_path, key=None)
    assert first.code == 0, first.stderr
    assert "maria" in first.stdout and "created" in first.stdout
    second = kayse(["apply", "seed.yaml", "--sandbox"], cwd=tmp_path, key=None)
    assert second.code == 0
    assert second.stdout.strip() == "Nothing to do: 4 record(s) already in place, 0 requests sent."
    assert (tmp_path / "seed.sandbox.state.json").exists()
    assert (tmp_path / ".kayse-sandbox").is_dir()
