"""The bundled JSON Schema: where it lives, that it is valid, and that the fast path agrees."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_manifest_load_errors import CASES as STRUCTURE_CASES
from test_manifest_rules import CASES as RULE_CASES

from kayse_pipeline.errors import ManifestError
from kayse_pipeline.manifest.load import parse_manifest
from kayse_pipeline.manifest.schema import MANIFEST_ONLY_FIELDS, manifest_schema, section_checks
from kayse_pipeline.manifest.schema_predicates import PredicateCompiler
from kayse_pipeline.manifest.yaml_io import load_yaml

ROOT = Path(__file__).resolve().parent.parent


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = manifest_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_is_found_by_editors_at_the_documented_path() -> None:
    link = ROOT / "schemas" / "manifest.schema.json"
    assert link.is_symlink()
    assert os.readlink(link) == "../kayse_pipeline/manifest/manifest_schema.json"
    assert json.loads(link.read_text(encoding="utf-8")) == manifest_schema()


def test_every_record_field_of_the_api_is_known() -> None:
    defs = manifest_schema()["$defs"]
    assert set(defs["contact"]["properties"]) == {
        "first_name", "last_name", "external_source", "external_source_id", "email", "mobile",
        "date_of_birth", "date_of_death", "city", "state", "postal_code", "address_line1",
        "address_line2", "voice_calls_opted_out", "case_ids", "meta",
    }  # fmt: skip
    assert set(defs["case"]["properties"]) == {
        "case_number", "status", "type", "external_source", "external_source_id",
        "external_source_data", "name", "court_name", "jurisdiction", "description", "is_obo",
        "created_date", "court_date", "end_date", "client_ids", "opt_out_voice_calls",
    }  # fmt: skip
    assert set(defs["list"]["properties"]) - MANIFEST_ONLY_FIELDS == {
        "name", "description", "external_source", "external_source_id", "filter",
        "include_ids", "client_ids", "exclude_ids", "is_obo",
    }  # fmt: skip
    assert {"prune"} == MANIFEST_ONLY_FIELDS  # says what to do with members; never sent
    assert set(defs["campaign"]["properties"]) == {
        "name", "agent_id", "case_list_id", "runs", "is_obo", "calls_scheduled_externally",
        "never_ending", "concurrency_limit", "self_healing_disabled", "form_id",
        "use_company_hours", "business_hours", "report_schedule",
    }  # fmt: skip


def _records(data: Any) -> list[tuple[str, str, Any]]:
    found = []
    if isinstance(data, dict):
        for section in ("contacts", "cases", "lists", "campaigns"):
            records = data.get(section)
            if isinstance(records, dict):
                found += [(section, symbol, record) for symbol, record in records.items()]
    return found


SAMPLES = [c[1] for c in STRUCTURE_CASES + RULE_CASES if isinstance(c[1], str)] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "manifests").glob("*.yaml"))
]


@pytest.mark.parametrize("text", SAMPLES)
def test_fast_checks_agree_with_jsonschema(text: str) -> None:
    try:
        data = load_yaml(text, "x.yaml").data
    except ManifestError:
        return
    schema = manifest_schema()
    checks = section_checks()
    for section, symbol, record in _records(data):
        symbol_ok, record_ok = checks[section]
        sub = {"$defs": schema["$defs"], **schema["properties"][section]["additionalProperties"]}
        assert record_ok(record) == jsonschema.Draft202012Validator(sub).is_valid(record)
        assert symbol_ok(symbol) == bool(
            jsonschema.Draft202012Validator(
                {"$defs": schema["$defs"], "$ref": "#/$defs/symbol"}
            ).is_valid(symbol)
        )


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"type": "integer"}, 3.0, True),
        ({"type": "integer"}, True, False),
        ({"type": ["string", "integer"], "minimum": 1}, 0, False),
        ({"type": ["string", "integer"], "minimum": 1}, "x", True),
        ({"const": 1}, True, False),
        ({"items": {"type": "string"}, "minItems": 1}, [], False),
        (
            {"required": ["a"], "additionalProperties": False, "properties": {"a": {}}},
            {"a": 1},
            True,
        ),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"A": 1}, False),
        ({"pattern": "^[0-9]+$"}, 12, True),
    ],
)
def test_compiler_matches_jsonschema_semantics(
    schema: dict[str, Any], value: Any, valid: bool
) -> None:
    assert PredicateCompiler(schema).compile(schema)(value) is valid
    assert jsonschema.Draft202012Validator(schema).is_valid(value) is valid


def test_compiler_refuses_keywords_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unsupported JSON Schema keyword 'oneOf'"):
        PredicateCompiler({}).compile({"oneOf": [{"type": "string"}]})


def test_jsonschema_explains_only_the_suspect_records() -> None:
    contacts = "\n".join(
        f"  c{i}: {{first_name: F, last_name: L, external_source: o, external_source_id: '{i}'}}"
        for i in range(200)
    )
    text = f"version: 1\ncontacts:\n{contacts}\n  bad: {{first_name: 7}}\n"
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text.encode(), Path("big.yaml"))
    assert [str(d) for d in caught.value.diagnostics][:2] == [
        "big.yaml:203:3: contacts.bad.external_source: required field missing",
        "big.yaml:203:3: contacts.bad.external_source_id: required field missing",
    ]
    assert (
        "big.yaml:203:21: contacts.bad.first_name: must be a string, "
        "not a number (personal data, not shown)" in str(caught.value)
    )
