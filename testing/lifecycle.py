"""Helpers for the import, refresh and destroy end-to-end tests.

Edits "in the Kayse app" go through the sandbox's own HTTP API; the CLI runs as a child
process, with stdin that is not a terminal, or a pseudo-terminal to answer a prompt.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from testing.cli import SEED_MANIFEST, Run, kayse
from testing.sandbox_process import SandboxProcess


def api(server: SandboxProcess, method: str, path: str, body: Any = None) -> Any:
    """Call the sandbox the way a person in the Kayse app changes records."""
    response = httpx.request(
        method, f"{server.url}{path}", headers={"X-API-KEY": server.api_key}, json=body
    )
    response.raise_for_status()
    return response.json()


def write(tmp_path: Path, text: str, name: str = "seed.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def applied(tmp_path: Path, server: SandboxProcess, text: str = SEED_MANIFEST) -> None:
    """``text`` written as seed.yaml and applied to ``server``."""
    write(tmp_path, text)
    run = kayse(["apply", "seed.yaml"], cwd=tmp_path, url=server.url)
    assert run.code == 0, run.stderr


def state_doc(tmp_path: Path, name: str = "seed.state.json") -> Any:
    return json.loads((tmp_path / name).read_text())


def sent_since(server: SandboxProcess, before: dict[str, int]) -> dict[str, int]:
    """Requests per endpoint that the server answered since ``before`` (its by_endpoint)."""
    after: dict[str, int] = server.stats()["by_endpoint"]
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def kayse_stdin(
    args: Sequence[str], *, cwd: Path, url: str, key: str, answer: str | None = None
) -> Run:
    """``kayse-pipeline ARGS`` with stdin /dev/null, or a terminal that types ``answer``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env |= {"KAYSE_API_URL": url, "KAYSE_API_KEY": key}
    command = [sys.executable, "-m", "kayse_pipeline", *args]
    if answer is None:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)
    leader, follower = pty.openpty()
    try:
        child = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(follower)  # the child holds its own copy
    try:
        os.write(leader, answer.encode())  # the terminal keeps the line until it is read
        stdout, stderr = child.communicate(timeout=120)
    finally:
        os.close(leader)
    return Run(child.returncode, stdout, stderr)
