"""Ctrl-C during a rate-limit wait leaves nothing unknown: the next create was never sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from testing.cli import SEED_MANIFEST
from testing.sandbox import running_sandbox


def test_ctrl_c_while_waiting_for_the_budget_marks_nothing_unknown(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    # Two requests per 60 s: contact and case go through, the list's create waits.
    with running_sandbox(tmp_path, rate_limit="2/60") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
        env.update(KAYSE_API_URL=server.url, KAYSE_API_KEY=server.api_key)
        child = subprocess.Popen(
            [sys.executable, "-m", "kayse_pipeline", "apply", "seed.yaml"],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        deadline = time.monotonic() + 60
        for line in child.stderr:
            if line.startswith("waiting") or time.monotonic() > deadline:
                break
        child.send_signal(signal.SIGINT)
        _, rest = child.communicate(timeout=30)
        assert child.returncode == 130, rest
        state = json.loads((tmp_path / "seed.state.json").read_text())
        assert sorted(state["records"]) == ["garcia_auto", "maria"]
        assert all("status" not in r for r in state["records"].values())
        assert len(server.dump()["case_lists"]) == 0
