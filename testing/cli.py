"""Run the real CLI as a subprocess, the way users and CI do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from testing.sandbox import TEST_KEY

SEED_MANIFEST = """\
version: 1
account:
  case_types: [personal_injury]
  case_statuses: [active]
defaults:
  contacts: {external_source: other}
  cases: {external_source: other}
contacts:
  maria:
    first_name: Maria
    last_name: Garcia
    email: maria.garcia@example.com
    mobile: "+15125550101"
    external_source_id: crm_contact_901
cases:
  garcia_auto:
    case_number: PI-2026-042
    name: Garcia - Auto Accident
    status: active
    type: personal_injury
    external_source_id: crm_case_555
    client_ids: [maria]
lists:
  q2_pi:
    name: Q2 Personal Injury Outreach
    description: PI prospects for the Q2 campaign
    include_ids: [garcia_auto]
    client_ids: [maria]
campaigns:
  q2_outreach:
    name: Q2 PI Outreach
    agent_id: agent_quickstart
    case_list_id: q2_pi
    runs:
      - {start_date: 2026-04-01, end_date: 2026-04-30, start_time: "09:00", end_time: "17:00"}
"""


@dataclass
class Run:
    """A finished CLI process."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def kayse(
    args: Sequence[str],
    *,
    cwd: Path,
    url: str | None = None,
    key: str | None = TEST_KEY,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    max_memory: int | None = None,
) -> Run:
    """``kayse-pipeline ARGS`` in a child process, pointed at a sandbox URL when given.

    ``max_memory`` caps the child's address space (POSIX), so that a run that would read
    without bound fails instead of taking the machine.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    if url is not None:
        child_env["KAYSE_API_URL"] = url
    if key is not None:
        child_env["KAYSE_API_KEY"] = key
    child_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=None if max_memory is None else lambda: _cap_memory(max_memory),
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _cap_memory(limit: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def actions(run: Run) -> dict[str, str]:
    """symbol -> action from a ``--output json`` document."""
    return {r["symbol"]: r["action"] for r in run.json()["records"]}


def subcommands(group: click.Group) -> list[tuple[str, click.Command]]:
    """A group's commands by name, loading each as ``--help`` and completion would."""
    ctx = click.Context(group)
    found = [(name, group.get_command(ctx, name)) for name in group.list_commands(ctx)]
    return sorted((name, command) for name, command in found if command is not None)
