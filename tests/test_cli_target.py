"""--target on plan and apply: a record and what it depends on, nothing else."""

from __future__ import annotations

from pathlib import Path

from testing.cli import SEED_MANIFEST, actions, kayse
from testing.lifecycle import write
from testing.sandbox_process import SandboxProcess


def test_apply_target_creates_the_record_and_what_it_needs(
    tmp_path: Path, server: SandboxProcess
) -> None:
    write(tmp_path, SEED_MANIFEST)
    plan = kayse(
        ["plan", "seed.yaml", "--target", "garcia_auto", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert plan.code == 0, plan.stderr
    assert actions(plan) == {"maria": "create", "garcia_auto": "create"}
    assert plan.json()["requests"] == 2

    run = kayse(
        ["apply", "seed.yaml", "--target", "garcia_auto", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert run.code == 0, run.stderr
    assert actions(run) == {"maria": "created", "garcia_auto": "created"}
    dump = server.dump()
    assert [len(dump[k]) for k in ("clients", "cases", "case_lists", "campaigns")] == [1, 1, 0, 0]

    # A list's members are what it depends on: targeting it brings them along, done already.
    run = kayse(
        ["apply", "seed.yaml", "--target", "q2_pi", "--output", "json"],
        cwd=tmp_path,
        url=server.url,
    )
    assert actions(run) == {"maria": "unchanged", "garcia_auto": "unchanged", "q2_pi": "created"}
    assert run.json()["membership_changes"] == [
        "list q2_pi: attach 1 case(s)",
        "list q2_pi: append 1 contact(s)",
    ]
    assert server.dump()["campaigns"] == []


def test_an_unknown_target_is_an_error(tmp_path: Path, server: SandboxProcess) -> None:
    write(tmp_path, SEED_MANIFEST)
    for command in ("plan", "apply", "destroy"):
        run = kayse([command, "seed.yaml", "--target", "garcia_autp"], cwd=tmp_path, url=server.url)
        assert (run.code, run.stderr) == (
            1,
            "error: --target: 'garcia_autp' is not a symbol of seed.yaml "
            "(did you mean 'garcia_auto'?)\n",
        )
    assert server.stats()["requests"] == 0
