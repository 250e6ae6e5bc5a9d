"""Every recipe in manifests/ is valid, offline, with no environment variable set."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kayse_pipeline.cli.main import cli
from kayse_pipeline.manifest.load import load_manifest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "manifests").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/manifest.schema.json"


def test_the_recipes_exist() -> None:
    names = {path.name for path in EXAMPLES}
    assert {
        "quickstart.yaml",
        "several_leads.yaml",
        "messaging_only.yaml",
        "existing_list.yaml",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_recipe_is_valid(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAYSE_AGENT_ID", raising=False)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.stderr == ""
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{path}: valid (")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_recipe_points_editors_at_the_schema(path: Path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE
    assert (path.parent / "../schemas/manifest.schema.json").resolve().is_file()


def test_quickstart_needs_no_environment_and_fits_the_default_account() -> None:
    manifest = load_manifest(ROOT / "manifests" / "quickstart.yaml", env={})
    assert manifest.account.case_types == ("personal_injury",)
    assert manifest.account.case_statuses == ("active",)
    assert manifest.records["q2_outreach"].fields["agent_id"] == "agent_quickstart"
    assert [r.kind for r in manifest.records.values()] == ["contact", "case", "list", "campaign"]


def test_messaging_only_recipe_has_no_agent() -> None:
    manifest = load_manifest(ROOT / "manifests" / "messaging_only.yaml", env={})
    for campaign in manifest.of_kind("campaign"):
        assert "agent_id" not in campaign.fields
        assert all(run["messaging_only"] is True for run in campaign.fields["runs"])


def test_existing_list_recipe_uses_integer_ids() -> None:
    manifest = load_manifest(ROOT / "manifests" / "existing_list.yaml", env={})
    assert manifest.records["existing_list_calls"].refs["case_list_id"] == (10,)
    assert manifest.records["follow_ups"].refs["include_ids"] == (200, 201, "haddad_auto")
