"""The group: every command listed with its summary, and loaded only when it runs."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
import click.testing
import pytest

from kayse_pipeline.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
# Prints what a run of the CLI with the given arguments imported, one module a line.
LOADED = """\
import sys
from kayse_pipeline.cli.main import main
sys.argv = ["kayse-pipeline", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""


def loaded(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=120
    )
    return set(done.stderr.split())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_first_paragraph_of_the_commands_help(name: str) -> None:
    entry = COMMANDS[name]
    command = getattr(importlib.import_module(entry.module), entry.module.rsplit(".")[-1])
    assert isinstance(command, click.Command) and command.name == name
    assert command.help is not None
    assert command.help.split("\n\n")[0].replace("\n", " ") == entry.summary


def test_help_lists_every_command_without_loading_one() -> None:
    result = click.testing.CliRunner().invoke(cli, ["--help"])
    listed = result.output.split("Commands:\n", 1)[1].split()
    assert [word for word in listed if word in COMMANDS] == sorted(COMMANDS)
    modules = loaded("--help")
    assert "click" in modules
    assert not {m for m in modules if m.split(".")[0] in ("httpx", "jsonschema", "yaml")}
    assert not {m for m in modules if m.startswith(("kayse_pipeline.run", "kayse_pipeline.api"))}
    assert not {m for m in modules if m in {e.module for e in COMMANDS.values()}}


def test_validate_loads_only_what_the_manifest_needs() -> None:
    modules = loaded("validate", str(ROOT / "manifests" / "quickstart.yaml"))
    assert "kayse_pipeline.cli.validate" in modules and "yaml" in modules
    assert "phonenumbers" in modules  # quickstart has a mobile, checked
    # Its email's domain is a plain hostname; it has no row sources; it sends nothing.
    unused = ("httpx", "jsonschema", "email_validator")
    assert not {m for m in modules if m.split(".")[0] in unused}
    assert not {m for m in modules if m.startswith("kayse_pipeline.run")}
    assert not {m for m in modules if m.startswith("kayse_pipeline.manifest.rows")}
    assert not {m for m in modules if m.startswith(("kayse_pipeline.api", "kayse_pipeline.plan"))}
    assert not {"kayse_pipeline.cli.options", "kayse_pipeline.cli.output.text"} & modules


def test_an_invalid_manifest_still_gets_jsonschemas_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncontacts:\n  amy: {first_name: Amy, colour: red}\n")
    done = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"{bad}:3:26: contacts.amy: unknown field 'colour'" in done.stderr
    assert "jsonschema" in loaded("validate", str(bad))
