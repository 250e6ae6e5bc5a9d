"""The GitHub Action, the example workflow and the CI scripts: valid against GitHub's
published schemas (the copies ``check-jsonschema`` ships), clean for ``actionlint`` and
``shellcheck``, and the action's script run for real against ``sandbox serve``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing.faults import lead_recipe
from testing.sandbox import running_sandbox

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCRIPTS = sorted((ROOT / "ci").glob("*.sh"))
WORKFLOWS = [ROOT / "examples" / "github" / "kayse.yml"]


def tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-actions", ROOT / "action.yml")]
    + [("vendor.github-workflows", w) for w in WORKFLOWS],
)
def test_valid_against_githubs_schema(schema: str, path: Path) -> None:
    done = check(tool("check-jsonschema"), "--builtin-schema", schema, str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_workflow_passes_actionlint() -> None:
    done = check(tool("actionlint"), "-no-color", *(str(w) for w in WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_scripts_pass_shellcheck() -> None:
    assert SCRIPTS, "no script in ci/"
    done = check(tool("shellcheck"), *(str(s) for s in SCRIPTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_runs_its_scripts_from_the_repository() -> None:
    text = (ROOT / "action.yml").read_text()
    for script in ("ci/action.sh", "ci/save-state.sh", "ci/pr-comment.sh"):
        assert f'"$GITHUB_ACTION_PATH/{script}"' in text
        assert (ROOT / script).exists()
    assert 'default: "0.2.0"' in text  # the pinned version installed by default


def action(cwd: Path, command: str, env: dict[str, str]) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    full |= {"KAYSE_PIPELINE": str(BIN / "kayse-pipeline"), **env}
    return subprocess.Popen(
        ["bash", str(ROOT / "ci" / "action.sh"), command],
        cwd=cwd,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_action_plan_reports_every_manifest_and_exits_0_on_changes(tmp_path: Path) -> None:
    (tmp_path / "recipes").mkdir()
    for name in ("east", "west"):
        (tmp_path / "recipes" / f"{name}.yaml").write_text(lead_recipe(3, name))
    outputs = tmp_path / "github_output"
    done = action(
        tmp_path,
        "plan",
        {"KAYSE_MANIFESTS": "recipes/*.yaml", "GITHUB_OUTPUT": str(outputs)},
    )
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    report = (tmp_path / "kayse-report.md").read_text()
    assert report.count("### kayse-pipeline plan:") == 2
    assert "<code>recipes/east.yaml</code>" in report and "<code>recipes/west.yaml</code>" in report
    assert outputs.read_text() == "changes=true\nfailed=false\n"


def test_action_plan_fails_on_an_invalid_manifest(tmp_path: Path) -> None:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "bad.yaml").write_text("version: 1\ncontacts: {x: 1}\n")
    done = action(tmp_path, "plan", {"KAYSE_MANIFESTS": "recipes/*.yaml"})
    _, err = done.communicate(timeout=300)
    assert done.returncode == 1
    assert "recipes/bad.yaml:2:" in err and "::error::validation failed" in err


def test_action_apply_passes_a_cancel_on_once_and_starts_no_other_manifest(
    tmp_path: Path,
) -> None:
    (tmp_path / "recipes").mkdir()
    for name in ("a", "b"):
        (tmp_path / "recipes" / f"{name}.yaml").write_text(lead_recipe(40, name))
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=0.5") as server:
        env = {"KAYSE_MANIFESTS": "recipes/*.yaml", "KAYSE_BATCH_SIZE": "10"}
        env |= {"KAYSE_INPUT_API_URL": server.url, "KAYSE_INPUT_API_KEY": server.api_key}
        child = action(tmp_path, "apply", env)
        deadline = time.monotonic() + 120
        while server.stats()["requests"] < 2:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)  # what the runner does when the job is cancelled
        _, err = child.communicate(timeout=60)
    assert child.returncode == 1
    assert "::error::apply of recipes/a.yaml exited 130" in err
    assert "not waiting for the request in flight" not in err  # one signal, not two
    state = json.loads((tmp_path / "recipes" / "a.state.json").read_text())
    assert state["records"] and not any("status" in r for r in state["records"].values())
    assert not (tmp_path / "recipes" / "b.state.json").exists()
    assert (tmp_path / "kayse-junit" / "recipes_a.yaml.xml").exists()


# -- a pull request from a fork: no secrets, a read-only token ---------------------------


def plan_steps() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    job: dict[str, Any] = yaml.safe_load(WORKFLOWS[0].read_text())["jobs"]["plan"]
    return job, {step.get("name", step.get("uses", "")): step for step in job["steps"]}


def test_the_plan_job_skips_doctor_without_a_key_and_says_so(tmp_path: Path) -> None:
    job, steps = plan_steps()
    assert job["env"] == {"HAS_KAYSE_KEY": "${{ secrets.KAYSE_API_KEY != '' }}"}
    assert steps["doctor"]["if"] == "env.HAS_KAYSE_KEY == 'true'"
    assert steps["doctor"]["env"] == {"KAYSE_API_KEY": "${{ secrets.KAYSE_API_KEY }}"}
    plan = steps["kayse-pipeline/kayse-pipeline@v1"]
    assert "api-key" not in plan["with"] and "env" not in plan  # the plan is given no key
    skipped = steps["doctor skipped"]
    assert skipped["if"] == "env.HAS_KAYSE_KEY != 'true'"
    summary = tmp_path / "summary.md"
    env = {"PATH": os.environ["PATH"], "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(
        ["bash", "-e", "-c", skipped["run"]], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("::notice title=kayse-pipeline doctor skipped::no KAYSE_API_KEY")
    assert summary.read_text().startswith("### kayse-pipeline doctor: skipped\n\nno KAYSE_API_KEY")


def test_the_action_comments_only_where_the_token_may_write() -> None:
    steps = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]
    by_name = {step.get("name", ""): step for step in steps}
    fork = "github.event.pull_request.head.repo.full_name"
    assert f"{fork} == github.repository" in by_name["Comment the plan on the pull request"]["if"]
    notice = by_name["Say why a pull request from a fork has no plan comment"]
    assert f"{fork} != github.repository" in notice["if"]


def test_action_plan_needs_no_key_and_sends_nothing(tmp_path: Path) -> None:
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "leads.yaml").write_text(lead_recipe(3, "k"))
    with running_sandbox(tmp_path) as server:
        env = {"KAYSE_MANIFESTS": "recipes/*.yaml", "KAYSE_INPUT_API_URL": server.url}
        applied = action(tmp_path, "apply", env | {"KAYSE_INPUT_API_KEY": server.api_key})
        _, err = applied.communicate(timeout=300)
        assert applied.returncode == 0, err
        before = server.stats()["requests"]
        outputs = tmp_path / "github_output"
        planned = action(tmp_path, "plan", env | {"GITHUB_OUTPUT": str(outputs)})  # no key
        _, err = planned.communicate(timeout=300)
        assert server.stats()["requests"] == before  # it read the state and sent nothing
    assert planned.returncode == 0, err
    assert outputs.read_text() == "changes=false\nfailed=false\n"
