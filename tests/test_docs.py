"""The README documents every command, and CI runs the README's own test command."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from kayse_pipeline import __version__
from kayse_pipeline.cli.main import cli
from testing.cli import subcommands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_names(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in subcommands(group):
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


@pytest.mark.parametrize("name", command_names(cli))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"`kayse-pipeline {name}" in README


def fenced_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv .venv && .+?)\n```", README)


def test_readme_gives_the_two_fresh_machine_commands() -> None:
    main, tests = fenced_commands()
    assert main.endswith("kayse-pipeline apply manifests/quickstart.yaml --sandbox")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = fenced_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests.replace("pip install -e", "pip install -q -e") in ci


def test_schema_is_published_where_the_modeline_points() -> None:
    published = ROOT / "schemas" / "manifest.schema.json"
    packaged = ROOT / "kayse_pipeline" / "manifest" / "manifest_schema.json"
    assert published.read_bytes() == packaged.read_bytes()


def test_readme_gives_the_install_lines_and_the_one_version() -> None:
    assert "pipx install kayse-pipeline" in README
    assert "pip install kayse-pipeline" in README
    pins = re.findall(r"kayse-pipeline==([0-9][0-9.]*)", README)
    assert pins and set(pins) == {__version__}
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in project
    assert '[tool.hatch.version]\npath = "kayse_pipeline/__init__.py"' in project
    assert "python -m build" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
