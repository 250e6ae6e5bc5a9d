"""A valid manifest becomes the frozen model: references, defaults, environment, positions."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import MappingProxyType

import pytest

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.manifest.load import load_manifest, parse_manifest
from kayse_pipeline.model import Account, Position

MANIFEST = textwrap.dedent("""
    version: 1
    account:
      case_types: [personal_injury]
      case_statuses: [active, new_lead]
    defaults:
      contacts: {external_source: other, city: Austin}
      cases: {external_source: other, status: new_lead, type: personal_injury}
      campaigns: {runs: [{start_date: 2026-04-01, end_date: 2026-04-30, messaging_only: true}]}
    campaigns:
      texts:
        name: Texts for ${TEAM:-intake}
        case_list_id: q2_pi
      existing:
        name: On list 10
        agent_id: ${KAYSE_AGENT_ID}
        case_list_id: 10
        runs:
          - {start_date: 2026-05-01, end_date: 2026-05-02, start_time: 09:00, end_time: 17:30}
    lists:
      q2_pi:
        name: Q2 $${literal} outreach
        include_ids: [garcia_auto, 200]
        client_ids: [maria]
    cases:
      garcia_auto:
        case_number: PI-2026-042
        status: active
        external_source_id: crm_case_555
        created_date: 2026-03-01
        client_ids: [maria, 51]
    contacts:
      maria:
        first_name: Maria
        last_name: Garcia
        mobile: "+15551234567"
        external_source_id: crm_contact_901
        city: Dallas
        case_ids: [7]
""").lstrip()


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


def test_valid_manifest_becomes_the_frozen_model(manifest_path: Path) -> None:
    manifest = load_manifest(manifest_path, env={"KAYSE_AGENT_ID": "agent_7"})
    assert manifest.path == manifest_path
    assert manifest.account == Account(("personal_injury",), ("active", "new_lead"))
    # File order, which is not the order of creation.
    assert list(manifest.records) == ["texts", "existing", "q2_pi", "garcia_auto", "maria"]

    maria = manifest.records["maria"]
    assert maria.kind == "contact"
    assert dict(maria.fields) == {
        "first_name": "Maria",
        "last_name": "Garcia",
        "mobile": "+15551234567",
        "external_source_id": "crm_contact_901",
        "city": "Dallas",  # the record's own value wins over the default
        "case_ids": [7],  # not a reference field: integers of existing cases only
        "external_source": "other",
    }
    assert dict(maria.refs) == {}
    assert maria.position == Position(str(manifest_path), 32, 3)

    case = manifest.records["garcia_auto"]
    assert dict(case.fields) == {
        "case_number": "PI-2026-042",
        "status": "active",
        "external_source_id": "crm_case_555",
        "created_date": "2026-03-01",  # an unquoted date stays its ISO text
        "external_source": "other",
        "type": "personal_injury",
    }
    assert dict(case.refs) == {"client_ids": ("maria", 51)}

    q2 = manifest.records["q2_pi"]
    assert dict(q2.fields) == {"name": "Q2 ${literal} outreach"}
    assert dict(q2.refs) == {"include_ids": ("garcia_auto", 200), "client_ids": ("maria",)}

    texts = manifest.records["texts"]
    assert dict(texts.fields) == {
        "name": "Texts for intake",
        "runs": [{"start_date": "2026-04-01", "end_date": "2026-04-30", "messaging_only": True}],
    }
    assert dict(texts.refs) == {"case_list_id": ("q2_pi",)}

    existing = manifest.records["existing"]
    assert existing.fields["agent_id"] == "agent_7"
    # Unquoted times are read as times, not as YAML 1.1 base-60 integers.
    assert existing.fields["runs"] == [
        {
            "start_date": "2026-05-01",
            "end_date": "2026-05-02",
            "start_time": "09:00",
            "end_time": "17:30",
        }
    ]
    assert dict(existing.refs) == {"case_list_id": (10,)}


def test_model_is_frozen(manifest_path: Path) -> None:
    manifest = load_manifest(manifest_path, env={"KAYSE_AGENT_ID": "a"})
    record = manifest.records["maria"]
    assert isinstance(manifest.records, MappingProxyType)
    assert isinstance(record.fields, MappingProxyType)
    assert isinstance(record.refs, MappingProxyType)
    with pytest.raises(TypeError):
        record.fields["first_name"] = "Mary"  # type: ignore[index]
    with pytest.raises(AttributeError):
        record.symbol = "mary"  # type: ignore[misc]


def test_defaults_are_copied_into_each_record(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST.replace("case_list_id: 10", "case_list_id: q2_pi"))
    manifest = load_manifest(path, env={"KAYSE_AGENT_ID": "a"})
    texts = manifest.records["texts"].fields["runs"]
    existing = manifest.records["existing"].fields["runs"]
    assert texts is not existing


def test_environment_defaults_to_the_process_environment(
    manifest_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAYSE_AGENT_ID", "agent_from_env")
    monkeypatch.setenv("TEAM", "")  # set but empty: the default applies, as in a shell
    manifest = load_manifest(manifest_path)
    assert manifest.records["existing"].fields["agent_id"] == "agent_from_env"
    assert manifest.records["texts"].fields["name"] == "Texts for intake"


def test_explicit_env_is_hermetic(manifest_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAYSE_AGENT_ID", "agent_from_env")
    with pytest.raises(ManifestError) as caught:
        load_manifest(manifest_path, env={})
    assert [d.message for d in caught.value.diagnostics] == [
        "campaigns.existing.agent_id: environment variable KAYSE_AGENT_ID is not set"
        " (export it, or give --var KAYSE_AGENT_ID=VALUE)"
    ]


def test_display_name_names_the_file_in_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 3\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, display_name="./m.yaml")
    assert caught.value.diagnostics == [
        Diagnostic(
            "./m.yaml", 1, 10, "unsupported manifest version 3: this kayse-pipeline reads version 1"
        )
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "cannot read the manifest: no such file or directory"),
        (lambda p: p.mkdir(), "cannot read the manifest: is a directory"),
    ],
)
def test_unreadable_file(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "m.yaml"
    assert callable(make)
    make(path)
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert caught.value.diagnostics == [Diagnostic(str(path), 1, 1, message)]


def test_parse_manifest_takes_bytes() -> None:
    manifest = parse_manifest(b"version: 1\nlists:\n  q2: {name: Q2}\n", Path("inline.yaml"))
    assert manifest.records["q2"].position == Position("inline.yaml", 3, 3)
    assert manifest.count("list") == 1


def test_all_errors_are_collected_and_sorted(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nlists:\n  b: {name: B, include_ids: [nope]}\n  a: {nam: A}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert [str(d) for d in caught.value.diagnostics] == [
        f"{path}:3:30: lists.b.include_ids[0]: unknown symbol 'nope'",
        f"{path}:4:3: lists.a.name: required field missing",
        f"{path}:4:7: lists.a: unknown field 'nam' (did you mean 'name'?)",
    ]
