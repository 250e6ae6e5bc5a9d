"""Which state a command uses: bound to its manifest, found offline, sandbox beside it, --debug.

Issue 11, findings 10 (a state belongs to one manifest), 13 (the sandbox's folder follows
the state, whatever the working directory), 14 (offline state commands need no
--api-url; a target mismatch names the flag that fixes it) and 18 (--debug after the
command). The real CLI, real files, the in-process sandbox.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from testing.cli import SEED_MANIFEST, actions, kayse

OTHER_MANIFEST = """\
version: 1
contacts:
  juan:
    first_name: Juan
    last_name: Perez
    external_source: other
    external_source_id: crm_contact_77
"""


def recipes(tmp_path: Path) -> Path:
    (tmp_path / "a.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "b.yaml").write_text(OTHER_MANIFEST)
    return tmp_path


def test_a_state_of_another_manifest_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    recipes(tmp_path)
    first = kayse(["apply", "a.yaml", "--sandbox", "--state", "shared.json"], cwd=tmp_path)
    assert first.code == 0, first.stderr
    saved = (tmp_path / "shared.json").read_text()
    assert json.loads(saved)["manifest"] == "a.yaml"
    message = (
        "error: shared.json belongs to the manifest a.yaml, not b.yaml; give b.yaml a state "
        "of its own with --state, or, if b.yaml is a.yaml renamed or moved, add "
        "--allow-other-manifest once\n"
    )
    for command in (["apply"], ["plan"], ["state", "set"], ["state", "forget"], ["refresh"]):
        extra = ["juan", "5"] if command == ["state", "set"] else []
        extra = ["--unknown"] if command == ["state", "forget"] else extra
        run = kayse(
            [*command, "b.yaml", "--sandbox", "--state", "shared.json", *extra], cwd=tmp_path
        )
        assert (run.code, run.stderr) == (1, message), command
    assert (tmp_path / "shared.json").read_text() == saved


def test_a_renamed_manifest_takes_its_state_along_when_told(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(SEED_MANIFEST)
    assert kayse(["apply", "old.yaml", "--sandbox"], cwd=tmp_path).code == 0
    (tmp_path / "old.yaml").rename(tmp_path / "new.yaml")
    (tmp_path / "old.sandbox.state.json").rename(tmp_path / "new.sandbox.state.json")
    refused = kayse(["plan", "new.yaml", "--sandbox"], cwd=tmp_path)
    assert refused.code == 1
    assert "belongs to the manifest old.yaml, not new.yaml" in refused.stderr
    moved = kayse(
        ["apply", "new.yaml", "--sandbox", "--allow-other-manifest", "--output", "json"],
        cwd=tmp_path,
    )
    assert moved.code == 0, moved.stderr
    assert set(actions(moved).values()) == {"unchanged"}  # nothing created twice
    state = json.loads((tmp_path / "new.sandbox.state.json").read_text())
    assert state["manifest"] == "new.yaml"
    assert kayse(["plan", "new.yaml", "--sandbox"], cwd=tmp_path).code == 0


def test_the_binding_is_relative_so_a_checkout_elsewhere_and_another_cwd_agree(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "recipes").mkdir(parents=True)
    (repo / "recipes" / "a.yaml").write_text(SEED_MANIFEST)
    (repo / "state").mkdir()
    first = kayse(["apply", "recipes/a.yaml", "--sandbox", "--state", "state/a.json"], cwd=repo)
    assert first.code == 0, first.stderr
    assert json.loads((repo / "state" / "a.json").read_text())["manifest"] == "../recipes/a.yaml"
    clone = tmp_path / "ci-runner" / "checkout"
    shutil.copytree(repo, clone)
    again = kayse(
        ["plan", "a.yaml", "--sandbox", "--state", "../state/a.json", "--output", "json"],
        cwd=clone / "recipes",
    )
    assert again.code == 0, again.stderr
    assert set(actions(again).values()) == {"no-op"}


def test_a_state_written_before_the_binding_still_loads_and_gets_it(tmp_path: Path) -> None:
    recipes(tmp_path)
    assert kayse(["apply", "a.yaml", "--sandbox"], cwd=tmp_path).code == 0
    path = tmp_path / "a.sandbox.state.json"
    old = json.loads(path.read_text())
    del old["manifest"]
    path.write_text(json.dumps(old))
    run = kayse(["apply", "a.yaml", "--sandbox", "--output", "json"], cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert set(actions(run).values()) == {"unchanged"}
    assert json.loads(path.read_text())["manifest"] == "a.yaml"


URL_STATE = """\
{
  "format": "kayse-pipeline-state",
  "version": 1,
  "target": "http://127.0.0.1:9/v1",
  "salt": "0fdc95e5dde982d2",
  "records": {
    "maria": {"kind": "contact", "status": "unknown", "fingerprint": "x"}
  },
  "memberships": {}
}
"""


@pytest.mark.parametrize(
    "command",
    [
        ["state", "show", "seed.yaml"],
        ["state", "show", "seed.yaml", "--output", "json"],
        ["state", "set", "seed.yaml", "maria", "50"],
        ["state", "forget", "seed.yaml", "maria"],
        ["state", "forget", "seed.yaml", "--unknown"],
    ],
)
def test_offline_state_commands_need_no_api_url(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "seed.state.json").write_text(URL_STATE)
    run = kayse(command, cwd=tmp_path, key=None)  # neither $KAYSE_API_URL nor --api-url
    assert run.code == 0, run.stderr
    saved = json.loads((tmp_path / "seed.state.json").read_text())
    assert saved["target"] == "http://127.0.0.1:9/v1"  # the state keeps its own target


SANDBOX_STATE = URL_STATE.replace('"http://127.0.0.1:9/v1"', '"sandbox"')
DEFAULT = "https://public-api.kayse.ai/v1"


@pytest.mark.parametrize(
    ("state", "args", "message", "fix"),
    [
        (
            URL_STATE,
            [],
            f"error: s.json belongs to http://127.0.0.1:9/v1, not {DEFAULT}; give --api-url "
            f"http://127.0.0.1:9/v1 to use it, or --state another file to keep a state for "
            f"{DEFAULT}\n",
            ["--api-url", "http://127.0.0.1:9/v1"],
        ),
        (
            SANDBOX_STATE,
            [],
            f"error: s.json belongs to sandbox, not {DEFAULT}; add --sandbox to use it, or "
            f"--state another file to keep a state for {DEFAULT}\n",
            ["--sandbox"],
        ),
        (
            URL_STATE,
            ["--sandbox"],
            "error: s.json belongs to http://127.0.0.1:9/v1, not sandbox; drop --sandbox and "
            "give --api-url http://127.0.0.1:9/v1 to use it, or --state another file to keep "
            "a state for sandbox\n",
            ["--api-url", "http://127.0.0.1:9/v1"],
        ),
    ],
    ids=["url", "sandbox", "sandbox-for-url"],
)
def test_a_target_mismatch_names_the_flag_that_fixes_it(
    tmp_path: Path, state: str, args: list[str], message: str, fix: list[str]
) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    (tmp_path / "s.json").write_text(state)
    run = kayse(["plan", "seed.yaml", "--state", "s.json", *args], cwd=tmp_path, key=None)
    assert (run.code, run.stderr) == (1, message)
    fixed = kayse(["plan", "seed.yaml", "--state", "s.json", *fix], cwd=tmp_path, key=None)
    assert fixed.code == 0, fixed.stderr  # the flag the message names is the one that works


def test_the_sandbox_lives_beside_the_state_whatever_the_working_directory(
    tmp_path: Path,
) -> None:
    recipe = tmp_path / "recipes"
    recipe.mkdir()
    (recipe / "seed.yaml").write_text(SEED_MANIFEST)
    first = kayse(["apply", "recipes/seed.yaml", "--sandbox"], cwd=tmp_path)
    assert first.code == 0, first.stderr
    assert (recipe / ".kayse-sandbox").is_dir()
    assert not (tmp_path / ".kayse-sandbox").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    manifest = str(recipe / "seed.yaml")
    refresh = kayse(["refresh", manifest, "--sandbox", "--output", "json"], cwd=elsewhere)
    assert refresh.code == 0, refresh.stderr
    assert set(actions(refresh).values()) <= {"in-sync", "unconfirmed"}
    again = kayse(["apply", manifest, "--sandbox", "--output", "json"], cwd=elsewhere)
    assert set(actions(again).values()) == {"unchanged"}
    assert not (elsewhere / ".kayse-sandbox").exists()
    dump = kayse(["sandbox", "dump", "--dir", str(recipe / ".kayse-sandbox")], cwd=elsewhere)
    assert len(json.loads(dump.stdout)["clients"]) == 1


def test_kayse_sandbox_dir_still_chooses_the_folder(tmp_path: Path) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    env = {"KAYSE_SANDBOX_DIR": str(tmp_path / "mine")}
    run = kayse(["apply", "seed.yaml", "--sandbox"], cwd=tmp_path, env=env)
    assert run.code == 0, run.stderr
    assert (tmp_path / "mine").is_dir() and not (tmp_path / ".kayse-sandbox").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "apply", "seed.yaml", "--sandbox"],
        ["apply", "--debug", "seed.yaml", "--sandbox"],
        ["apply", "seed.yaml", "--sandbox", "--debug"],
    ],
    ids=["before", "after-command", "at-the-end"],
)
def test_debug_is_accepted_before_or_after_the_command(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    run = kayse(argv, cwd=tmp_path)
    assert run.code == 0, run.stderr
    assert "debug: POST /clients -> 201" in run.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["state", "show", "seed.yaml", "--debug"],
        ["validate", "seed.yaml", "--debug"],
        ["sandbox", "dump", "--debug", "--dir", "box"],
    ],
)
def test_every_command_takes_debug(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "seed.yaml").write_text(SEED_MANIFEST)
    run = kayse(argv, cwd=tmp_path)
    assert run.code == 0, run.stderr
