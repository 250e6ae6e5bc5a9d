"""Manifest structure errors as a table of (manifest, exact stderr of `kayse-pipeline validate`).

YAML itself, the version gate, the schema (sections, symbols, fields, types, formats) and
environment variables; test_manifest_rules.py holds the table of domain rules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kayse_pipeline.cli.main import cli


def m(text: str) -> str:
    """A manifest written indented inside the table."""
    return textwrap.dedent(text).lstrip("\n")


CASES: list[tuple[str, str | bytes, list[str]]] = [
    # --- YAML itself -------------------------------------------------------------------
    (
        "syntax-error",
        m("""
            version: 1
            contacts: [maria
        """),
        [
            "m.yaml:3:1: invalid YAML: while parsing a flow sequence at line 2,"
            " expected ',' or ']', but got '<stream end>'"
        ],
    ),
    (
        "mapping-value-not-allowed",
        m("""
            version: 1
            contacts: maria: x
        """),
        ["m.yaml:2:16: invalid YAML: mapping values are not allowed here"],
    ),
    (
        "duplicate-field",
        m("""
            version: 1
            contacts:
              maria:
                first_name: Maria
                first_name: Mary
        """),
        ["m.yaml:5:5: duplicate key 'first_name' (first at line 4)"],
    ),
    (
        "duplicate-symbol-in-section",
        m("""
            version: 1
            contacts:
              maria: {first_name: A}
              maria: {first_name: B}
        """),
        ["m.yaml:4:3: duplicate key 'maria' (first at line 3)"],
    ),
    (
        "alias-refused",
        m("""
            version: 1
            defaults:
              contacts: &shared {external_source: other}
              cases: *shared
        """),
        [
            "m.yaml:4:10: YAML aliases are not supported (*shared):"
            " write the value out, or share it through 'defaults'"
        ],
    ),
    (
        "python-tag-refused",
        m("""
            version: 1
            contacts: !!python/object/apply:os.system ["echo owned"]
        """),
        ["m.yaml:2:11: unsupported YAML tag '!!python/object/apply:os.system'"],
    ),
    (
        "custom-scalar-tag-refused",
        m("""
            version: 1
            lists:
              q2: {name: !secret vault}
        """),
        ["m.yaml:3:14: unsupported YAML tag '!secret'"],
    ),
    (
        "not-utf8",
        b"version: 1\nlists:\n  q2: {name: Caf\xe9}\n",
        ["m.yaml:3:17: the manifest is not UTF-8 text"],
    ),
    ("empty-file", "", ["m.yaml:1:1: a manifest is a YAML mapping that starts with 'version: 1'"]),
    (
        "top-level-list",
        "- version: 1\n",
        ["m.yaml:1:1: a manifest is a YAML mapping that starts with 'version: 1'"],
    ),
    # --- the version gate: one message, nothing else -------------------------------------
    (
        "version-2-alone",
        m("""
            version: 2
            contactz: {}
            lists:
              Bad: {nam: x}
        """),
        ["m.yaml:1:10: unsupported manifest version 2: this kayse-pipeline reads version 1"],
    ),
    (
        "version-2-before-yaml-problems",
        m("""
            version: 2
            lists:
              q2: {name: a, name: b}
        """),
        ["m.yaml:1:10: unsupported manifest version 2: this kayse-pipeline reads version 1"],
    ),
    (
        "version-missing",
        m("""
            contacts: {}
        """),
        ["m.yaml:1:1: missing 'version: 1': this kayse-pipeline reads version 1"],
    ),
    (
        "version-string",
        m("""
            version: "1"
        """),
        ["m.yaml:1:10: unsupported manifest version '1': this kayse-pipeline reads version 1"],
    ),
    # --- shape: sections, symbols, fields, types, formats --------------------------------
    (
        "unknown-section",
        m("""
            version: 1
            contact: {}
        """),
        ["m.yaml:2:1: unknown key 'contact' (did you mean 'contacts'?)"],
    ),
    (
        "unknown-record-field",
        m("""
            version: 1
            contacts:
              maria:
                frist_name: Maria
                last_name: Garcia
                external_source: other
                external_source_id: c1
        """),
        [
            "m.yaml:3:3: contacts.maria.first_name: required field missing",
            "m.yaml:4:5: contacts.maria: unknown field 'frist_name' (did you mean 'first_name'?)",
        ],
    ),
    (
        "superseded-singular-field",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            cases:
              c:
                case_number: A-1
                status: active
                type: civil
                external_source: other
                external_source_id: x
                client_id: 5
        """),
        ["m.yaml:11:5: cases.c: unknown field 'client_id' (did you mean 'client_ids'?)"],
    ),
    (
        "unknown-account-key",
        m("""
            version: 1
            account: {case_type: [civil]}
        """),
        ["m.yaml:2:11: account: unknown key 'case_type' (did you mean 'case_types'?)"],
    ),
    (
        "unknown-defaults-key",
        m("""
            version: 1
            defaults:
              contact: {external_source: other}
        """),
        ["m.yaml:3:3: defaults: unknown key 'contact' (did you mean 'contacts'?)"],
    ),
    (
        "unknown-run-field",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                runs:
                  - {start_date: 2026-04-01, end_date: 2026-04-30, start_tme: "09:00",
                     start_time: "09:00", end_time: "17:00"}
        """),
        [
            "m.yaml:10:56: campaigns.calls.runs[0]: unknown field 'start_tme'"
            " (did you mean 'start_time'?)"
        ],
    ),
    (
        "invalid-symbol",
        m("""
            version: 1
            lists:
              Q2-list: {name: Q2}
        """),
        [
            "m.yaml:3:3: lists: 'Q2-list' is not a valid symbol"
            " (a lowercase letter, then lowercase letters, digits or _, up to 64 characters)"
        ],
    ),
    (
        "symbol-too-long",
        "version: 1\nlists:\n  " + "x" * 65 + ": {name: Q2}\n",
        [
            f"m.yaml:3:3: lists: '{'x' * 65}' is not a valid symbol"
            " (a lowercase letter, then lowercase letters, digits or _, up to 64 characters)"
        ],
    ),
    (
        "integer-where-string",
        m("""
            version: 1
            contacts:
              maria:
                first_name: Maria
                last_name: Garcia
                external_source: other
                external_source_id: 901
        """),
        ["m.yaml:7:25: contacts.maria.external_source_id: must be a string, not 901"],
    ),
    (
        "section-not-a-mapping",
        m("""
            version: 1
            contacts: []
        """),
        ["m.yaml:2:11: contacts: must be a mapping, not a list"],
    ),
    (
        "record-not-a-mapping",
        m("""
            version: 1
            lists:
              q2: Q2 outreach
        """),
        ["m.yaml:3:7: lists.q2: must be a mapping, not 'Q2 outreach'"],
    ),
    (
        "yes-is-not-a-boolean",
        m("""
            version: 1
            lists:
              q2: {name: Q2, is_obo: yes}
        """),
        ["m.yaml:3:26: lists.q2.is_obo: must be true or false, not 'yes'"],
    ),
    (
        "date-format",
        m("""
            version: 1
            contacts:
              maria:
                first_name: Maria
                last_name: Garcia
                external_source: other
                external_source_id: c1
                date_of_birth: 1980-1-5
        """),
        [
            "m.yaml:8:20: contacts.maria.date_of_birth: must be a date YYYY-MM-DD, "
            "not other text (personal data, not shown)"
        ],
    ),
    (
        "date-not-in-calendar",
        m("""
            version: 1
            contacts:
              maria:
                first_name: Maria
                last_name: Garcia
                external_source: other
                external_source_id: c1
                date_of_birth: 1980-02-30
        """),
        [
            "m.yaml:8:20: contacts.maria.date_of_birth: is not a calendar date "
            "(personal data, not shown)"
        ],
    ),
    (
        "time-format",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                runs:
                  - {start_date: 2026-04-01, end_date: 2026-04-30, start_time: 9:00,
                     end_time: 17:00}
        """),
        ["m.yaml:10:68: campaigns.calls.runs[0].start_time: must be a time HH:mm, not '9:00'"],
    ),
    (
        "runs-empty",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls: {name: Calls, agent_id: a1, case_list_id: q2, runs: []}
        """),
        ["m.yaml:5:62: campaigns.calls.runs: needs at least one run"],
    ),
    (
        "run-without-end-date",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                runs:
                  - start_date: 2026-04-01
                    start_time: "09:00"
                    end_time: "17:00"
        """),
        ["m.yaml:10:9: campaigns.calls.runs[0].end_date: required field missing"],
    ),
    (
        "business-hours-slot-without-end",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                use_company_hours: true
                business_hours: [{start_time: "09:00"}]
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30}]
        """),
        ["m.yaml:10:22: campaigns.calls.business_hours[0].end_time: required field missing"],
    ),
    (
        "negative-concurrency",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                concurrency_limit: -1
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
        """),
        ["m.yaml:9:24: campaigns.calls.concurrency_limit: must be 0 or more, not -1"],
    ),
    (
        "contact-case-ids-take-integers-only",
        m("""
            version: 1
            contacts:
              maria:
                first_name: Maria
                last_name: Garcia
                external_source: other
                external_source_id: c1
                case_ids: [garcia_auto]
        """),
        [
            "m.yaml:8:16: contacts.maria.case_ids[0]: case_ids takes IDs of existing cases"
            " only; link a contact to a new case with that case's client_ids"
        ],
    ),
    (
        "reference-of-wrong-type",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [1.5, true]}
        """),
        [
            "m.yaml:3:32: lists.q2.include_ids[0]: must be a symbol or the integer ID"
            " of an existing record, not 1.5",
            "m.yaml:3:37: lists.q2.include_ids[1]: must be a symbol or the integer ID"
            " of an existing record, not true",
        ],
    ),
    (
        "id-zero",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [0]}
        """),
        ["m.yaml:3:32: lists.q2.include_ids[0]: must be 1 or more, not 0"],
    ),
    (
        "id-written-through-env-is-a-string",
        m("""
            version: 1
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: ${Q2_LIST_ID}
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
        """),
        [
            "m.yaml:6:19: campaigns.calls.case_list_id: '42' is a string, so it would be a symbol;"
            " write an existing record's ID as a plain integer: 42"
        ],
    ),
    (
        "number-written-through-env-is-a-string",
        m("""
            version: 1
            campaigns:
              calls:
                name: Calls
                case_list_id: 42
                concurrency_limit: "${Q2_LIST_ID}"
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
        """),
        [
            "m.yaml:6:24: campaigns.calls.concurrency_limit: must be an integer, not '42'"
            " (write the number without quotes; ${...} always gives a string)"
        ],
    ),
    # --- environment variables ---------------------------------------------------------
    (
        "unset-variable",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: ${KAYSE_AGENT_ID}
                case_list_id: q2
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, start_time: "09:00",
                        end_time: "17:00"}]
        """),
        [
            "m.yaml:7:15: campaigns.calls.agent_id: environment variable KAYSE_AGENT_ID is not set"
            " (export it, or give --var KAYSE_AGENT_ID=VALUE)"
        ],
    ),
    (
        "malformed-variable",
        m("""
            version: 1
            lists:
              q2: {name: "Q2 ${list name}"}
        """),
        [
            "m.yaml:3:14: lists.q2.name: invalid '${': write ${NAME} or ${NAME:-default},"
            " or $${ for a literal ${"
        ],
    ),
]

ENV = {"Q2_LIST_ID": "42"}


def _write(tmp_path: Path, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "m.yaml").write_bytes(data)


def check_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | bytes, expected: list[str]
) -> None:
    """Run `kayse-pipeline validate m.yaml` in-process and compare stderr line by line."""
    _write(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KAYSE_AGENT_ID", raising=False)
    result = CliRunner().invoke(cli, ["validate", "m.yaml"], env=ENV)
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""
    assert result.exit_code == 1
    check_json(["m.yaml"], expected, env=ENV)


def check_json(args: list[str], expected: list[str], env: dict[str, str] | None = None) -> None:
    """`validate --output json` lists the text output's problems: same places, same messages."""
    result = CliRunner().invoke(cli, ["validate", "--output", "json", *args], env=env)
    assert result.exit_code == 1
    assert result.stderr == ""
    document = json.loads(result.stdout)
    errors = document["errors"]
    assert [f"{e['file']}:{e['line']}:{e['column']}: {e['message']}" for e in errors] == expected
    for error in errors:
        assert sorted(error) == ["column", "file", "line", "message", "path"]
        if error["path"] is not None:  # the path is the message's own prefix, given apart
            assert error["message"].startswith(f"{error['path']}: ")
    assert document["valid"] is False
    assert document["warnings"] == []


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | bytes, expected: list[str]
) -> None:
    check_invalid(tmp_path, monkeypatch, text, expected)


def check_in_a_real_process(tmp_path: Path, text: str | bytes, expected: list[str]) -> None:
    """Run `python -m kayse_pipeline validate m.yaml` and compare stderr line by line."""
    _write(tmp_path, text)
    env = {k: v for k, v in os.environ.items() if k != "KAYSE_AGENT_ID"} | ENV
    done = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "validate", "m.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stderr.splitlines() == expected
    assert done.stdout == ""
    assert done.returncode == 1


@pytest.mark.parametrize("name", ["syntax-error", "version-2-alone", "unknown-record-field"])
def test_invalid_manifest_in_a_real_process(tmp_path: Path, name: str) -> None:
    text, expected = next((c[1], c[2]) for c in CASES if c[0] == name)
    check_in_a_real_process(tmp_path, text, expected)
