"""`kayse-pipeline validate`: output, exit codes, many files, and no network at all."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kayse_pipeline.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "manifests"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("two_errors.yaml", "valid_minimal.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    shutil.copy(ROOT / "manifests" / "quickstart.yaml", tmp_path / "quickstart.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_valid_manifest_prints_one_summary_line(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "quickstart.yaml"])
    assert result.exit_code == 0
    assert result.stdout == "quickstart.yaml: valid (1 contact, 1 case, 1 list, 1 campaign)\n"
    assert result.stderr == ""


def test_every_file_is_reported_in_the_order_given(workdir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["validate", "valid_minimal.yaml", "two_errors.yaml", "missing.yaml", "./quickstart.yaml"],
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "valid_minimal.yaml: valid (0 contacts, 0 cases, 1 list, 0 campaigns)",
        "./quickstart.yaml: valid (1 contact, 1 case, 1 list, 1 campaign)",
    ]
    assert result.stderr.splitlines() == [
        "two_errors.yaml:3:32: lists.q2.include_ids[0]: unknown symbol 'garcia'",
        "two_errors.yaml:5:3: campaigns.calls.agent_id:"
        " required unless every run is messaging_only",
        "missing.yaml:1:1: cannot read the manifest: no such file or directory",
    ]


def test_missing_file_alone(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "nope/missing.yaml"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == "nope/missing.yaml:1:1: cannot read the manifest: no such file or directory\n"
    )


def test_needs_at_least_one_manifest() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 2
    assert "Missing argument 'MANIFESTS...'" in result.stderr


def test_help_describes_the_command() -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0
    assert "Check manifests offline" in result.stdout


def test_validate_never_opens_a_socket(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("validate opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("quickstart.yaml", "two_errors.yaml"):
        result = CliRunner().invoke(cli, ["validate", name])
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "socket" not in result.output
        assert "unexpected error" not in result.output


def test_real_process_valid_and_invalid(workdir: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "validate", "quickstart.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (ok.returncode, ok.stdout, ok.stderr) == (
        0,
        "quickstart.yaml: valid (1 contact, 1 case, 1 list, 1 campaign)\n",
        "",
    )
    bad = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "validate", "missing.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == "missing.yaml:1:1: cannot read the manifest: no such file or directory\n"


def test_console_script_if_installed(workdir: Path) -> None:
    script = Path(sys.executable).parent / "kayse-pipeline"
    if not script.exists():
        pytest.skip("the console script is not installed beside this interpreter")
    done = subprocess.run(
        [str(script), "validate", "two_errors.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 2
