"""Issue 11, finding 21: usage errors exit 1 through the program users run, not click's 2.

Exit 2 means "changes pending" to ``plan --detailed-exitcode``; a mistyped option must
never look like it. Each case runs the installed ``kayse-pipeline`` script and
``python -m kayse_pipeline``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.cli import SEED_MANIFEST

SCRIPT = Path(sys.executable).with_name("kayse-pipeline")
USAGE_ERRORS = [
    ([], "Usage: kayse-pipeline [OPTIONS] COMMAND [ARGS]..."),
    (["nonsense"], "No such command 'nonsense'"),
    (["apply"], "Missing argument 'MANIFEST'"),
    (["apply", "seed.yaml", "--bogus"], "No such option '--bogus'"),
    (["apply", "seed.yaml", "--batch-size", "0"], "Invalid value for '--batch-size'"),
    (["apply", "seed.yaml", "--max-wait", "nan"], "Invalid value for '--max-wait'"),
    (["apply", "seed.yaml", "--max-wait", "inf"], "Invalid value for '--max-wait'"),
    (["plan", "seed.yaml", "--output", "xml"], "Invalid value for '--output'"),
    (["import", "seed.yaml", "maria", "0"], "Invalid value for 'ID'"),
    (["import", "seed.yaml", "maria", "9" * 5000], "Invalid value for 'ID'"),
    (["state", "set", "seed.yaml", "maria"], "state set takes pairs"),
    (["state", "set", "seed.yaml", "maria", "9" * 5000], "is not a Kayse ID"),
    (["state", "set", "seed.yaml", "maria", "²"], "is not a Kayse ID"),
    (["apply", "seed.yaml", "--sandbox", "--api-url", "http://127.0.0.1:9/v1"], "exclude"),
]


@pytest.mark.parametrize("how", ["script", "module"])
@pytest.mark.parametrize(("args", "said"), USAGE_ERRORS, ids=lambda v: str(v)[:40])
def test_usage_errors_exit_1(how: str, args: list[str], said: str, tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    program = [str(SCRIPT)] if how == "script" else [sys.executable, "-m", "kayse_pipeline"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env["KAYSE_API_URL"] = "http://127.0.0.1:9/v1"
    done = subprocess.run(
        [*program, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert said in done.stderr
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["apply", "--help"]])
def test_help_and_version_exit_0(args: list[str]) -> None:
    done = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
