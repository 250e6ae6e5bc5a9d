"""Run ``kayse-pipeline sandbox serve`` as a child process, for end-to-end tests and benchmarks."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import httpx

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.sandbox.core import dump_sandbox

_LISTENING: Final = re.compile(r"kayse sandbox listening on (http://\S+/v1) \(")
# Variables that would change the child's behaviour behind the caller's back.
_SCRUBBED: Final = (
    "KAYSE_API_KEY",
    "KAYSE_API_URL",
    "KAYSE_SANDBOX_DIR",
    "KAYSE_SANDBOX_FAULTS",
    "KAYSE_SANDBOX_RATE_LIMIT",
)


@dataclass
class SandboxProcess:
    """A running ``sandbox serve`` child: where it listens, its key and its folder."""

    url: str
    api_key: str
    dir: Path
    popen: subprocess.Popen[str]
    stderr_path: Path

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"X-API-KEY": self.api_key}
        response = httpx.request(method, f"{self.url}{path}", headers=headers, json=body)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        """The server's request counts (GET /v1/_sandbox/stats)."""
        result: dict[str, Any] = self._admin("GET", "/_sandbox/stats")
        return result

    def set_faults(self, spec: str) -> str:
        """Change the fault spec at runtime ("off" for none); returns it normalized."""
        return str(self._admin("POST", "/_sandbox/faults", {"faults": spec})["faults"])

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every record, read from the sandbox's SQLite file."""
        return dump_sandbox(self.dir)

    def stderr(self) -> str:
        """What the server wrote on stderr so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """Terminate the server (SIGTERM, then SIGKILL) and return its exit code."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return self.popen.returncode


@contextmanager
def sandbox_process(
    directory: Path,
    *,
    rate_limit: str | None = "off",
    faults: str | None = None,
    api_key: str = "test-key-123",
    extra_args: Sequence[str] = (),
    stderr_path: Path | None = None,
    start_timeout: float = 30.0,
) -> Iterator[SandboxProcess]:
    """Start ``python -m kayse_pipeline sandbox serve --port 0`` and stop it on exit."""
    args = [sys.executable, "-m", "kayse_pipeline", "sandbox", "serve", "--port", "0"]
    args += ["--dir", str(directory), "--api-key", api_key]
    if rate_limit is not None:
        args += ["--rate-limit", rate_limit]
    if faults is not None:
        args += ["--faults", faults]
    args += list(extra_args)
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    stderr_path = stderr_path or directory.with_name(f"{directory.name}.stderr.log")
    with stderr_path.open("w", encoding="utf-8") as err:
        popen = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    process = SandboxProcess("", api_key, directory, popen, stderr_path)
    try:
        assert popen.stdout is not None
        line = _first_line(popen.stdout, start_timeout)
        match = _LISTENING.match(line or "")
        if match is None:
            code = process.stop()
            raise SandboxError(
                f"sandbox serve did not start (exit {code}, first line {line!r}); "
                f"stderr:\n{process.stderr()}"
            )
        process.url = match[1]
        yield process
    finally:
        process.stop()


def _first_line(stream: IO[str], timeout: float) -> str | None:
    """The first line of a stream, or None after ``timeout`` seconds or at its end."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout) or None
    except queue.Empty:
        return None
