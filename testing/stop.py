"""Signal drills shared by the graceful-stop tests and ``benchmarks/stop.py``.

An ``apply`` of a lead recipe runs against a slowed ``sandbox serve`` (each answer comes
``slow_seconds`` after Kayse acted, so a request is in flight); once the sandbox has
seen a chosen number of requests, the apply gets SIGINT or SIGTERM (or two signals).
The drill reports the exit code, how long the stop took and what the state holds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kayse_pipeline.state import StateStore
from testing.faults import Audit, audit, lead_recipe
from testing.sandbox import TEST_KEY
from testing.sandbox_process import SandboxProcess

MANIFEST = "leads.yaml"
STATE = "leads.state.json"


@dataclass
class Stopped:
    """One signalled apply: its exit, how long it took to stop, what it left behind."""

    code: int
    seconds: float
    requests: int
    unknown: int
    saved: int
    journal_left: bool
    stdout: str
    stderr: str


def write_recipe(folder: Path, leads: int, tag: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(lead_recipe(leads, tag))


def signalled_apply(
    server: SandboxProcess,
    folder: Path,
    *,
    after_requests: int,
    signals: tuple[signal.Signals, ...],
    batch_size: int | None = 100,
    between: float = 0.3,
    timeout: float = 120.0,
    command: Sequence[str] = ("apply", MANIFEST),
    python: str = sys.executable,
) -> Stopped:
    """Start ``apply`` (or ``command``), signal it once the sandbox saw ``after_requests``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env |= {"KAYSE_API_URL": server.url, "KAYSE_API_KEY": TEST_KEY}
    before = server.stats()["requests"]
    out, err = folder / "apply.stdout", folder / "apply.stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(
            [python, "-m", "kayse_pipeline", *command]
            + (["--batch-size", str(batch_size)] if batch_size is not None else []),
            cwd=folder,
            env=env,
            stdout=stdout,
            stderr=stderr,
            # A job started in the background inherits SIGINT ignored: give it the default.
            preexec_fn=_default_sigint,
        )
        deadline = time.monotonic() + timeout
        while child.poll() is None and server.stats()["requests"] - before < after_requests:
            if time.monotonic() > deadline:
                child.kill()
                raise AssertionError(f"apply never reached request {after_requests}")
            time.sleep(0.01)
        started = time.monotonic()
        for n, sig in enumerate(signals):
            if n:
                time.sleep(between)
            if child.poll() is None:
                child.send_signal(sig)
        code = child.wait(timeout=timeout)
        seconds = time.monotonic() - started
    path = folder / STATE
    records = json.loads(path.read_text())["records"] if path.exists() else {}
    # As the next run sees it: the state file plus any journal a killed run left.
    unknown = len(StateStore.open(path, server.url, lock=False).unknown())
    return Stopped(
        code=code,
        seconds=seconds,
        requests=server.stats()["requests"] - before,
        unknown=unknown,
        saved=sum(1 for r in records.values() if "id" in r),
        journal_left=(folder / f"{STATE}.journal").exists(),
        stdout=out.read_text(),
        stderr=err.read_text(),
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def finish_elsewhere(server: SandboxProcess, folder: Path, fresh: Path, leads: int) -> Audit:
    """Copy only the manifest and the state file to ``fresh``, apply there, audit the sandbox."""
    fresh.mkdir(parents=True)
    shutil.copy(folder / MANIFEST, fresh / MANIFEST)
    if (folder / STATE).exists():
        shutil.copy(folder / STATE, fresh / STATE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env |= {"KAYSE_API_URL": server.url, "KAYSE_API_KEY": TEST_KEY}
    done = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "apply", MANIFEST],
        cwd=fresh,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return audit(server.dump(), fresh / STATE, leads)
