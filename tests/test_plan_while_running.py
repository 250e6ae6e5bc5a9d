"""``plan`` while an apply holds the state's lock says so, with the apply's process ID,
instead of calling the apply's records in flight unknown."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from testing.cli import kayse
from testing.sandbox import running_sandbox
from testing.stop import MANIFEST, write_recipe


def test_plan_during_an_apply_names_the_running_apply(tmp_path: Path) -> None:
    write_recipe(tmp_path, 20, "busy")
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=4") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
        env |= {"KAYSE_API_URL": server.url, "KAYSE_API_KEY": server.api_key}
        child = subprocess.Popen(
            [sys.executable, "-m", "kayse_pipeline", "apply", MANIFEST, "--batch-size", "5"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while server.stats()["requests"] < 1:  # a create is in flight, its records pending
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        for args in ([], ["--output", "json"], ["--output", "markdown"], ["--destroy"]):
            busy = kayse(["plan", MANIFEST, *args], cwd=tmp_path, url=server.url)
            assert busy.code == 1, busy.stdout
            assert busy.stdout == ""
            error = busy.stderr.splitlines()[-1]  # after the manifest's warnings (555 numbers)
            assert error.startswith(
                f"error: an apply is running on leads.state.json (pid {child.pid} on "
                f"{socket.gethostname()}, started "
            ), busy.stderr
            assert error.endswith(
                "its records in flight are not unknown: plan again when it has finished"
            )
        server.set_faults("off")  # the apply may finish now
        assert child.wait(timeout=120) == 0
        done = kayse(["plan", MANIFEST, "--output", "json"], cwd=tmp_path, url=server.url)
    assert done.code == 0, done.stderr
    assert {r["action"] for r in done.json()["records"]} == {"no-op"}
