"""Data-row errors as a table of (manifest, data files, exact stderr of `kayse-pipeline validate`).

A problem that comes from a row is placed at FILE:ROW:COLUMN of its data file (ROW is the
line, the header being line 1; COLUMN the CSV column, 1 in JSON Lines); one that comes
from the template is placed once, at the template's node in the manifest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_manifest_load_errors import check_json

from kayse_pipeline.cli.main import cli
from kayse_pipeline.manifest.rows import section as rows
from kayse_pipeline.manifest.rows.problems import HIDDEN

HEAD = """\
version: 1
account: {case_types: [personal_injury, family], case_statuses: [new_lead]}
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
      external_source_id: "crm-{id}"
    case:
      symbol: "case_{id}"
      case_number: "PI-{id}"
      created_date: "{received}"
      is_obo: "{obo}"
      external_source_id: "crm-case-{id}"
"""
COLUMNS = "id,first,last,received,obo\n"
GOOD = COLUMNS + "1,Ana,Lopez,2026-06-01,no\n"
CAMPAIGN = """\
campaigns:
  c:
    name: C
    case_list_id: q
    runs: [{start_date: 2026-01-01, end_date: 2026-01-02, messaging_only: true}]
"""
SYMBOL_RULE = "a lowercase letter, then lowercase letters, digits or _, up to 64 characters"

Files = dict[str, str | bytes]
CASES: list[tuple[str, str, Files, list[str]]] = [
    # --- a value in a cell, checked like any record's value -------------------------------
    (
        "impossible-date",
        HEAD,
        {"leads.csv": GOOD + "2,Ben,Carter,2026-02-30,no\n"},
        [f"leads.csv:3:4: cases.case_2.created_date: {HIDDEN} is not a calendar date"],
    ),
    (
        "date-format",
        HEAD,
        {"leads.csv": COLUMNS + "1,Ana,Lopez,06/01/2026,no\n"},
        [f"leads.csv:2:4: cases.case_1.created_date: must be a date YYYY-MM-DD, not {HIDDEN}"],
    ),
    (
        "required-cell-empty",
        HEAD,
        {"leads.csv": COLUMNS + "1,Ana, ,2026-06-01,no\n"},
        ["leads.csv:2:3: contacts.lead_1.last_name: required field is empty"],
    ),
    (
        "not-a-boolean",
        HEAD,
        {"leads.csv": COLUMNS + "1,Ana,Lopez,2026-06-01,maybe\n"},
        ["leads.csv:2:5: cases.case_1.is_obo: must be true or false, not 'maybe'"],
    ),
    (
        "case-type-from-a-cell",
        HEAD.replace("type: personal_injury}", "}").replace('is_obo: "{obo}"', 'type: "{obo}"'),
        {"leads.csv": COLUMNS + "1,Ana,Lopez,,family\n2,Ben,Carter,,maritime\n"},
        [
            "leads.csv:3:5: cases.case_2.type: 'maritime' is not a case type of the account"
            " (account.case_types: personal_injury, family)"
        ],
    ),
    (
        "one-case-type-per-campaign-list",
        HEAD.replace("type: personal_injury}", "}").replace('is_obo: "{obo}"', 'type: "{obo}"')
        + "lists:\n  q: {name: Q, include_ids: [leads]}\n"
        + CAMPAIGN,
        {"leads.csv": COLUMNS + "1,Ana,Lopez,,family\n2,Ben,Carter,,personal_injury\n"},
        [
            "m.yaml:25:19: campaigns.c.case_list_id: every case on list 'q' must have the same"
            " type, but it has 'family' (case_1) and 'personal_injury' (case_2)"
        ],
    ),
    (
        "later-rows-checked-like-the-first",
        HEAD.replace("status: new_lead, type: personal_injury}", "}").replace(
            'is_obo: "{obo}"', 'is_obo: "{obo}"\n      status: "{st}"\n      type: "{kind}"'
        ),
        {
            "leads.csv": "id,first,last,received,obo,st,kind\n"
            "1,Ana,Lopez,2026-06-01,no,new_lead,family\n"
            "2,Ben,,2026-06-01,no,new_lead,family\n"
            "3,Cy,Dee,06/01/2026,no,new_lead,family\n"
            "4,Di,Eve,2026-02-30,yes,new_lead,family\n"
            "5,Ed,Fox,,maybe,new_lead,family\n"
            "6,Fa,Gil,,no,closed,family\n"
            "7,Gu,Ho,,no,new_lead,maritime\n"
            "8,Hy,Ivy,,no,new_lead,family\n"
        },
        [
            "leads.csv:3:3: contacts.lead_2.last_name: required field is empty",
            f"leads.csv:4:4: cases.case_3.created_date: must be a date YYYY-MM-DD, not {HIDDEN}",
            f"leads.csv:5:4: cases.case_4.created_date: {HIDDEN} is not a calendar date",
            "leads.csv:6:5: cases.case_5.is_obo: must be true or false, not 'maybe'",
            "leads.csv:7:6: cases.case_6.status: 'closed' is not a case status of the account"
            " (account.case_statuses: new_lead)",
            "leads.csv:8:7: cases.case_7.type: 'maritime' is not a case type of the account"
            " (account.case_types: personal_injury, family)",
        ],
    ),
    # --- symbols and references made from rows ---------------------------------------------
    (
        "duplicate-symbol-in-the-file",
        HEAD,
        {"leads.csv": GOOD + "2,Ben,Carter,,no\n1,Cy,Dee,,no\n"},
        [
            "leads.csv:4:1: cases.case_1: symbol already used by leads.csv:2",
            "leads.csv:4:1: contacts.lead_1: symbol already used by leads.csv:2",
        ],
    ),
    (
        "row-symbol-already-inline",
        HEAD + "contacts:\n  lead_1: {first_name: A, last_name: B, external_source_id: x}\n",
        {"leads.csv": GOOD},
        ["leads.csv:2:1: contacts.lead_1: symbol already used by contacts.lead_1 (m.yaml:21)"],
    ),
    (
        "symbol-from-a-cell-is-not-a-symbol",
        HEAD.replace('"lead_{id}"', '"{id}"'),
        {"leads.csv": GOOD},
        [f"leads.csv:2:1: rows.leads.contact.symbol: '1' is not a valid symbol ({SYMBOL_RULE})"],
    ),
    (
        "reference-from-a-cell",
        HEAD.replace('is_obo: "{obo}"', 'client_ids: ["{owner}"]'),
        {"leads.csv": "id,first,last,received,owner\n1,A,B,,lead_1\n2,C,D,,lead_9\n3,E,F,,case_1"},
        [
            "leads.csv:3:5: cases.case_2.client_ids[0]: unknown symbol 'lead_9'",
            "leads.csv:4:5: cases.case_3.client_ids[0]: 'case_1' is a case,"
            " but client_ids wants a contact",
        ],
    ),
    (
        "row-source-of-the-wrong-kind",
        "version: 1\nrows:\n  people:\n    file: leads.csv\n    contact: {symbol: 'p_{id}',"
        " first_name: '{first}', last_name: '{last}', external_source: x,"
        " external_source_id: '{id}'}\nlists:\n  q: {name: Q, include_ids: [people]}\n"
        + CAMPAIGN.replace("case_list_id: q", "case_list_id: people"),
        {"leads.csv": GOOD},
        [
            "m.yaml:7:30: lists.q.include_ids[0]: row source 'people' has no case template,"
            " but include_ids wants cases",
            "m.yaml:11:19: campaigns.c.case_list_id: 'people' is a row source,"
            " but case_list_id wants one list",
        ],
    ),
    (
        "row-source-name-already-used",
        HEAD + "cases:\n  leads: {case_number: X, external_source_id: x}\n",
        {"leads.csv": GOOD},
        ["m.yaml:7:3: rows.leads: symbol already used by cases.leads (m.yaml:21)"],
    ),
    # --- the file itself -------------------------------------------------------------------
    (
        "missing-column",
        HEAD.replace('"{last}"', '"{lsat}"'),
        {"leads.csv": GOOD},
        [
            "m.yaml:12:18: rows.leads.contact.last_name: no column 'lsat' in leads.csv"
            " (did you mean 'last'?)"
        ],
    ),
    (
        "wrong-number-of-values",
        HEAD,
        {"leads.csv": COLUMNS + "1,Ana,Lopez,2026-06-01\n2,Ben,Carter,,no,extra\n3,C,D,,no,\n"},
        [
            "leads.csv:2:5: has 4 values, but the header names 5 columns",
            "leads.csv:3:6: has 6 values, but the header names 5 columns",
        ],
    ),
    (
        "not-utf8",
        HEAD,
        {"leads.csv": GOOD.encode() + b"2,B\xe9n,Carter,,no\n"},
        ["leads.csv:3:1: not UTF-8 text"],
    ),
    (
        "unclosed-quote",
        HEAD,
        {"leads.csv": GOOD + '2,"Ben,Carter,,no\n'},
        ["leads.csv:3:1: not valid CSV: unexpected end of data"],
    ),
    (
        "empty-file",
        HEAD,
        {"leads.csv": ""},
        ["leads.csv:1:1: no header: the first line must name the columns"],
    ),
    (
        "column-named-twice",
        HEAD,
        {"leads.csv": "id,first,last,received,obo,last\n1,Ana,Lopez,,no,L\n"},
        ["leads.csv:1:6: column 'last' appears twice (also column 3)"],
    ),
    (
        "file-not-found",
        HEAD.replace("leads.csv", "nope.csv"),
        {},
        ["m.yaml:8:11: rows.leads.file: cannot read 'nope.csv': no such file or directory"],
    ),
    (
        "unknown-file-format",
        HEAD.replace("leads.csv", "leads.txt"),
        {"leads.txt": GOOD},
        ["m.yaml:8:11: rows.leads.file: must name a .csv, .jsonl or .ndjson file, not 'leads.txt'"],
    ),
    (
        "jsonl-lines",
        HEAD.replace("leads.csv", "leads.jsonl").replace('      created_date: "{received}"\n', ""),
        {
            "leads.jsonl": '{"id": 1, "first": "A", "last": "B", "obo": true}\n'
            '{"id": 2, first: 1}\n[1, 2]\n'
            '{"id": 3, "first": "C", "last": "D", "obo": "sometimes"}\n'
        },
        [
            "leads.jsonl:2:11: not valid JSON: Expecting property name enclosed in double quotes",
            "leads.jsonl:3:1: must be a JSON object, not a list",
            "leads.jsonl:4:1: cases.case_3.is_obo: must be true or false, not 'sometimes'",
        ],
    ),
    (
        "jsonl-key-in-no-row",
        HEAD.replace("leads.csv", "leads.jsonl").replace('"{received}"', '"{recieved}"'),
        {"leads.jsonl": '{"id": 1, "first": "A", "last": "B", "obo": 0, "received": "2026"}\n'},
        [
            "m.yaml:17:21: rows.leads.case.created_date:"
            " no row of leads.jsonl has the key 'recieved'"
        ],
    ),
    # --- the template, reported once at its node ------------------------------------------
    (
        "template-constants",
        HEAD.replace(
            'is_obo: "{obo}"', 'is_obo: "{obo}"\n      status: active\n      end_date: 2026-13-01'
        ),
        {"leads.csv": GOOD + "2,Ben,Carter,,no\n"},
        [
            "m.yaml:19:15: rows.leads.case.status: 'active' is not a case status of the account"
            " (account.case_statuses: new_lead)",
            "m.yaml:20:17: rows.leads.case.end_date: '2026-13-01' is not a calendar date",
        ],
    ),
    (
        "template-lacks-a-required-field",
        HEAD.replace('      last_name: "{last}"\n', ""),
        {"leads.csv": GOOD},
        ["m.yaml:9:5: rows.leads.contact.last_name: required field missing"],
    ),
    (
        "template-field-unknown",
        HEAD.replace('"{last}"\n', '"{last}"\n      phone: "{id}"\n'),
        {"leads.csv": GOOD},
        ["m.yaml:13:7: rows.leads.contact: unknown field 'phone'"],
    ),
    (
        "symbol-without-placeholder",
        HEAD.replace('"lead_{id}"', "lead"),
        {"leads.csv": GOOD},
        [
            "m.yaml:10:15: rows.leads.contact.symbol: needs a {column} placeholder:"
            " every row needs a symbol of its own"
        ],
    ),
    (
        "symbol-text-that-cannot-be-a-symbol",
        HEAD.replace('"lead_{id}"', '"Lead-{id}"'),
        {"leads.csv": GOOD},
        [
            "m.yaml:10:15: rows.leads.contact.symbol: 'Lead-{id}' cannot make a valid symbol:"
            " its text may hold only a-z, 0-9 and _, and it starts with a lowercase letter"
        ],
    ),
    (
        "symbol-made-from-personal-data",
        HEAD.replace('"case_{id}"', '"case_{last}_{id}"'),
        {"leads.csv": GOOD},
        [
            "m.yaml:15:15: rows.leads.case.symbol: a symbol must not be made from {last},"
            " which holds personal data (last_name): symbols are saved in the state file;"
            " make them from an ID column"
        ],
    ),
    (
        "unbalanced-brace",
        HEAD.replace('"PI-{id}"', '"PI-{id"'),
        {"leads.csv": GOOD},
        [
            "m.yaml:16:20: rows.leads.case.case_number: unbalanced '{' in a template:"
            " write {{ for a literal {"
        ],
    ),
    (
        "source-without-template",
        "version: 1\nrows:\n  leads: {file: leads.csv}\n",
        {"leads.csv": GOOD},
        ["m.yaml:3:3: rows.leads: needs a contact or a case template (or both)"],
    ),
    (
        "source-key-unknown",
        HEAD.replace("    file: leads.csv\n", "    file: leads.csv\n    fiel: x\n"),
        {"leads.csv": GOOD},
        ["m.yaml:9:5: rows.leads: unknown field 'fiel' (did you mean 'file'?)"],
    ),
    (
        "too-many-problems",
        HEAD,
        {"leads.csv": COLUMNS + "".join(f"{i},A,B,2026-99-01,no\n" for i in range(105))},
        [
            f"leads.csv:{i + 2}:4: cases.case_{i}.created_date: {HIDDEN} is not a calendar date"
            for i in range(100)
        ]
        + [
            "leads.csv:102:4: 5 more problem(s) in leads.csv are not listed:"
            " fix the 100 above and validate again"
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_rows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    files: Files,
    expected: list[str],
) -> None:
    (tmp_path / "m.yaml").write_text(text)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""
    assert result.exit_code == 1
    check_json(["m.yaml"], expected)


def test_data_files_are_named_as_the_manifest_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "m.yaml").write_text(HEAD)
    (tmp_path / "recipes" / "leads.csv").write_text(GOOD + "2,Ben,,,no\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "recipes/m.yaml"])
    assert (
        result.stderr
        == "recipes/leads.csv:3:3: contacts.lead_2.last_name: required field is empty\n"
    )


@pytest.mark.parametrize(
    ("text", "files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_quick_check_of_later_rows_misses_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    files: Files,
    expected: list[str],
) -> None:
    # Every row through the full check, as the first row of each template goes.
    monkeypatch.setattr(rows, "quick_check", lambda template, account: lambda values: False)
    test_invalid_rows(tmp_path, monkeypatch, text, files, expected)
