"""Terminal manners: colour on a terminal only (a real pseudo-terminal), and --target's warning."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testing.cli import SEED_MANIFEST, kayse

GREEN, RED, YELLOW = "\x1b[32m", "\x1b[31m", "\x1b[33m"


def on_a_terminal(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; what the terminal showed."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    child_env.pop("NO_COLOR", None)
    child_env["TERM"] = "xterm"
    child_env.update(env or {})
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "kayse_pipeline", *args],
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        process.wait(timeout=60)
    return shown.decode("utf-8", "replace")


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    return tmp_path


def test_plan_marks_are_coloured_on_a_terminal(seed: Path) -> None:
    shown = on_a_terminal(["plan", "seed.yaml", "--sandbox"], seed)
    assert f"{GREEN}  + contact maria" in shown
    assert f"{YELLOW}  ~ list q2_pi: attach 1" in shown


def test_no_color_turns_colour_off(seed: Path) -> None:
    shown = on_a_terminal(["plan", "seed.yaml", "--sandbox"], seed, env={"NO_COLOR": "1"})
    assert "  + contact maria" in shown
    assert "\x1b[" not in shown


def test_no_colour_when_output_is_not_a_terminal(seed: Path) -> None:
    run = kayse(["plan", "seed.yaml", "--sandbox"], cwd=seed, env={"TERM": "xterm"})
    assert "  + contact maria" in run.stdout
    assert "\x1b[" not in run.stdout + run.stderr


def test_errors_and_warnings_are_coloured_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("version: 1\nlists:\n  q2: {name: $Q2_NAME, size: 1}\n")
    shown = on_a_terminal(["validate", "m.yaml"], tmp_path, env={"Q2_NAME": "Q2"})
    assert f"{YELLOW}m.yaml:3:14: warning: lists.q2.name: '$Q2_NAME' is kept as written" in shown
    assert f"{RED}m.yaml:3:24: lists.q2: unknown field 'size'" in shown
    shown = on_a_terminal(["plan", "missing.yaml", "--sandbox"], tmp_path)
    assert f"{RED}missing.yaml:1:1: cannot read the manifest" in shown


def test_target_warns_that_the_plan_is_partial(seed: Path) -> None:
    run = kayse(["plan", "seed.yaml", "--sandbox", "--target", "garcia_auto"], cwd=seed)
    assert run.code == 0
    assert run.stderr.splitlines() == [
        "warning: --target makes this plan partial: it leaves out 2 of 4 records"
        " (list q2_pi, campaign q2_outreach); run without --target to bring them in line",
        "warning: list q2_pi is not targeted, so case garcia_auto, contact maria stay off it",
    ]
    run = kayse(
        ["apply", "seed.yaml", "--sandbox", "--target", "q2_pi", "--output", "json"], cwd=seed
    )
    assert run.code == 0
    assert {r["symbol"] for r in run.json()["records"]} == {"maria", "garcia_auto", "q2_pi"}
    assert run.stderr.splitlines()[-1:] == [  # after the progress lines
        "warning: --target makes this plan partial: it leaves out 1 of 4 records"
        " (campaign q2_outreach); run without --target to bring them in line",
    ]
    run = kayse(["plan", "seed.yaml", "--sandbox", "--target", "q2_outreach"], cwd=seed)
    assert run.stderr == ""  # the campaign needs everything: nothing is left out


def test_shell_completion_as_the_readme_gives_it(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "_KAYSE_PIPELINE_COMPLETE=bash_source kayse-pipeline" in readme
    env = {"COMP_WORDS": "kayse-pipeline app", "COMP_CWORD": "1"}
    run = kayse([], cwd=tmp_path, env={**env, "_KAYSE_PIPELINE_COMPLETE": "bash_complete"})
    assert (run.code, run.stdout.split()) == (0, ["plain,apply"])
    run = kayse([], cwd=tmp_path, env={"_KAYSE_PIPELINE_COMPLETE": "bash_source"})
    assert "complete -o nosort -F _kayse_pipeline_completion kayse-pipeline" in run.stdout
