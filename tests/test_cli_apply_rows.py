"""Bulk lead import end to end: the real CLI in a child process against `sandbox serve`.

Counts come from the server (GET /v1/_sandbox/stats), never from the client's own report.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from testing.cli import kayse
from testing.sandbox import TEST_KEY, running_sandbox
from testing.sandbox_process import SandboxProcess

MANIFEST = """\
version: 1
account: {case_types: [personal_injury], case_statuses: [new_lead]}
defaults:
  contacts: {external_source: import}
  cases: {external_source: import, status: new_lead, type: personal_injury}
rows:
  leads:
    file: leads.csv
    contact:
      symbol: "lead_{id}"
      first_name: "{first}"
      last_name: "{last}"
      email: "{email}"
      mobile: "{phone}"
      external_source_id: "crm-{id}"
    case:
      symbol: "case_{id}"
      case_number: "PI-{id}"
      name: "{last} - {incident}"
      external_source_id: "crm-case-{id}"
lists:
  q3: {name: Q3 leads, include_ids: [leads]}
campaigns:
  calls:
    name: Q3 calls
    agent_id: agent_1
    case_list_id: q3
    runs: [{start_date: 2026-07-01, end_date: 2026-07-31, start_time: "09:00", end_time: "17:00"}]
"""


def write_leads(folder: Path, n: int, *, edit: dict[int, tuple[str, str]] | None = None) -> None:
    """The manifest and a CSV of ``n`` fake leads; ``edit`` replaces a column of some rows."""
    edit = edit or {}
    rows = ["id,first,last,email,phone,incident"]
    for i in range(n):
        row = {
            "id": f"{i:04d}",
            "first": f"First{i}",
            "last": f"Last{i}",
            "email": f"lead{i}@example.com",
            "phone": f"+1555{i:07d}",
            "incident": "Rear-end collision",
        }
        if i in edit:
            row[edit[i][0]] = edit[i][1]
        rows.append(",".join(row.values()))
    (folder / "leads.csv").write_text("\n".join(rows) + "\n")
    (folder / "leads.yaml").write_text(MANIFEST)


def sent(server: SandboxProcess, before: dict[str, int]) -> dict[str, int]:
    """Requests per endpoint that the server answered since ``before``."""
    after = server.stats()["by_endpoint"]
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def test_250_leads_take_11_requests_then_none_then_one_per_edit(tmp_path: Path) -> None:
    write_leads(tmp_path, 250)
    with running_sandbox(tmp_path) as server:
        plan = kayse(["plan", "leads.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert plan.code == 0, plan.stderr
        assert plan.json()["requests"] == 11
        run = kayse(
            ["apply", "leads.yaml", "--batch-size", "100", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
        )
        assert run.code == 0, run.stderr
        assert run.json()["requests"] == 11
        assert sent(server, {}) == {
            "POST /v1/clients/bulk": 3,
            "POST /v1/cases/bulk": 3,
            "POST /v1/case_lists": 1,
            "PATCH /v1/case_lists/{id}/attach": 3,
            "POST /v1/campaigns": 1,
        }
        dump = server.dump()
        contacts = {c["external_source_id"]: c["id"] for c in dump["clients"]}
        assert len(contacts) == 250 and len(dump["cases"]) == 250
        for case in dump["cases"]:  # each case is linked to the contact of its own row
            row = case["external_source_id"].removeprefix("crm-case-")
            assert case["client_ids"] == [contacts[f"crm-{row}"]]
        (the_list,) = dump["case_lists"]
        assert sorted(the_list["case_ids"]) == sorted(c["id"] for c in dump["cases"])

        before = server.stats()["by_endpoint"]
        again = kayse(["apply", "leads.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert again.code == 0 and again.json()["requests"] == 0
        assert sent(server, before) == {}

        write_leads(tmp_path, 250, edit={17: ("email", "new17@example.com")})
        edited = kayse(["apply", "leads.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert edited.code == 0, edited.stderr
        assert [r["symbol"] for r in edited.json()["records"] if r["action"] == "updated"] == [
            "lead_0017"
        ]
        assert sent(server, before) == {"PUT /v1/clients/{id}": 1}
        (lead,) = [c for c in server.dump()["clients"] if c["external_source_id"] == "crm-0017"]
        assert lead["email"] == "new17@example.com"

        before = server.stats()["by_endpoint"]
        three = {i: ("incident", "Dog bite") for i in (3, 140, 249)}
        write_leads(tmp_path, 251, edit={17: ("email", "new17@example.com"), **three})
        grown = kayse(["apply", "leads.yaml", "--output", "json"], cwd=tmp_path, url=server.url)
        assert grown.code == 0, grown.stderr
        # Three edited cases in one bulk update; the new row's contact, case and attach.
        assert sent(server, before) == {
            "POST /v1/cases/bulk": 1,
            "POST /v1/clients": 1,
            "POST /v1/cases": 1,
            "PATCH /v1/case_lists/{id}/attach": 1,
        }
        assert server.stats()["by_status"].get("429", 0) == 0


def test_an_import_over_several_windows_is_paced_without_a_429(tmp_path: Path) -> None:
    write_leads(tmp_path, 30)
    with running_sandbox(tmp_path, rate_limit="5/2") as server:
        started = time.monotonic()
        run = kayse(
            ["apply", "leads.yaml", "--batch-size", "10", "--output", "json"],
            cwd=tmp_path,
            url=server.url,
        )
        assert run.code == 0, run.stderr
        assert run.json()["requests"] == 11  # 3 + 3 contact and case batches, list, 3 attach, 1
        stats = server.stats()
        assert stats["requests"] == 11 and stats["by_status"].get("429", 0) == 0
        assert time.monotonic() - started >= 4  # two resets waited for
        waits = [line for line in run.stderr.splitlines() if line.startswith("waiting ")]
        assert len(waits) >= 2 and all(line.endswith("for the rate-limit reset") for line in waits)
        assert "\r" not in run.stderr and "\x1b" not in run.stderr  # a log, not a terminal


def test_a_spent_budget_stops_cleanly_and_the_next_run_finishes(tmp_path: Path) -> None:
    write_leads(tmp_path, 30)
    with running_sandbox(tmp_path, rate_limit="5/3") as server:
        args = ["apply", "leads.yaml", "--batch-size", "10", "--output", "json"]
        first = kayse([*args, "--max-wait", "1"], cwd=tmp_path, url=server.url)
        assert first.code == 1
        stopped = first.json()["stopped"]
        assert re.search(
            r"more than --max-wait \(1 s\)\. Everything done so far is saved: "
            r"run again after \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$",
            stopped,
        ), stopped
        assert first.json()["requests"] == 5
        time.sleep(4)
        second = kayse(args, cwd=tmp_path, url=server.url)
        assert second.code == 0, second.stderr
        assert second.json()["requests"] == 6
        dump = server.dump()
        assert (len(dump["clients"]), len(dump["cases"]), len(dump["campaigns"])) == (30, 30, 1)
        assert server.stats()["by_status"].get("429", 0) == 0


def run_in_a_terminal(args: list[str], cwd: Path, url: str) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; return its exit code and what it drew."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env.update(KAYSE_API_URL=url, KAYSE_API_KEY=TEST_KEY)
    main, terminal = pty.openpty()
    with (cwd / "stdout.txt").open("w") as stdout:
        child = subprocess.Popen(
            [sys.executable, "-m", "kayse_pipeline", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=terminal,
        )
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    return child.wait(timeout=60), drawn.decode()


def test_a_terminal_shows_a_bar_with_the_budget_and_the_countdown(tmp_path: Path) -> None:
    write_leads(tmp_path, 12)
    with running_sandbox(tmp_path, rate_limit="4/2") as server:
        code, drawn = run_in_a_terminal(
            ["apply", "leads.yaml", "--batch-size", "6"], tmp_path, server.url
        )
        assert code == 0, drawn
        assert server.stats()["by_status"].get("429", 0) == 0
    bars = re.findall(
        r"\r\[([#.]{30})\] (\d+)/26 records, (\d+) requests, budget left (\d+|\?)", drawn
    )
    assert bars, drawn
    assert bars[-1][0] == "#" * 30 and bars[-1][1] == "26"
    assert {budget for *_, budget in bars} >= {"3", "0"}  # 8 requests on a budget of 4
    countdown = re.findall(r"budget left 0 waiting (\d+) s for the rate-limit reset", drawn)
    assert countdown and int(countdown[0]) >= 1
    assert "\x1b[K" in drawn  # each redraw clears the rest of the line
