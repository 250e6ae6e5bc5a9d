"""Shared fixtures. Every test is cut off from the real Kayse host; ``server`` is a sandbox
served over HTTP on 127.0.0.1 for one test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.sandbox import running_sandbox
from testing.sandbox_process import SandboxProcess

REAL_HOSTS = {"public-api.kayse.ai", "api.kayse.com"}


@pytest.fixture(autouse=True)
def _no_real_kayse(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any accidental call to the real Kayse API fails the test at name resolution."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.lower().rstrip(".") in REAL_HOSTS:
            raise AssertionError(f"test tried to reach the real Kayse API ({host})")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    monkeypatch.delenv("KAYSE_API_KEY", raising=False)
    monkeypatch.delenv("KAYSE_API_URL", raising=False)
    yield


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxProcess]:
    with running_sandbox(tmp_path) as process:
        yield process
