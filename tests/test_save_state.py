"""``ci/save-state.sh`` against a local bare remote: every ID lands, or stays safe locally.

Each drill ends with an apply from a fresh clone of the remote, which must create nothing
that already exists in the sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from testing.faults import lead_recipe
from testing.sandbox import running_sandbox
from testing.sandbox_process import SandboxProcess
from testing.stop import signalled_apply

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "ci" / "save-state.sh"
TOOL = Path(sys.executable).with_name("kayse-pipeline")
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=os.environ | GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def clone(remote: Path, to: Path) -> Path:
    git(remote.parent, "clone", "--quiet", str(remote), str(to))
    git(to, "config", "user.name", "Test Runner")
    git(to, "config", "user.email", "runner@example.com")
    return to


def recipes_repo(tmp_path: Path, *names: str) -> Path:
    """A bare remote whose main holds one small recipe per name, and no state yet."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    seed = clone(remote, tmp_path / "seed")
    git(seed, "checkout", "--quiet", "-b", "main")
    for name in names:
        (seed / f"{name}.yaml").write_text(lead_recipe(8, name))
    (seed / ".gitignore").write_text("*.state.json.journal\n*.lock\n*.pid\n")
    git(seed, "add", ".")
    git(seed, "commit", "--quiet", "-m", "recipes")
    git(seed, "push", "--quiet", "origin", "main")
    return remote


