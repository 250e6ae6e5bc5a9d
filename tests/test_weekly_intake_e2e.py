"""A weekly intake recipe over three weeks of files, against `sandbox serve`.

Each week a new export lands in intake/; bad rows are skipped and reported, a person who
is already in (same phone or email, written otherwise) is set aside, and after every
apply the sandbox holds each person once, with E.164 numbers, every case on the list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from testing.cli import kayse
from testing.sandbox import running_sandbox

ROOT = Path(__file__).resolve().parent.parent
HEADER = "lead_id,first_name,last_name,email,phone,incident\n"
WEEKS = [
    (
        "2026-06-01.csv",
        "1001,Maria,Garcia,maria.garcia@example.com,(512) 555-0101,Rear-end collision\n"
        "1002,James,Okafor,James.Okafor@Example.COM ,214.555.0102,Slip and fall\n"
        "1003,Lena,Novak,,555-CALL-NOW,Truck collision\n"  # letters: skipped
        "1004,Sam,Reyes,sam.reyes@@example,210-555-0104,Dog bite\n"  # bad email: skipped
        "1005,Priya,Shah,priya.shah@example.com,+1 915 555 0105,Bicycle accident\n",
    ),
    (
        "2026-06-08.csv",
        "1002,James,Okafor,james.okafor@example.com,214-555-0102,Slip and fall\n"  # again
        "1006,Maria,Garcia,m.garcia@example.com,512.555.0101,Rear-end collision\n"  # Maria's phone
        "1007,Tom,Becker,tom.becker@example.com,1 (512) 555-0106,Workplace injury\n"
        "1003,Lena,Novak,,+1 713 555 0103,Truck collision\n",  # corrected this week
    ),
    (
        "2026-06-15.csv",
        "1008,Aisha,Bello,aisha.bello@example.com,(254) 555-0107,Rear-end collision\n"
        "1009,Tom,Becker,tom.becker@EXAMPLE.com,(806) 555-0109,Workplace injury\n"  # Tom's email
        "1010,Hannah,Kim,hannah.kim@example.com,+1 (806) 555-0110,Motorcycle crash\n"
        "1011,Omar,Haddad,omar@example.com,12345,Pedestrian struck\n",  # too short: skipped
    ),
]
# After each week: persons in Kayse (by lead), and the rows skipped so far.
PEOPLE = [
    {"1001", "1002", "1005"},
    {"1001", "1002", "1005", "1007", "1003"},
    {"1001", "1002", "1005", "1007", "1003", "1008", "1010"},
]
SKIPPED = [
    ["2026-06-01.csv:4", "2026-06-01.csv:5"],
    ["2026-06-01.csv:4", "2026-06-01.csv:5", "2026-06-08.csv:2", "2026-06-08.csv:3"],
    [
        "2026-06-01.csv:4",
        "2026-06-01.csv:5",
        "2026-06-08.csv:2",
        "2026-06-08.csv:3",
        "2026-06-15.csv:3",
        "2026-06-15.csv:5",
    ],
]
E164 = re.compile(r"\+1[2-9][0-9]{2}555[0-9]{4}")


def test_three_weeks_of_intake_files(tmp_path: Path) -> None:
    recipe = (ROOT / "manifests" / "weekly_intake.yaml").read_text(encoding="utf-8")
    (tmp_path / "weekly_intake.yaml").write_text(recipe, encoding="utf-8")
    intake = tmp_path / "intake"
    intake.mkdir()
    with running_sandbox(tmp_path) as server:
        for week, (name, rows) in enumerate(WEEKS):
            (intake / name).write_text(HEADER + rows, encoding="utf-8")
            run = kayse(
                ["apply", "weekly_intake.yaml", "--output", "json"], cwd=tmp_path, url=server.url
            )
            assert run.code == 0, run.stderr
            doc = run.json()
            skipped = [f"{Path(r['file']).name}:{r['line']}" for r in doc["skipped_rows"]]
            assert skipped == SKIPPED[week]
            reported = [line for line in run.stderr.splitlines() if ": skipped: " in line]
            assert len(reported) == len(skipped)
            for line in reported:
                assert re.match(r"intake/2026-06-[0-9]{2}\.csv:[0-9]+: skipped: ", line), line
            assert "CALL" not in run.stderr and "@@" not in run.stderr
            check_sandbox(server.dump(), PEOPLE[week])
            again = kayse(["apply", "weekly_intake.yaml"], cwd=tmp_path, url=server.url)
            assert again.code == 0, again.stderr
            assert again.stdout.startswith("Nothing to do:")
    week_2 = {r["line"]: r["reason"] for r in doc["skipped_rows"] if "06-08" in r["file"]}
    assert week_2 == {
        2: "contacts.lead_1002 (column 'lead_id'): symbol already used by "
        "intake/2026-06-01.csv:3; and 1 more problem(s)",
        3: "contacts.lead_1006.mobile (column 'phone'): same mobile as contacts.lead_1001 "
        "(intake/2026-06-01.csv:2) (account.duplicates: error)",
    }


def check_sandbox(dump: dict[str, list[dict[str, Any]]], people: set[str]) -> None:
    """Each person once, with an E.164 number and a lowercase domain, every case on the list."""
    clients = dump["clients"]
    assert sorted(c["external_source_id"] for c in clients) == sorted(
        f"intake-{lead}" for lead in people
    )
    mobiles = [c["mobile"] for c in clients]
    assert all(E164.fullmatch(m) for m in mobiles), mobiles
    assert len(set(mobiles)) == len(mobiles)
    emails = [c["email"] for c in clients if c["email"] is not None]
    assert len({e.lower() for e in emails}) == len(emails)
    assert all(e == e.strip() and e.split("@")[1] == e.split("@")[1].lower() for e in emails)
    (the_list,) = dump["case_lists"]
    cases = {c["id"] for c in dump["cases"]}
    assert len(cases) == len(people)
    assert set(the_list["case_ids"]) == cases
    assert len(dump["campaigns"]) == 1
