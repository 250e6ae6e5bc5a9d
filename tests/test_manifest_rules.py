"""Manifest domain rules as a table of (manifest, exact stderr of `kayse-pipeline validate`).

Required fields after defaults, references, campaign schedules, the account and the
lists that campaigns use, and many errors at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_manifest_load_errors import CASES as STRUCTURE_CASES
from test_manifest_load_errors import check_in_a_real_process, check_invalid, m

CASES: list[tuple[str, str | bytes, list[str]]] = [
    # --- required fields, after defaults -------------------------------------------------
    (
        "required-fields-missing",
        m("""
            version: 1
            cases:
              garcia_auto:
                case_number: PI-2026-042
                external_source: other
                external_source_id: x
        """),
        [
            "m.yaml:3:3: cases.garcia_auto.status: required field missing",
            "m.yaml:3:3: cases.garcia_auto.type: required field missing",
        ],
    ),
    (
        "required-field-missing-in-record-and-defaults",
        m("""
            version: 1
            defaults:
              contacts: {last_name: Unknown}
            contacts:
              maria: {first_name: Maria, external_source_id: c1}
        """),
        ["m.yaml:5:3: contacts.maria.external_source: required field missing"],
    ),
    (
        "required-field-empty",
        m("""
            version: 1
            lists:
              q2: {name: ""}
        """),
        ["m.yaml:3:14: lists.q2.name: required field is empty"],
    ),
    (
        "campaign-required-fields",
        m("""
            version: 1
            campaigns:
              calls: {agent_id: a1}
        """),
        [
            "m.yaml:3:3: campaigns.calls.case_list_id: required field missing",
            "m.yaml:3:3: campaigns.calls.name: required field missing",
            "m.yaml:3:3: campaigns.calls.runs: required field missing",
        ],
    ),
    (
        "bad-default-reported-once",
        m("""
            version: 1
            defaults:
              cases: {external_source: other, status: active, type: civil,
                      created_date: 2026-13-01}
            cases:
              a: {case_number: A-1, external_source_id: a}
              b: {case_number: B-1, external_source_id: b}
        """),
        ["m.yaml:4:25: defaults.cases.created_date: '2026-13-01' is not a calendar date"],
    ),
    # --- references ----------------------------------------------------------------------
    (
        "unknown-symbol-did-you-mean",
        m("""
            version: 1
            contacts:
              maria: {first_name: Maria, last_name: G, external_source: o, external_source_id: c}
            cases:
              garcia_auto:
                case_number: PI-2026-042
                status: active
                type: civil
                external_source: other
                external_source_id: x
                client_ids: [mraia]
        """),
        [
            "m.yaml:11:18: cases.garcia_auto.client_ids[0]: unknown symbol 'mraia'"
            " (did you mean 'maria'?)"
        ],
    ),
    (
        "unknown-symbol",
        m("""
            version: 1
            campaigns:
              calls:
                name: Calls
                case_list_id: q3
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
        """),
        ["m.yaml:5:19: campaigns.calls.case_list_id: unknown symbol 'q3'"],
    ),
    (
        "symbol-of-wrong-kind",
        m("""
            version: 1
            lists:
              q2_pi: {name: Q2}
            cases:
              garcia_auto:
                case_number: PI-2026-042
                status: active
                type: civil
                external_source: other
                external_source_id: x
                client_ids: [q2_pi]
        """),
        [
            "m.yaml:11:18: cases.garcia_auto.client_ids[0]: 'q2_pi' is a list,"
            " but client_ids wants a contact"
        ],
    ),
    (
        "campaign-on-a-case",
        m("""
            version: 1
            cases:
              c1: {case_number: A, status: s, type: t, external_source: o, external_source_id: x}
            campaigns:
              calls:
                name: Calls
                case_list_id: c1
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
        """),
        [
            "m.yaml:7:19: campaigns.calls.case_list_id: 'c1' is a case,"
            " but case_list_id wants a list"
        ],
    ),
    (
        "duplicate-symbol-across-sections",
        m("""
            version: 1
            lists:
              maria: {name: Maria's list}
            contacts:
              maria: {first_name: Maria, last_name: G, external_source: o, external_source_id: c}
        """),
        ["m.yaml:5:3: contacts.maria: symbol already used by lists.maria (line 3)"],
    ),
    (
        "reference-listed-twice",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [200, 200]}
        """),
        ["m.yaml:3:37: lists.q2.include_ids[1]: 200 is listed twice"],
    ),
    (
        "cycle-through-wrong-kind",
        m("""
            version: 1
            cases:
              c1:
                case_number: A
                status: s
                type: t
                external_source: o
                external_source_id: x
                client_ids: [l1]
            lists:
              l1: {name: L, filter: {}, exclude_ids: [c1]}
        """),
        [
            "m.yaml:3:3: cases.c1: references form a cycle: c1 -> l1 -> c1",
            "m.yaml:9:18: cases.c1.client_ids[0]: 'l1' is a list, but client_ids wants a contact",
        ],
    ),
    # --- campaign rules ------------------------------------------------------------------
    (
        "agent-required",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                case_list_id: q2
                runs:
                  - {start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}
                  - {start_date: 2026-05-01, end_date: 2026-05-30, start_time: "09:00",
                     end_time: "17:00"}
        """),
        ["m.yaml:5:3: campaigns.calls.agent_id: required unless every run is messaging_only"],
    ),
    (
        "times-on-messaging-only-run",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              texts:
                name: Texts
                case_list_id: q2
                runs:
                  - start_date: 2026-04-01
                    end_date: 2026-04-30
                    messaging_only: true
                    start_time: "09:00"
        """),
        ["m.yaml:12:9: campaigns.texts.runs[0].start_time: not allowed on a messaging_only run"],
    ),
    (
        "run-without-times",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, start_time: "09:00"}]
        """),
        [
            "m.yaml:9:12: campaigns.calls.runs[0].end_time: required unless the run is"
            " messaging_only or the campaign uses company hours"
        ],
    ),
    (
        "half-a-run-window-with-company-hours",
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
                business_hours: [{start_time: "09:00", end_time: "17:00"}]
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, end_time: "17:00"}]
        """),
        ["m.yaml:11:12: campaigns.calls.runs[0].start_time: required beside end_time"],
    ),
    (
        "company-hours-without-business-hours",
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
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30}]
        """),
        ["m.yaml:5:3: campaigns.calls.business_hours: required when use_company_hours is true"],
    ),
    (
        "time-outside-tcpa-window",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, start_time: "07:30",
                        end_time: "21:30"}]
        """),
        [
            "m.yaml:9:71: campaigns.calls.runs[0].start_time: must be within 08:00-21:00,"
            " not '07:30'",
            "m.yaml:10:23: campaigns.calls.runs[0].end_time: must be within 08:00-21:00,"
            " not '21:30'",
        ],
    ),
    (
        "end-time-before-start-time",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              calls:
                name: Calls
                agent_id: a1
                case_list_id: q2
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, start_time: "17:00",
                        end_time: 09:00}]
        """),
        ["m.yaml:10:23: campaigns.calls.runs[0].end_time: must be after start_time (17:00)"],
    ),
    (
        "end-date-before-start-date",
        m("""
            version: 1
            lists:
              q2: {name: Q2, include_ids: [7]}
            campaigns:
              texts:
                name: Texts
                case_list_id: q2
                runs: [{start_date: 2026-04-30, end_date: 2026-04-01, messaging_only: true}]
        """),
        [
            "m.yaml:8:47: campaigns.texts.runs[0].end_date: must not be before start_date"
            " (2026-04-30)"
        ],
    ),
    (
        "overlapping-business-hours",
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
                business_hours:
                  - {start_time: "09:00", end_time: "12:00"}
                  - {start_time: "12:00", end_time: "14:00"}
                  - {start_time: "11:30", end_time: "13:00"}
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30}]
        """),
        [
            "m.yaml:13:9: campaigns.calls.business_hours[2]:"
            " overlaps business_hours[0] (09:00-12:00)"
        ],
    ),
    # --- the account and the lists that campaigns use ------------------------------------
    (
        "status-not-in-account",
        m("""
            version: 1
            account: {case_types: [personal_injury], case_statuses: [active, closed]}
            cases:
              c1:
                case_number: A
                status: activ
                type: personal_injury
                external_source: other
                external_source_id: x
        """),
        [
            "m.yaml:6:13: cases.c1.status: 'activ' is not a case status of the account"
            " (did you mean 'active'?)"
        ],
    ),
    (
        "type-not-in-account",
        m("""
            version: 1
            account: {case_types: [personal_injury, family]}
            defaults:
              cases: {type: civil}
            cases:
              c1: {case_number: A, status: s, external_source: o, external_source_id: x}
        """),
        [
            "m.yaml:4:17: defaults.cases.type: 'civil' is not a case type of the account"
            " (account.case_types: personal_injury, family)"
        ],
    ),
    (
        "mixed-case-types-on-a-campaign-list",
        m("""
            version: 1
            defaults:
              contacts: {last_name: L, external_source: o}
              cases: {status: active, external_source: o}
            contacts:
              ann: {first_name: Ann, external_source_id: a}
            cases:
              pi: {case_number: "1", type: personal_injury, external_source_id: x}
              fam: {case_number: "2", type: family, external_source_id: y, client_ids: [ann]}
            lists:
              mixed: {name: Mixed, include_ids: [pi], client_ids: [ann]}
            campaigns:
              texts:
                name: Texts
                case_list_id: mixed
                runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]
        """),
        [
            "m.yaml:15:19: campaigns.texts.case_list_id: every case on list 'mixed' must have"
            " the same type, but it has 'family' (fam) and 'personal_injury' (pi)"
        ],
    ),
    (
        "exclude-without-filter",
        m("""
            version: 1
            lists:
              q2: {name: Q2, exclude_ids: [17]}
        """),
        [
            "m.yaml:3:18: lists.q2.exclude_ids: needs a 'filter' beside it:"
            " the API only excludes cases from a filtered list"
        ],
    ),
    # --- everything at once, sorted by position ------------------------------------------
    (
        "all-errors-sorted",
        m("""
            version: 1
            contacts:
              maria: {first_name: Maria, last_name: G, external_source: o,
                      external_source_id: c1, date_of_birth: 1990-02-29}
            lists:
              q2: {name: Q2, include_ids: [garcia]}
            campaigns:
              calls: {name: Calls, case_list_id: q2, runs: [{start_date: 2026-04-01,
                      end_date: 2026-04-30, start_time: "09:00", end_time: "17:00"}]}
        """),
        [
            "m.yaml:4:50: contacts.maria.date_of_birth: is not a calendar date "
            "(personal data, not shown)",
            "m.yaml:6:32: lists.q2.include_ids[0]: unknown symbol 'garcia'",
            "m.yaml:8:3: campaigns.calls.agent_id: required unless every run is messaging_only",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | bytes, expected: list[str]
) -> None:
    check_invalid(tmp_path, monkeypatch, text, expected)


def test_tables_cover_at_least_45_invalid_manifests() -> None:
    names = [c[0] for c in STRUCTURE_CASES + CASES]
    assert len(names) >= 45
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", ["symbol-of-wrong-kind", "all-errors-sorted"])
def test_invalid_manifest_in_a_real_process(tmp_path: Path, name: str) -> None:
    text, expected = next((c[1], c[2]) for c in CASES if c[0] == name)
    check_in_a_real_process(tmp_path, text, expected)