def save(cwd: Path, *files: str, attempts: int = 6) -> subprocess.CompletedProcess[str]:
    env = os.environ | GIT_ENV
    env |= {"KAYSE_PIPELINE": str(TOOL), "KAYSE_SAVE_BACKOFF": "1"}
    env["KAYSE_SAVE_ATTEMPTS"] = str(attempts)
    return subprocess.run(
        ["bash", str(SCRIPT), *files], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def apply(server: SandboxProcess, cwd: Path, manifest: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env |= {"KAYSE_API_URL": server.url, "KAYSE_API_KEY": server.api_key}
    done = subprocess.run(
        [str(TOOL), "apply", manifest, "--output", "json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def created_twice(server: SandboxProcess) -> int:
    dump = server.dump()
    keys = Counter(row.get("external_source_id") for row in dump["clients"] + dump["cases"])
    return sum(n - 1 for n in keys.values() if n > 1)


def fresh_apply_creates_nothing(
    server: SandboxProcess, remote: Path, tmp: Path, *names: str
) -> None:
    fresh = clone(remote, tmp / "fresh")
    before = {k: len(v) for k, v in server.dump().items()}
    for name in names:
        result = apply(server, fresh, f"{name}.yaml")
        records = result["records"]
        assert isinstance(records, list)
        assert not [r for r in records if r["action"] == "created"], name
    assert {k: len(v) for k, v in server.dump().items()} == before
    assert created_twice(server) == 0


def test_an_unrelated_commit_pushed_during_the_apply(tmp_path: Path) -> None:
    remote = recipes_repo(tmp_path, "leads")
    runner = clone(remote, tmp_path / "runner")
    other = clone(remote, tmp_path / "other")
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=0.3") as server:
        env = os.environ | {"KAYSE_API_URL": server.url, "KAYSE_API_KEY": server.api_key}
        child = subprocess.Popen(
            [str(TOOL), "apply", "leads.yaml", "--batch-size", "2"],
            cwd=runner,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (other / "README.md").write_text("someone else's change\n")
        git(other, "add", "README.md")
        git(other, "commit", "--quiet", "-m", "unrelated")
        git(other, "push", "--quiet", "origin", "main")
        assert child.wait(timeout=300) == 0
        saved = save(runner)
        assert saved.returncode == 0, saved.stderr
        assert "push refused (attempt 1 of 6)" in saved.stderr
        log = git(remote, "log", "--format=%s", "main")
        assert log.splitlines() == ["kayse-pipeline: save state [skip ci]", "unrelated", "recipes"]
        server.set_faults("off")
        fresh_apply_creates_nothing(server, remote, tmp_path, "leads")


def test_an_apply_killed_before_the_save(tmp_path: Path) -> None:
    remote = recipes_repo(tmp_path, "leads")
    runner = clone(remote, tmp_path / "runner")
    with running_sandbox(tmp_path, faults="slow=1,slow_seconds=0.3") as server:
        killed = signalled_apply(
            server,
            runner,
            after_requests=3,
            signals=(signal.SIGKILL,),
            batch_size=2,
            command=("apply", "leads.yaml"),
        )
        assert killed.journal_left
        saved = save(runner)
        assert saved.returncode == 0, saved.stderr
        assert not (runner / "leads.state.json.journal").exists()
        committed = json.loads(git(remote, "show", "main:leads.state.json"))["records"]
        # Every ID the sandbox handed out is in the committed state (or the record is unknown).
        ids = {(r["kind"], r["id"]) for r in committed.values() if "id" in r}
        dump = server.dump()
        made = {("contact", c["id"]) for c in dump["clients"]} | {
            ("case", c["id"]) for c in dump["cases"]
        }
        unknown = sum(1 for r in committed.values() if r.get("status") == "unknown")
        assert ids <= made and len(made - ids) <= unknown
        server.set_faults("off")
        fresh_apply_creates_nothing_but_the_rest(server, remote, tmp_path)


def fresh_apply_creates_nothing_but_the_rest(
    server: SandboxProcess, remote: Path, tmp: Path
) -> None:
    """After a kill: the fresh clone creates only what was never created, never a twin."""
    fresh = clone(remote, tmp / "fresh")
    apply(server, fresh, "leads.yaml")
    assert created_twice(server) == 0


def test_two_saves_racing(tmp_path: Path) -> None:
    remote = recipes_repo(tmp_path, "east", "west")
    east = clone(remote, tmp_path / "east")
    west = clone(remote, tmp_path / "west")
    with running_sandbox(tmp_path) as server:
        apply(server, east, "east.yaml")
        apply(server, west, "west.yaml")
        env = os.environ | GIT_ENV | {"KAYSE_PIPELINE": str(TOOL), "KAYSE_SAVE_BACKOFF": "1"}
        racers = [
            subprocess.Popen(
                ["bash", str(SCRIPT)], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True
            )
            for cwd in (east, west)
        ]
        results = [(p.wait(timeout=300), p.communicate()[1]) for p in racers]
        assert [code for code, _ in results] == [0, 0], results
        files = git(remote, "ls-tree", "--name-only", "main").split()
        assert {"east.state.json", "west.state.json"} <= set(files)
        fresh_apply_creates_nothing(server, remote, tmp_path, "east", "west")


def test_a_remote_that_refuses_every_push(tmp_path: Path) -> None:
    remote = recipes_repo(tmp_path, "leads")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are disabled' >&2\nexit 1\n")
    hook.chmod(0o755)
    runner = clone(remote, tmp_path / "runner")
    with running_sandbox(tmp_path) as server:
        apply(server, runner, "leads.yaml")
        state = (runner / "leads.state.json").read_text()
        saved = save(runner, attempts=3)
        assert saved.returncode == 1
        assert "could not push the state to origin/main after 3 attempts" in saved.stderr
        assert "leads.state.json" in saved.stderr.splitlines()[-1]
        # Nothing lost locally: the file as it was, committed on the local branch.
        assert (runner / "leads.state.json").read_text() == state
        assert git(runner, "show", "HEAD:leads.state.json") == state
        assert "leads.state.json" not in git(remote, "ls-tree", "--name-only", "main").split()
        hook.unlink()  # the remote is fixed: the same script delivers the local commit
        again = save(runner)
        assert again.returncode == 0, again.stderr
        fresh_apply_creates_nothing(server, remote, tmp_path, "leads")


def test_the_same_state_changed_on_the_remote_is_never_merged_by_guess(tmp_path: Path) -> None:
    remote = recipes_repo(tmp_path, "leads")
    runner = clone(remote, tmp_path / "runner")
    other = clone(remote, tmp_path / "other")
    with running_sandbox(tmp_path) as server:
        apply(server, runner, "leads.yaml")
        (other / "leads.state.json").write_text((runner / "leads.state.json").read_text() + " ")
        git(other, "add", "leads.state.json")
        git(other, "commit", "--quiet", "-m", "a concurrent apply's state")
        git(other, "push", "--quiet", "origin", "main")
        state = (runner / "leads.state.json").read_text()
        saved = save(runner)
    assert saved.returncode == 1
    assert "the remote changed the same state file(s) (leads.state.json)" in saved.stderr
    assert (runner / "leads.state.json").read_text() == state
    assert git(runner, "log", "-1", "--format=%s") == "kayse-pipeline: save state [skip ci]\n"
    assert not (runner / ".git" / "rebase-merge").exists()
