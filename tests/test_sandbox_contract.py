"""The seed guide's curl commands, run with the real curl against ``sandbox serve``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from testing.sandbox import running_sandbox
from testing.sandbox_process import SandboxProcess

CURL = shutil.which("curl") or "/usr/bin/curl"
pytestmark = pytest.mark.skipif(not Path(CURL).exists(), reason="needs the curl binary")


def curl(sb: SandboxProcess, method: str, path: str, body: str | None = None) -> tuple[int, Any]:
    """Run one guide-style curl call; return (status, decoded JSON body)."""
    args = [CURL, "-sS", "-X", method, f"{sb.url}{path}", "-H", f"X-API-KEY: {sb.api_key}"]
    args += ["-H", "Content-Type: application/json", "-w", "\n%{http_code}"]
    if body is not None:
        args += ["-d", body]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=30).stdout
    text, _, status = out.rpartition("\n")
    return int(status), json.loads(text)


def test_seed_guide_quick_reference_in_sequence(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as sb:
        status, contact = curl(
            sb,
            "POST",
            "/clients",
            """{
            "first_name": "Maria", "last_name": "Garcia", "email": "maria.garcia@example.com",
            "mobile": "+15551234567", "external_source": "other",
            "external_source_id": "crm_contact_901"}""",
        )
        assert status == 201
        assert {k: v for k, v in contact.items() if v is not None and k != "case_ids"} == {
            "id": contact["id"],
            "first_name": "Maria",
            "last_name": "Garcia",
            "email": "maria.garcia@example.com",
            "mobile": "+15551234567",
            "external_source": "other",
            "external_source_id": "crm_contact_901",
            "origin": "public_api",
        }
        assert contact["update_origin"] is None
        client_id = contact["id"]

        status, case = curl(
            sb,
            "POST",
            "/cases",
            f"""{{
            "case_number": "PI-2026-042", "name": "Garcia - Auto Accident", "status": "active",
            "type": "personal_injury", "external_source": "other",
            "external_source_id": "crm_case_555", "client_ids": [{client_id}]}}""",
        )
        assert status == 201
        expected_case = {
            "case_number": "PI-2026-042",
            "name": "Garcia - Auto Accident",
            "status": "active",
            "type": "personal_injury",
            "client_ids": [client_id],
            "origin": "public_api",
            "update_origin": None,
        }
        assert {k: case[k] for k in expected_case} == expected_case
        case_id = case["id"]
        assert isinstance(case_id, int)

        status, case_list = curl(
            sb,
            "POST",
            "/case_lists",
            """{
            "name": "Q2 Personal Injury Outreach",
            "description": "PI prospects for the Q2 campaign"}""",
        )
        assert status == 201
        expected_list = {
            "name": "Q2 Personal Injury Outreach",
            "description": "PI prospects for the Q2 campaign",
            "case_count": 0,
            "origin": "public_api",
            "update_origin": None,
        }
        assert {k: case_list[k] for k in expected_list} == expected_list
        list_id = case_list["id"]

        status, attached = curl(
            sb, "PATCH", f"/case_lists/{list_id}/attach", f'{{"include_ids": [{case_id}]}}'
        )
        assert (status, attached) == (
            200,
            {"action": "attach", "list_id": list_id, "matched_case_count": 1, "case_count": 1},
        )

        status, appended = curl(
            sb, "POST", f"/case_lists/{list_id}/clients/append", f'{{"client_ids": [{client_id}]}}'
        )
        assert (status, appended) == (
            200,
            {"action": "append", "list_id": list_id, "client_count": 1, "matched_case_count": 1},
        )

        status, detached = curl(
            sb, "PATCH", f"/case_lists/{list_id}/detach", f'{{ "include_ids": [{case_id}] }}'
        )
        assert (status, detached) == (
            200,
            {"action": "detach", "list_id": list_id, "matched_case_count": 1, "case_count": 0},
        )

        status, removed = curl(
            sb,
            "POST",
            f"/case_lists/{list_id}/clients/remove",
            f'{{ "client_ids": [{client_id}] }}',
        )
        assert (status, removed) == (
            200,
            {"action": "remove", "list_id": list_id, "client_count": 1, "matched_case_count": 1},
        )

        status, campaign = curl(
            sb,
            "POST",
            "/campaigns",
            f"""{{
            "name": "Q2 PI Outreach", "agent_id": "your_agent_id", "case_list_id": {list_id},
            "runs": [{{"start_date": "2026-04-01", "end_date": "2026-04-30",
                       "start_time": "09:00", "end_time": "17:00"}}]}}""",
        )
        assert status == 201
        assert list(campaign) == ["id"] and isinstance(campaign["id"], int)

        status, lists = curl(sb, "GET", "/case_lists?key=q2&page=1&page_size=10")
        assert status == 200
        assert (lists["page"], lists["total"], [x["id"] for x in lists["data"]]) == (
            1,
            1,
            [list_id],
        )

        assert sb.stats()["requests"] == 9
        dump = sb.dump()
        assert dump["case_lists"][0]["case_ids"] == []
        assert dump["clients"][0]["case_ids"] == [case_id]
        assert [c["id"] for c in dump["campaigns"]] == [campaign["id"]]


def test_lost_answer_over_http_is_an_empty_reply_after_commit(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, faults="lost=1") as sb:
        args = [CURL, "-sS", "-X", "POST", f"{sb.url}/case_lists", "-H", f"X-API-KEY: {sb.api_key}"]
        result = subprocess.run(
            [*args, "-d", '{"name": "x"}'], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 52  # curl: "Empty reply from server"
        assert result.stdout == ""
        assert [x["name"] for x in sb.dump()["case_lists"]] == ["x"]
