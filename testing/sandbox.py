"""Start the sandbox for tests: a real ``sandbox serve`` process, or an in-process core.

Use ``with running_sandbox(tmp_path) as sb:`` then ``sb.url``, ``sb.api_key``, ``sb.dump()``,
``sb.stats()``, ``sb.set_faults("off")``; or import the fixtures ``sandbox_server`` /
``sandbox_core`` into a test module or conftest.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from kayse_pipeline.sandbox import SandboxCore, SandboxTransport, open_sandbox
from testing.sandbox_process import SandboxProcess, sandbox_process

TEST_KEY = "test-key-123"


@contextmanager
def running_sandbox(
    tmp_path: Path,
    *,
    rate_limit: str | None = "off",
    faults: str | None = None,
    api_key: str = TEST_KEY,
    extra_args: Sequence[str] = (),
) -> Iterator[SandboxProcess]:
    """A ``sandbox serve`` subprocess on a free port with its own folder under ``tmp_path``."""
    directory = Path(tempfile.mkdtemp(prefix="sandbox-", dir=tmp_path))
    with sandbox_process(
        directory,
        rate_limit=rate_limit,
        faults=faults,
        api_key=api_key,
        extra_args=extra_args,
        stderr_path=directory.with_suffix(".stderr.log"),
    ) as process:
        yield process


def sandbox_client(core: SandboxCore, *, require_key: bool = False) -> httpx.Client:
    """An httpx client on the in-process front door."""
    return httpx.Client(
        transport=SandboxTransport(core, require_key=require_key), base_url="http://sandbox/v1"
    )


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A running ``sandbox serve`` process, rate limit off, no faults."""
    with running_sandbox(tmp_path) as process:
        yield process


@pytest.fixture
def sandbox_core(tmp_path: Path) -> Iterator[SandboxCore]:
    """An in-process core on a fresh folder: no key, rate limit off, no faults."""
    with open_sandbox(tmp_path / "sandbox", rate_limit="off", faults="off") as core:
        yield core
