"""Data rows: contacts and cases made from CSV and JSON Lines files, kept compact."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import pytest

from kayse_pipeline.graph import _sorted_by_graph, creation_order
from kayse_pipeline.manifest.load import load_manifest, read_manifest
from kayse_pipeline.manifest.rows.compact import RowSource, pack
from kayse_pipeline.model import Manifest, Position, RecordTable
from kayse_pipeline.plan.apply import fingerprint, make_plan
from kayse_pipeline.state import StateStore

HEAD = """\
version: 1
account: {case_types: [personal_injury, family], case_statuses: [new_lead]}
defaults:
  contacts: {external_source: import}
  cases: {external_source: import, status: new_lead, type: personal_injury}
"""

LEADS = """\
rows:
  leads:
    file: leads.csv
    contact:
      symbol: "lead_{id}"
      first_name: "{first}"
      last_name: "{last}"
      email: "{email}"
      voice_calls_opted_out: "{opted_out}"
      external_source_id: "crm-{id}"
    case:
      symbol: "case_{id}"
      case_number: "PI-{id}"
      name: "{last} - {incident}"
      is_obo: "{obo}"
      created_date: "{received}"
      external_source_id: "crm-case-{id}"
"""

CSV = """\
id,first,last,email,opted_out,incident,obo,received
1,Ana,Lopez,ana@example.com,no,Rear-end collision,YES,2026-06-01
2,Ben,Carter,,1,"Fall, at work",false,
"""


def load(tmp_path: Path, text: str, env: Mapping[str, str] | None = None, **files: str) -> Manifest:
    """Write the manifest (and its data files) into tmp_path and load it."""
    for name, content in files.items():
        (tmp_path / name.replace("_", ".", 1)).write_text(textwrap.dedent(content))
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return load_manifest(path, env=env or {})


def test_each_csv_row_becomes_a_contact_and_its_case(tmp_path: Path) -> None:
    manifest = load(tmp_path, HEAD + LEADS, leads_csv=CSV)
    ana = manifest.records["lead_1"]
    assert dict(ana.fields) == {
        "first_name": "Ana",
        "last_name": "Lopez",
        "email": "ana@example.com",
        "voice_calls_opted_out": False,
        "external_source_id": "crm-1",
        "external_source": "import",
    }
    assert dict(ana.refs) == {}
    assert ana.position == Position(str(tmp_path / "leads.csv"), 2, 1)
    ben_case = manifest.records["case_2"]
    assert dict(ben_case.fields) == {
        "case_number": "PI-2",
        "name": "Carter - Fall, at work",
        "is_obo": False,
        "external_source_id": "crm-case-2",
        "external_source": "import",
        "status": "new_lead",
        "type": "personal_injury",
    }  # the empty `received` cell left created_date out
    assert dict(ben_case.refs) == {"client_ids": ("lead_2",)}  # the contact of its own row
    assert manifest.records["lead_2"].fields["voice_calls_opted_out"] is True
    assert "email" not in manifest.records["lead_2"].fields
    assert manifest.records["case_1"].fields["is_obo"] is True


def test_jsonl_values_keep_their_json_type_where_the_field_takes_it(tmp_path: Path) -> None:
    text = HEAD + textwrap.dedent("""\
        rows:
          web:
            file: web.jsonl
            contact:
              symbol: "web_{id}"
              first_name: "{first}"
              last_name: "{last}"
              postal_code: "{zip}"
              voice_calls_opted_out: "{opted_out}"
              case_ids: ["{old_case}"]
              meta: "{extra}"
              external_source_id: "web-{id}"
    """)
    rows = (
        '{"id": 7, "first": "Ana", "last": "Lopez", "zip": 78701, "opted_out": true,'
        ' "old_case": 512, "extra": {"utm": "ads"}}\n'
        "\n"
        '{"id": "8", "first": "Ben", "last": "Carter", "zip": null, "opted_out": "no",'
        ' "old_case": "513"}\n'
    )
    manifest = load(tmp_path, text, web_jsonl=rows)
    assert dict(manifest.records["web_7"].fields) == {
        "first_name": "Ana",
        "last_name": "Lopez",
        "postal_code": "78701",
        "voice_calls_opted_out": True,
        "case_ids": [512],
        "meta": {"utm": "ads"},
        "external_source_id": "web-7",
        "external_source": "import",
    }
    ben = manifest.records["web_8"]
    assert dict(ben.fields) == {
        "first_name": "Ben",
        "last_name": "Carter",
        "voice_calls_opted_out": False,
        "case_ids": [513],
        "external_source_id": "web-8",
        "external_source": "import",
    }  # null and a missing key both leave the field out
    assert ben.position.line == 3  # the blank line 2 is skipped, not renumbered


def test_symbols_are_made_from_row_values_and_digits_are_ids(tmp_path: Path) -> None:
    text = HEAD + textwrap.dedent("""\
        contacts:
          maria: {first_name: Maria, last_name: Garcia, external_source_id: m1}
        rows:
          intake:
            file: intake.csv
            case:
              symbol: "case_{ref}"
              case_number: "{ref}"
              client_ids: ["{contact}", "c_{ref}_x"]
              external_source_id: "{ref}"
          people:
            file: people.csv
            contact:
              symbol: "c_{ref}_x"
              first_name: "{name}"
              last_name: "Unknown"
              external_source_id: "p-{ref}"
    """)
    manifest = load(
        tmp_path,
        text,
        intake_csv="ref,contact\nCRM-0042,Maria\n  A b  ,777\n",
        people_csv="ref,name\nCRM-0042,Zoe\n  A b  ,Yan\n",
    )
    assert dict(manifest.records["case_crm_0042"].refs) == {"client_ids": ("maria", "c_crm_0042_x")}
    assert dict(manifest.records["case_a_b"].refs) == {"client_ids": (777, "c_a_b_x")}
    assert manifest.records["case_a_b"].fields["case_number"] == "  A b  "  # only symbols change


def test_a_row_source_in_a_list_stands_for_each_of_its_records(tmp_path: Path) -> None:
    text = (
        HEAD
        + LEADS
        + textwrap.dedent("""\
        cases:
          walk_in: {case_number: W1, external_source_id: w1, client_ids: [lead_2]}
        lists:
          everyone: {name: All, include_ids: [walk_in, leads, case_1], client_ids: [leads]}
          one: {name: One, include_ids: [case_2, 99]}
        campaigns:
          calls:
            name: Calls
            agent_id: a1
            case_list_id: everyone
            runs: [{start_date: 2026-07-01, end_date: 2026-07-02, messaging_only: true}]
    """)
    )
    manifest = load(tmp_path, text, leads_csv=CSV)
    everyone = manifest.records["everyone"]
    assert dict(everyone.refs) == {
        "include_ids": ("walk_in", "case_1", "case_2"),  # case_1 once
        "client_ids": ("lead_1", "lead_2"),
    }
    assert manifest.records["one"].refs["include_ids"] == ("case_2", 99)
    assert manifest.records["walk_in"].refs["client_ids"] == ("lead_2",)


def test_environment_variables_and_braces_in_templates(tmp_path: Path) -> None:
    text = HEAD + LEADS.replace('"{last} - {incident}"', '"${PREFIX:-x} {{{incident}}}"')
    manifest = load(tmp_path, text, env={"PREFIX": "Intake"}, leads_csv=CSV)
    assert manifest.records["case_1"].fields["name"] == "Intake {Rear-end collision}"


def test_csv_quirks_bom_crlf_quoted_line_breaks_and_blank_rows(tmp_path: Path) -> None:
    data = (
        "\ufeffid,first,last,email,opted_out,incident,obo,received\r\n"
        '1,Ana,Lopez,,no,"two\r\nlines",no,\r\n'
        "\r\n"
        ",,,,,,,\r\n"
        "2,Ben,Carter,,no,x,no,\r\n"
    )
    (tmp_path / "leads.csv").write_bytes(data.encode())
    manifest = load(tmp_path, HEAD + LEADS)
    assert manifest.records["case_1"].fields["name"] == "Lopez - two\r\nlines"
    assert manifest.records["case_2"].position.line == 6
    assert manifest.count("contact") == 2


def test_the_table_is_read_only_and_answers_by_kind(tmp_path: Path) -> None:
    text = (
        HEAD + LEADS + "contacts:\n  solo: {first_name: S, last_name: O, external_source_id: s}\n"
    )
    manifest = load(tmp_path, text, leads_csv=CSV)
    records = manifest.records
    assert isinstance(records, RecordTable)
    assert not isinstance(records, MutableMapping)
    assert list(records) == ["solo", "lead_1", "case_1", "lead_2", "case_2"]
    assert len(records) == 5 and "case_2" in records and "leads" not in records
    assert [r.symbol for r in manifest.of_kind("contact")] == ["solo", "lead_1", "lead_2"]
    assert (manifest.count("contact"), manifest.count("case"), manifest.count("list")) == (3, 2, 0)
    assert manifest.kind_of("case_1") == "case" and manifest.kind_of("nope") is None
    assert records["case_1"] == records["case_1"]  # built again, equal every time
    assert list(manifest.references("case_1")) == ["lead_1"]
    with pytest.raises(KeyError):
        records["leads"]


def test_a_row_record_is_the_record_written_inline(tmp_path: Path) -> None:
    rows = load(tmp_path, HEAD + LEADS, leads_csv=CSV)
    inline = load(
        tmp_path,
        HEAD
        + textwrap.dedent("""\
            contacts:
              lead_1:
                first_name: Ana
                last_name: Lopez
                email: ana@example.com
                voice_calls_opted_out: false
                external_source_id: crm-1
            cases:
              case_1:
                case_number: PI-1
                name: Lopez - Rear-end collision
                is_obo: true
                created_date: 2026-06-01
                external_source_id: crm-case-1
                client_ids: [lead_1]
        """),
    )
    for symbol in ("lead_1", "case_1"):
        row, written = rows.records[symbol], inline.records[symbol]
        assert (dict(row.fields), dict(row.refs)) == (dict(written.fields), dict(written.refs))
        # The same fingerprint: moving records from the manifest into a file changes nothing.
        assert fingerprint(row, "salt") == fingerprint(written, "salt")


def test_rows_are_packed_compactly_and_read_back_exactly() -> None:
    source = RowSource("s", "s.csv", frozenset(), {}, {}, 0)
    for cells in (["a", "", "b c"], ["x\x1fy", "z"], [7, None, {"k": [1]}], ["\x1estart"]):
        source.rows.append(pack(cells))
        assert source.cells(len(source.rows) - 1) == cells
    assert source.rows[0] == "a\x1f\x1fb c"


def many_leads(tmp_path: Path, n: int, *, campaign: bool = True) -> Manifest:
    lines = ["id,first,last,email,opted_out,incident,obo,received"]
    lines += [f"{i},F{i},L{i},,no,crash,no,2026-06-01" for i in range(n)]
    (tmp_path / "leads.csv").write_text("\n".join(lines) + "\n")
    tail = textwrap.dedent("""\
        lists:
          q3: {name: Q3, include_ids: [leads]}
        campaigns:
          calls:
            name: Calls
            agent_id: a1
            case_list_id: q3
            runs: [{start_date: 2026-07-01, end_date: 2026-07-02, messaging_only: true}]
    """)
    return load(tmp_path, HEAD + LEADS + (tail if campaign else ""))


@pytest.mark.parametrize(("n", "batch"), [(250, 100), (1000, 100), (1001, 250), (7, 3)])
def test_plan_takes_the_fewest_requests(tmp_path: Path, n: int, batch: int) -> None:
    manifest = many_leads(tmp_path, n)
    state = StateStore.open(tmp_path / "s.json", "sandbox", lock=False)
    plan = make_plan(manifest, state, batch_size=batch)
    per_kind = math.ceil(n / batch)
    assert plan.requests == 2 * per_kind + per_kind + 2
    assert [(s.endpoint, s.requests) for s in plan.steps] == [
        ("clients.bulk", per_kind),
        ("cases.bulk", per_kind),
        ("case_lists.create", 1),
        ("case_lists.attach", per_kind),
        ("campaigns.create", 1),
    ]


def test_creation_order_of_rows_is_the_graph_order(tmp_path: Path) -> None:
    manifest = many_leads(tmp_path, 300)
    order = creation_order(manifest)
    assert order == _sorted_by_graph(manifest)
    assert order[:3] == ["lead_0", "lead_1", "lead_10"] and order[-2:] == ["q3", "calls"]


def test_the_leads_import_recipe_uses_only_fake_contact_data() -> None:
    root = Path(__file__).resolve().parent.parent / "manifests"
    loaded = read_manifest(root / "leads_import.yaml", env={})
    manifest = loaded.manifest
    contacts = list(manifest.of_kind("contact"))
    assert (len(contacts), manifest.count("case")) == (12, 12)
    assert manifest.records["june_intake"].refs["include_ids"] == tuple(
        f"case_in_{i:04d}" for i in range(1, 13)
    )
    for contact in contacts:
        # 555-0100 to 555-0199 are reserved for fiction in every US area code
        assert re.fullmatch(r"\+1[2-9][0-9]{2}55501[0-9]{2}", contact.fields["mobile"])
        assert contact.fields.get("email", "@example.com").endswith("@example.com")
    assert manifest.notes.normalised == 10 + 2  # ten phones not written in E.164, two emails
    assert loaded.warnings == ()
    assert manifest.records["case_in_0003"].fields["is_obo"] is True
    assert manifest.records["case_in_0005"].fields["name"] == (
        "Shah - Bicycle accident, hit by a van"
    )
