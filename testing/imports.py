"""A bulk import of N fake leads from a CSV: the manifest and data that benchmarks and tests use."""

from __future__ import annotations

from pathlib import Path

INCIDENTS = ("Rear-end collision", "Slip and fall", "Dog bite", "Truck collision", "Fall, at work")
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
      symbol: "lead_{lead_id}"
      first_name: "{first_name}"
      last_name: "{last_name}"
      email: "{email}"
      mobile: "{phone}"
      city: "{city}"
      state: "{state}"
      date_of_birth: "{dob}"
      external_source_id: "intake-{lead_id}"
    case:
      symbol: "case_{lead_id}"
      case_number: "PI-{lead_id}"
      name: "{last_name} - {incident}"
      created_date: "{received}"
      external_source_id: "intake-case-{lead_id}"
lists:
  intake: {name: Intake leads, include_ids: [leads]}
campaigns:
  intake_calls:
    name: Intake calls
    agent_id: agent_bench
    case_list_id: intake
    runs: [{start_date: 2026-07-06, end_date: 2026-07-31, start_time: "09:00", end_time: "18:00"}]
"""


AREA_CODES = (512, 214, 713, 210, 915, 254, 972, 806, 469, 956)
PHONE_FORMATS = ("({a}) {x}-{n}", "{a}.{x}.{n}", "+1 {a} {x} {n}", "+1{a}{x}{n}", "{a}-{x}-{n}")


def phone(i: int) -> str:
    """A distinct, valid US number per lead, written the ways intake forms write them."""
    area = AREA_CODES[i % len(AREA_CODES)]
    exchange, line = 200 + (i // len(AREA_CODES)) // 10_000, (i // len(AREA_CODES)) % 10_000
    fmt = PHONE_FORMATS[i % len(PHONE_FORMATS)]
    return fmt.format(a=area, x=exchange, n=f"{line:04d}")


def email(i: int) -> str:
    """A distinct address per lead; every third domain written in capitals."""
    return f"lead{i}@{'EXAMPLE.COM' if i % 3 == 0 else 'example.com'}"


def write_import(folder: Path, n: int) -> Path:
    """A CSV of ``n`` fake leads and the manifest that imports them; returns the manifest."""
    with (folder / "leads.csv").open("w", encoding="utf-8") as out:
        out.write("lead_id,first_name,last_name,email,phone,city,state,dob,incident,received\n")
        for i in range(n):
            incident = INCIDENTS[i % len(INCIDENTS)]
            out.write(
                f"IN-{i:06d},First{i},Last{i},{email(i)},{phone(i)},"
                f'Austin,TX,1980-01-31,"{incident}",2026-06-01\n'
            )
    manifest = folder / "leads.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return manifest
