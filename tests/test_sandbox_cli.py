"""``kayse-pipeline sandbox serve|dump|reset``: start line, key sources, refusals, files."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kayse_pipeline.cli.main import cli
from kayse_pipeline.errors import SandboxError
from kayse_pipeline.model import Account
from kayse_pipeline.sandbox import load_account_file, open_sandbox
from kayse_pipeline.sandbox.server import check_host

CLIENT = {"first_name": "Ana", "last_name": "Lee", "external_source": "other",
          "external_source_id": "c-1"}  # fmt: skip
LISTENING = r"kayse sandbox listening on http://127\.0\.0\.1:(\d+)/v1 \((.*)\)"


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``sandbox serve --port 0`` on a folder under tmp_path, stdout and stderr piped."""
    command = [sys.executable, "-m", "kayse_pipeline", "sandbox", "serve", "--port", "0"]
    command += ["--dir", str(tmp_path / "sb"), *args]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    child_env.update(env or {})
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)
    return process.returncode, err


@pytest.mark.parametrize(
    ("args", "env", "shown"),
    [
        (["--api-key", "k-123"], {}, "key from --api-key"),
        ([], {"KAYSE_API_KEY": "k-123"}, "key from KAYSE_API_KEY"),
        (["--api-key", "k-123"], {"KAYSE_API_KEY": "other"}, "key from --api-key"),
    ],
)
def test_start_line_names_the_key_source(
    tmp_path: Path, args: list[str], env: dict[str, str], shown: str
) -> None:
    process = start(tmp_path, *args, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.fullmatch(LISTENING + "\n", line)
    assert match is not None, line
    assert match[2] == shown
    url = f"http://127.0.0.1:{match[1]}/v1"
    assert httpx.get(f"{url}/campaigns", headers={"X-API-KEY": "k-123"}).status_code == 200
    code, err = stop(process)
    assert code == 0
    assert "kayse sandbox stopped" in err
    assert "k-123" not in err


def test_generated_key_is_printed_and_works(tmp_path: Path) -> None:
    process = start(tmp_path)
    assert process.stdout is not None
    match = re.fullmatch(LISTENING + "\n", process.stdout.readline())
    assert match is not None and match[2].startswith("key: ")
    key = match[2].removeprefix("key: ")
    assert len(key) >= 24
    url = f"http://127.0.0.1:{match[1]}/v1"
    assert httpx.get(f"{url}/campaigns", headers={"X-API-KEY": key}).status_code == 200
    assert httpx.get(f"{url}/campaigns").status_code == 401
    assert stop(process)[0] == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.0.2.10"])
def test_refuses_a_non_loopback_address(tmp_path: Path, host: str) -> None:
    process = start(tmp_path, "--host", host, "--api-key", "k")
    out, err = process.communicate(timeout=20)
    assert (process.returncode, out) == (1, "")
    shown = host or "every address"
    assert not (tmp_path / "sb").exists()
    assert err == (
        f"error: refusing to listen on {shown}: it is not a loopback address, and the sandbox "
        "holds test data behind a test key; pass --allow-remote to do it anyway\n"
    )


def test_loopback_names_are_accepted() -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_host(host, allow_remote=False)
    check_host("0.0.0.0", allow_remote=True)


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "kayse_pipeline", "sandbox", "serve", "--api-key", "k"]
        command += ["--port", str(port), "--dir", str(tmp_path)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use\n")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--faults", "lost=2"], "error: fault spec: lost must be between 0 and 1\n"),
        (["--rate-limit", "fast"], "error: rate limit must be N/SECONDS with N >= 1 and "
         "SECONDS > 0 (e.g. 500/3600), or off\n"),
    ],
)  # fmt: skip
def test_bad_options_are_errors(tmp_path: Path, option: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--dir", str(tmp_path / "sb"), *option])
    assert (result.exit_code, result.stderr) == (1, message)
    assert not (tmp_path / "sb").exists()


def test_dump_and_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_sandbox(tmp_path / "sb") as core:
        core.handle("POST", "/v1/clients", {}, {}, json.dumps(CLIENT).encode())
    runner = CliRunner()
    monkeypatch.setenv("KAYSE_SANDBOX_DIR", str(tmp_path / "sb"))
    dumped = runner.invoke(cli, ["sandbox", "dump"])
    assert dumped.exit_code == 0
    records = json.loads(dumped.stdout)
    assert list(records) == ["clients", "cases", "case_lists", "campaigns"]
    assert [c["first_name"] for c in records["clients"]] == ["Ana"]
    reset = runner.invoke(cli, ["sandbox", "reset", "--dir", str(tmp_path / "sb")])
    assert reset.stdout == f"emptied the sandbox in {tmp_path / 'sb'}\n"
    assert json.loads(runner.invoke(cli, ["sandbox", "dump"]).stdout)["clients"] == []
    again = runner.invoke(cli, ["sandbox", "reset", "--dir", str(tmp_path / "none")])
    assert again.stdout == f"no sandbox in {tmp_path / 'none'}\n"


def test_default_folder_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_sandbox() as core:
        assert core.store.directory == Path(".kayse-sandbox")
    assert (tmp_path / ".kayse-sandbox" / "sandbox.sqlite3").exists()
    assert (tmp_path / ".kayse-sandbox" / ".gitignore").read_text() == "*\n"


def test_account_file_limits_case_types(tmp_path: Path) -> None:
    account = tmp_path / "account.yaml"
    account.write_text("case_types: [tax]\ncase_statuses: [intake]\n")
    process = start(tmp_path, "--api-key", "k", "--account-file", str(account))
    assert process.stdout is not None
    port = process.stdout.readline().split(":")[2].split("/")[0]
    case = {"case_number": "1", "external_source": "o", "external_source_id": "1"}
    url = f"http://127.0.0.1:{port}/v1/cases"
    for body, status in (({"type": "tax", "status": "intake"}, 201), ({"type": "civil"}, 400)):
        response = httpx.post(url, json={**case, "status": "intake", **body},
                              headers={"X-API-KEY": "k"})  # fmt: skip
        assert response.status_code == status
    assert stop(process)[0] == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("case_types: [a, b]\n", Account(("a", "b"), None)),
        ("version: 1\naccount:\n  case_statuses: [s]\ncontacts: {}\n", Account(None, ("s",))),
    ],
)
def test_account_file_reads_a_bare_block_or_a_manifest(
    tmp_path: Path, text: str, expected: Account
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    assert load_account_file(path) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("case_types: [a\n", "{path}:2:1: not valid YAML"),
        ("- a\n", "{path}:1:1: the account file must be a mapping"),
        (
            "case_type: [a]\n",
            "{path}:1:1: unknown key (expected case_types, case_statuses, fields)",
        ),
        ("case_types: []\n", "{path}:1:13: case_types must be a non-empty list of names"),
        (
            "case_types:\n  - a\n  - 3\n",
            "{path}:3:5: each of case_types must be a non-empty string",
        ),
        ("account: [x]\n", "{path}:1:10: account must be a mapping"),
    ],
)
def test_account_file_errors_point_at_the_node(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    with pytest.raises(SandboxError) as caught:
        load_account_file(path)
    assert str(caught.value) == message.format(path=path)
