"""Leads as they arrive: duplicates, weekly files read by a glob, bad rows set aside, prune,
and campaign lists checked before any write; exact messages of the real CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kayse_pipeline.cli.main import cli
from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.state import StateStore

HEAD = """\
version: 1
account: {{case_types: [personal_injury, family], case_statuses: [new_lead]{account}}}
defaults:
  contacts: {{external_source: intake}}
  cases: {{external_source: intake, status: new_lead, type: personal_injury}}
rows:
  intake:
    file: {file}
{options}    contact:
      symbol: "lead_{{id}}"
      first_name: "{{first}}"
      last_name: Lead
      email: "{{email}}"
      mobile: "{{phone}}"
      external_source_id: "intake-{{id}}"
    case:
      symbol: "case_{{id}}"
      case_number: "PI-{{number}}"
      external_source_id: "intake-case-{{id}}"
lists:
  calls: {{name: Calls, include_ids: [intake]}}
campaigns:
  outreach:
    name: Outreach
    agent_id: agent_1
    case_list_id: calls
    runs: [{{start_date: 2026-06-01, end_date: 2026-06-30, start_time: "09:00", end_time: "17:00"}}]
"""
COLUMNS = "id,first,email,phone,number\n"


def manifest(
    file: str = "intake/*.csv", *, skip: bool = False, duplicates: str | None = None
) -> str:
    account = f", duplicates: {duplicates}" if duplicates else ""
    options = "    on_bad_row: skip\n" if skip else ""
    return HEAD.format(file=file, options=options, account=account)


def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, files: dict[str, str], *args: str
) -> tuple[int, str, list[str]]:
    (tmp_path / "m.yaml").write_text(text)
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(content))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*(args or ("validate",)), "m.yaml"])
    return result.exit_code, result.stdout, result.stderr.splitlines()


WEEK_1 = (
    COLUMNS + "1,Ana,ana@example.com,(512) 555-0101,A1\n2,Ben,ben@example.com,512.555.0102,A2\n"
)
WEEK_2 = COLUMNS + "3,Cy,cy@example.com,+1 512 555 0103,A3\n"


def test_a_glob_reads_every_weekly_file_in_name_order_with_each_rows_own_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"intake/2026-06-08.csv": WEEK_2, "intake/2026-06-01.csv": WEEK_1}
    run(tmp_path, monkeypatch, manifest(), files)
    loaded = load_manifest(Path("m.yaml"), env={})
    assert list(loaded.records)[:6] == ["calls", "outreach", "lead_1", "case_1", "lead_2", "case_2"]
    positions = {s: str(loaded.records[s].position) for s in ("lead_1", "case_2", "lead_3")}
    assert positions == {
        "lead_1": "intake/2026-06-01.csv:2:1",
        "case_2": "intake/2026-06-01.csv:3:1",
        "lead_3": "intake/2026-06-08.csv:2:1",
    }
    assert loaded.records["calls"].refs["include_ids"] == ("case_1", "case_2", "case_3")


def test_a_glob_that_matches_nothing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, stderr = run(tmp_path, monkeypatch, manifest(), {"intake/notes.txt": "x"})
    assert code == 1
    assert stderr == [
        "m.yaml:8:11: rows.intake.file: no file matches 'intake/*.csv'",
        "m.yaml:26:19: campaigns.outreach.case_list_id: list 'calls' has no case: "
        "a campaign needs at least one case on its list",
    ]


def test_a_problem_in_a_later_file_is_placed_in_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    week_2 = COLUMNS + "3,Cy,cy@example,+1 512 555 0103,A3\n"
    files = {"intake/2026-06-01.csv": WEEK_1, "intake/2026-06-08.csv": week_2}
    code, _, stderr = run(tmp_path, monkeypatch, manifest(), files)
    assert (code, stderr) == (
        1,
        [
            "intake/2026-06-08.csv:2:3: contacts.lead_3.email: not a valid email address: "
            "the part after the @-sign is not valid; it should have a period"
        ],
    )


DUPLICATES = COLUMNS + (
    "1,Ana,ana@example.com,(512) 555-0101,A1\n"
    "2,Ben,BEN@example.com,512.555.0101,A2\n"  # Ana's phone: a household
    "3,Cy,ana@EXAMPLE.com,(512) 555-0103,A3\n"  # Ana's email, written otherwise
    "4,Di,di@example.com,(512) 555-0104,A1\n"  # Ana's case number
)


def test_duplicate_mobiles_and_emails_are_warnings_naming_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"intake/w1.csv": DUPLICATES.replace(",A1\n", ",A4\n", 2).replace(",A4\n", ",A1\n", 1)}
    code, _, stderr = run(tmp_path, monkeypatch, manifest(), files)
    assert (code, stderr) == (
        0,
        [
            "intake/w1.csv:3:4: warning: contacts.lead_2.mobile: same mobile as contacts.lead_1 "
            "(intake/w1.csv:2)",
            "intake/w1.csv:4:3: warning: contacts.lead_3.email: same email as contacts.lead_1 "
            "(intake/w1.csv:2)",
        ],
    )


def test_duplicates_error_makes_them_errors_and_case_numbers_are_always_unique(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"intake/w1.csv": DUPLICATES}
    code, _, stderr = run(tmp_path, monkeypatch, manifest(duplicates="error"), files)
    assert (code, stderr) == (
        1,
        [
            "intake/w1.csv:3:4: contacts.lead_2.mobile: same mobile as contacts.lead_1 "
            "(intake/w1.csv:2) (account.duplicates: error)",
            "intake/w1.csv:4:3: contacts.lead_3.email: same email as contacts.lead_1 "
            "(intake/w1.csv:2) (account.duplicates: error)",
            "intake/w1.csv:5:5: cases.case_4.case_number: same case_number as cases.case_1 "
            "(intake/w1.csv:2): Kayse's case numbers are unique",
        ],
    )


def test_inline_contacts_and_rows_are_one_pool_of_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = manifest().replace(
        "rows:\n",
        "contacts:\n  boss: {first_name: B, last_name: O, external_source_id: b,"
        ' mobile: "+15125550102"}\nrows:\n',
    )
    code, _, stderr = run(tmp_path, monkeypatch, text, {"intake/w1.csv": WEEK_1})
    assert (code, stderr) == (
        0,
        [
            "intake/w1.csv:3:4: warning: contacts.lead_2.mobile: same mobile as contacts.boss "
            "(m.yaml:7)"
        ],
    )


def test_bad_rows_are_skipped_and_reported_without_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    week_1 = WEEK_1 + "4,Di,di@example.com,555-CALL-NOW,A4\n5,Ed,ed@@example.com,,A5\n6,Fa\n"
    week_2 = COLUMNS + (
        "2,Ben,ben@example.com,512.555.0102,A2\n"  # last week's row again
        "7,Gu,gu@example.com,(512) 555-0101,A7\n"  # Ana's phone
        "3,Cy,cy@example.com,+1 512 555 0103,A3\n"
    )
    files = {"intake/2026-06-01.csv": week_1, "intake/2026-06-08.csv": week_2}
    text = manifest(skip=True, duplicates="error")
    code, stdout, stderr = run(tmp_path, monkeypatch, text, files)
    assert code == 0
    assert stdout == (
        "m.yaml: valid (3 contacts, 3 cases, 1 list, 1 campaign); 5 bad row(s) skipped "
        "(on_bad_row: skip), 3 phone or email value(s) normalised (E.164, trimmed, "
        "lowercase domain)\n"
    )
    assert stderr == [
        "intake/2026-06-01.csv:4: skipped: contacts.lead_4.mobile (column 'phone'): "
        "not a phone number: it has letters (write a vanity number with its digits)",
        "intake/2026-06-01.csv:5: skipped: contacts.lead_5.email (column 'email'): "
        "not a valid email address: the part after the @-sign contains invalid characters",
        "intake/2026-06-01.csv:6: skipped: has 2 values, but the header names 5 columns",
        "intake/2026-06-08.csv:2: skipped: contacts.lead_2 (column 'id'): symbol already used "
        "by intake/2026-06-01.csv:3; and 1 more problem(s)",
        "intake/2026-06-08.csv:3: skipped: contacts.lead_7.mobile (column 'phone'): same mobile "
        "as contacts.lead_1 (intake/2026-06-01.csv:2) (account.duplicates: error)",
    ]
    loaded = load_manifest(Path("m.yaml"), env={})
    assert sorted(s for s in loaded.records if s.startswith("lead_")) == [
        "lead_1",
        "lead_2",
        "lead_3",
    ]
    assert loaded.records["calls"].refs["include_ids"] == ("case_1", "case_2", "case_3")
    for secret in ("CALL", "ed@@", "555-0101"):
        assert secret not in "\n".join(stderr)


def test_plan_counts_skipped_rows_and_lists_them_in_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    week_1 = WEEK_1 + "4,Di,di@example.com,12345,A4\n"
    files = {"intake/2026-06-01.csv": week_1}
    code, stdout, _ = run(
        tmp_path, monkeypatch, manifest(skip=True), files, "plan", "--sandbox", "--output", "json"
    )
    assert code == 0
    doc = json.loads(stdout)
    assert doc["skipped_rows"] == [
        {
            "file": "intake/2026-06-01.csv",
            "line": 4,
            "reason": "contacts.lead_4.mobile (column 'phone'): not a possible phone number: "
            "too short",
        }
    ]
    assert doc["normalised_values"] == 2
    code, stdout, _ = run(tmp_path, monkeypatch, manifest(skip=True), files, "plan", "--sandbox")
    assert stdout.splitlines()[-1] == (
        "Leads: 1 bad row(s) skipped (on_bad_row: skip), 2 phone or email value(s) normalised "
        "(E.164, trimmed, lowercase domain)"
    )


def test_without_on_bad_row_one_bad_row_stops_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"intake/w1.csv": WEEK_1 + "4,Di,di@example.com,12345,A4\n"}
    code, _, stderr = run(tmp_path, monkeypatch, manifest(), files, "plan", "--sandbox")
    assert (code, stderr) == (
        1,
        ["intake/w1.csv:4:4: contacts.lead_4.mobile: not a possible phone number: too short"],
    )


def test_a_campaign_whose_list_would_be_empty_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"intake/w1.csv": COLUMNS + "4,Di,di@example.com,12345,A4\n"}
    code, _, stderr = run(tmp_path, monkeypatch, manifest(skip=True), files)
    assert code == 1
    assert stderr == [
        "m.yaml:27:19: campaigns.outreach.case_list_id: list 'calls' has no case: "
        "a campaign needs at least one case on its list",
    ]


def test_every_case_on_a_campaigns_list_has_one_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = manifest().replace(
        "lists:\n",
        "cases:\n  other: {case_number: F-1, external_source_id: f, type: family,"
        " client_ids: [lead_1]}\nlists:\n",
    )
    text = text.replace("include_ids: [intake]", "include_ids: [intake, other]")
    code, _, stderr = run(tmp_path, monkeypatch, text, {"intake/w1.csv": WEEK_1})
    assert (code, stderr) == (
        1,
        [
            "m.yaml:28:19: campaigns.outreach.case_list_id: every case on list 'calls' must "
            "have the same type, but it has 'family' (other) and 'personal_injury' (case_1)"
        ],
    )


@pytest.mark.parametrize(("prune", "removed"), [(None, 1), ("true", 1), ("false", 0)])
def test_prune_false_keeps_members_that_leave_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prune: str | None, removed: int
) -> None:
    text = manifest(file="intake.csv")
    if prune is not None:
        text = text.replace("include_ids: [intake]}", f"include_ids: [intake], prune: {prune}}}")
    files = {"intake.csv": WEEK_1}
    code, _, _ = run(tmp_path, monkeypatch, text, files, "apply", "--sandbox")
    assert code == 0
    files = {"intake.csv": COLUMNS + "2,Ben,ben@example.com,512.555.0102,A2\n"}
    code, stdout, _ = run(tmp_path, monkeypatch, text, files, "plan", "--sandbox")
    assert ("~ list calls: detach 1" in stdout) == bool(removed)
    code, _, _ = run(tmp_path, monkeypatch, text, files, "apply", "--sandbox")
    state = StateStore.open(tmp_path / "m.sandbox.state.json", "sandbox", lock=False)
    assert len(state.members("calls", "include_ids")) == 2 - removed
