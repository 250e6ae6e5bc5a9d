"""An account file's ``fields`` block changes what the sandbox takes and what metadata lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.sandbox import load_account_config
from testing.sandbox import running_sandbox

CHANGED = """\
case_types: [personal_injury]
fields:
  clients:
    mobile: required
    date_of_death: absent
  cases:
    case_number: optional
    external_source: {values: [intake_form, referral]}
    referral_partner: required
"""
CLIENT = {"first_name": "A", "last_name": "B", "external_source": "o", "external_source_id": "1"}
CASE = {"status": "active", "type": "personal_injury", "external_source_id": "c1"}


def fields_of(objects: list[dict[str, Any]], name: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for o in objects if o["name"] == name for f in o["fields"]}


def test_metadata_and_validation_follow_the_changed_tables(tmp_path: Path) -> None:
    account = tmp_path / "account.yaml"
    account.write_text(CHANGED)
    with running_sandbox(tmp_path, extra_args=["--account-file", str(account)]) as sb:
        headers = {"X-API-KEY": sb.api_key}
        objects = httpx.get(f"{sb.url}/metadata/objects", headers=headers).json()
        clients, cases = fields_of(objects, "clients"), fields_of(objects, "cases")
        assert clients["mobile"]["required"] is True
        assert "date_of_death" not in clients
        assert cases["case_number"]["required"] is False
        assert cases["external_source"]["values"] == [
            {"id": 1, "name": "intake_form"},
            {"id": 2, "name": "referral"},
        ]
        assert cases["referral_partner"] == {
            "name": "referral_partner",
            "type": "string",
            "required": True,
            "description": "",
        }
        assert cases["type"]["values"] == [{"id": 1, "name": "personal_injury"}]

        def post(path: str, body: dict[str, Any]) -> tuple[int, str]:
            answer = httpx.post(f"{sb.url}{path}", json=body, headers=headers)
            return answer.status_code, answer.json().get("message", "")

        assert post("/clients", CLIENT) == (400, "mobile is required")
        status, _ = post("/clients", {**CLIENT, "mobile": "+15550100001", "date_of_death": "x"})
        assert status == 201  # a field the account does not list is ignored, like any unknown
        assert post("/cases", {**CASE, "external_source": "other", "referral_partner": "p"}) == (
            400,
            "external_source must be one of the account's values: intake_form, referral",
        )
        assert post("/cases", {**CASE, "external_source": "referral"}) == (
            400,
            "referral_partner is required",
        )
        status, _ = post("/cases", {**CASE, "external_source": "referral", "referral_partner": "p"})
        assert status == 201  # case_number is no longer required


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fields: [clients]\n",
            "{path}:1:9: fields must be a mapping of clients, cases, case_lists",
        ),
        (
            "fields:\n  contacts: {}\n",
            "{path}:2:3: unknown object (expected clients, cases, case_lists)",
        ),
        ("fields:\n  clients: [a]\n", "{path}:2:12: clients must map field names to changes"),
        (
            "fields:\n  clients:\n    mobile: maybe\n",
            "{path}:3:13: a field change is required, optional, absent, "
            "or a mapping of required and values",
        ),
        (
            "fields:\n  cases:\n    name: {required: 1}\n",
            "{path}:3:12: expected required: true|false or values: [...]",
        ),
        (
            "fields:\n  cases:\n    nickname: absent\n",
            "{path}:3:15: nickname is not a field to leave out",
        ),
        (
            "fields:\n  cases:\n    external_source: {values: []}\n",
            "{path}:3:31: values must be a non-empty list of names",
        ),
    ],
)
def test_field_changes_are_checked_where_they_are_written(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    with pytest.raises(SandboxError) as caught:
        load_account_config(path)
    assert str(caught.value) == message.format(path=path)
