"""Records are named by symbol and a non-personal identifier; a personal column is never shown.

Issue 11, finding 16: ``external_source_id: "{email}"`` put a lead's email on stderr in
the unknown-record advice, and a date column quoted a birth date in a validation
message. The real CLI, real files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import SEED_MANIFEST, kayse

ROWS_MANIFEST = """\
version: 1
defaults:
  contacts: {{external_source: other}}
  cases: {{external_source: other}}
contacts:
  maria:
    first_name: Maria
    last_name: Garcia
    email: maria.garcia@example.com
    external_source_id: maria.garcia@example.com
  plain:
    first_name: Juan
    last_name: Perez
    external_source_id: crm_contact_901
rows:
  leads:
    file: leads.csv
    contact:
      symbol: "lead_{{id}}"
      first_name: "{{first}}"
      last_name: "{{last}}"
      email: "{{email}}"
      date_of_birth: "{{dob}}"
      external_source_id: "{contact_id}"
    case:
      symbol: "case_{{id}}"
      case_number: "{case_number}"
      name: "Intake {{id}}"
      status: active
      type: personal_injury
      external_source_id: "{case_id}"
      created_date: "{{dob}}"
"""
CSV = "id,first,last,email,dob\n1,Ann,Lee,ann.lee@example.com,1985-02-11\n"
PERSONAL = ("ann.lee@example.com", "1985-02-11", "maria.garcia@example.com", "Ann", "Lee")


def unknown_state(symbols: dict[str, str]) -> str:
    records = {
        s: {"kind": kind, "status": "unknown", "fingerprint": "f"} for s, kind in symbols.items()
    }
    doc = {"format": "kayse-pipeline-state", "version": 1, "target": "sandbox", "salt": "s"}
    return json.dumps(doc | {"records": records})


CASES = [
    (
        "email-in-external-id",
        {"contact_id": "{email}", "case_id": "{email}", "case_number": "PI-{id}"},
        "  contact lead_1 (leads.csv:2)",
        "  case case_1 (case_number PI-1)",
    ),
    (
        "birth-date-in-external-id",
        {"contact_id": "crm-{dob}", "case_id": "case-{dob}", "case_number": "{dob}"},
        "  contact lead_1 (leads.csv:2)",
        "  case case_1 (leads.csv:2)",
    ),
    (
        "an-id-column",
        {"contact_id": "crm-{id}", "case_id": "crm-case-{id}", "case_number": "PI-{id}"},
        "  contact lead_1 (external_source_id crm-1)",
        "  case case_1 (external_source_id crm-case-1)",
    ),
]


@pytest.mark.parametrize(
    ("templates", "contact_line", "case_line"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_unknown_records_are_named_without_personal_data(
    tmp_path: Path, templates: dict[str, str], contact_line: str, case_line: str
) -> None:
    (tmp_path / "m.yaml").write_text(ROWS_MANIFEST.format(**templates))
    (tmp_path / "leads.csv").write_text(CSV)
    symbols = {"maria": "contact", "plain": "contact", "lead_1": "contact", "case_1": "case"}
    (tmp_path / "m.sandbox.state.json").write_text(unknown_state(symbols))
    plan = kayse(["plan", "m.yaml", "--sandbox"], cwd=tmp_path, key=None)
    assert plan.code == 0, plan.stderr
    lines = plan.stderr.splitlines()
    assert sorted(lines[1:5]) == sorted(
        [
            "  contact maria (m.yaml:6)",  # its external ID is its own email
            "  contact plain (external_source_id crm_contact_901)",
            contact_line,
            case_line,
        ]
    )
    output = plan.stdout + plan.stderr
    assert not [value for value in PERSONAL if value in output]


ROW_PROBLEMS = [
    # a date column in a case's date, an email column in a case's text field
    ("1,Ann,Lee,ann.lee@example.com,1985-02-30\n", "{dob}", "PI-{id}", "created_date"),
    ("1,Ann,Lee,ann.lee@example.com,85-2-3\n", "{dob}", "PI-{id}", "created_date"),
    ("1,Ann,Lee,ann.lee@example.com,1985-02-11\n", "2026-01-01", "{email}", "case_number"),
]


@pytest.mark.parametrize(("row", "created", "number", "field"), ROW_PROBLEMS)
def test_a_row_problem_never_quotes_a_personal_column(
    tmp_path: Path, row: str, created: str, number: str, field: str
) -> None:
    manifest = f"""\
version: 1
account:
  case_types: [personal_injury]
rows:
  leads:
    file: leads.csv
    contact:
      symbol: "lead_{{id}}"
      first_name: "{{first}}"
      last_name: "{{last}}"
      email: "{{email}}"
      date_of_birth: "2000-01-01"
      external_source: other
      external_source_id: "c-{{id}}"
    case:
      symbol: "case_{{id}}"
      case_number: "{number}"
      status: active
      type: "{{email}}"
      external_source: other
      external_source_id: "k-{{id}}"
      created_date: "{created}"
"""
    (tmp_path / "m.yaml").write_text(manifest)
    (tmp_path / "leads.csv").write_text("id,first,last,email,dob\n" + row)
    run = kayse(["validate", "m.yaml"], cwd=tmp_path, key=None)
    assert run.code == 1
    assert "cases.case_1.type: a value from a personal column (not shown)" in run.stderr
    if field == "created_date":
        assert f"cases.case_1.{field}: " in run.stderr
    for value in ("ann.lee@example.com", "1985-02-30", "85-2-3", "Ann", "Lee"):
        assert value not in run.stderr, run.stderr


def test_the_seed_recipe_names_records_as_before(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "seed.sandbox.state.json").write_text(
        unknown_state({"maria": "contact", "garcia_auto": "case", "q2_pi": "list"})
    )
    plan = kayse(["plan", "seed.yaml", "--sandbox"], cwd=tmp_path, key=None)
    assert plan.stderr.splitlines()[1:4] == [
        "  contact maria (external_source_id crm_contact_901)",
        "  case garcia_auto (external_source_id crm_case_555)",
        "  list q2_pi (name Q2 Personal Injury Outreach)",
    ]
