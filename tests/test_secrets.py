"""No command leaks the key or a lead's personal data, at any verbosity, in any output or file.

Every command registered in ``cli`` runs with and without ``--debug``, in text and JSON
where it has ``--output`` (plain text, plain JSON, debug text: the debug trace goes to
stderr whatever the output), with ``--junit`` where it has it, against a sandbox that
injects faults. Then stdout, stderr and every file written under the working folder are
searched for the key and for every name, phone, email, address and birth date of the
recipe. Two things legitimately hold personal data and are searched for the key only:
the manifests and data files themselves, and the sandbox (its database, and ``sandbox dump``, which
shows its records the way the Kayse app shows them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from kayse_pipeline.cli.main import cli
from testing.cli import Run, kayse, subcommands
from testing.sandbox import running_sandbox

KEY = "SECRET-KEY-7f3a9c"
WRONG_KEY = "WRONG-KEY-4b2e1d"
FAULTS = "429=0.05,500=0.05,503=0.05,lost=0.05,seed=11"
PERSONAL = (
    "Zephyrine",
    "Quillfeather",
    "Bartholomew",
    "Oakenshield",
    "Marigold",
    "Fennimore",
    "zephyrine.q@example.org",
    "b.oakenshield@example.org",
    "+15550199321",
    "5550199321",
    "+15550188442",
    "5550188442",
    "+15550177553",
    "1 Larkspur Way",
    "Thistlewood",
    "1961-07-14",
    "1961-02-30",
)

RECIPE = """\
version: 1
account: {case_types: [personal_injury], case_statuses: [active]}
defaults:
  contacts: {external_source: import}
  cases: {external_source: other, status: active, type: personal_injury}
contacts:
  lead_a:
    first_name: Zephyrine
    last_name: Quillfeather
    email: zephyrine.q@example.org
    mobile: "+15550199321"
    address_line1: 1 Larkspur Way
    city: Thistlewood
    date_of_birth: 1961-07-14
    external_source_id: sec_contact_a
  lead_b:
    first_name: Bartholomew
    last_name: Oakenshield
    email: b.oakenshield@example.org
    mobile: "+15550188442"
    external_source_id: sec_contact_b
  lead_c:
    first_name: Marigold
    last_name: Fennimore
    mobile: "+15550177553"
    external_source_id: sec_contact_c
cases:
  case_a: {case_number: SEC-1, external_source_id: sec_case_a, client_ids: [lead_a]}
  case_b: {case_number: SEC-2, external_source_id: sec_case_b, client_ids: [lead_b]}
  case_c: {case_number: SEC-3, external_source_id: sec_case_c, client_ids: [lead_c]}
lists:
  outreach:
    name: Secrets outreach
    include_ids: [case_a, case_b, case_c]
    client_ids: [lead_a]
campaigns:
  calls:
    name: Secrets calls
    agent_id: agent_secrets
    case_list_id: outreach
    runs:
      - {start_date: 2026-04-01, end_date: 2026-04-30, start_time: "09:00", end_time: "17:00"}
"""

# Personal data typed wrong: the messages must place the problem without quoting the value.
BAD_RECIPE = """\
version: 1
defaults:
  contacts: {external_source: import}
contacts:
  lead_a:
    first_name: [Zephyrine]
    last_name: Quillfeather
    mobile: 15550199321
    email: {address: zephyrine.q@example.org}
    date_of_birth: 1961-02-30
    external_source_id: sec_contact_a
"""

# The same leads as data rows: a good file and one whose rows are typed wrong.
ROWS_RECIPE = """\
version: 1
rows:
  leads:
    file: {file}
    contact:
      symbol: "row_{{id}}"
      first_name: "{{first}}"
      last_name: "{{last}}"
      mobile: "{{phone}}"
      date_of_birth: "{{dob}}"
      external_source: import
      external_source_id: "sec-row-{{id}}"
"""
ROWS = "id,first,last,phone,dob\n1,Zephyrine,Quillfeather,+15550199321,1961-07-14\n"
BAD_ROWS = "id,first,last,phone,dob\n1,Zephyrine,Quillfeather,+15550199321,1961-02-30\n"
INPUTS = {
    "recipe.yaml": RECIPE,
    "bad.yaml": BAD_RECIPE,
    "rows.yaml": ROWS_RECIPE.format(file="rows.csv"),
    "bad_rows.yaml": ROWS_RECIPE.format(file="bad_rows.csv"),
    "rows.csv": ROWS,
    "bad_rows.csv": BAD_ROWS,
}
MANIFESTS = ("recipe.yaml", "bad.yaml", "rows.yaml", "bad_rows.yaml")


def leaf_commands(
    group: click.Group = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every command a user can run, as its words: ('state', 'set'), ('apply',), ..."""
    for name, command in subcommands(group):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def params(words: Sequence[str]) -> set[str]:
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        command = dict(subcommands(command))[word]
    return {p.name for p in command.params if p.name}


@dataclass
class Leak:
    where: str
    needle: str


@dataclass
class Harness:
    """Runs commands in one folder, keeping every output for the search."""

    cwd: Path
    url: str = ""
    outputs: list[tuple[str, str, bool]] = field(default_factory=list)  # (where, text, pii?)
    covered: set[tuple[str, ...]] = field(default_factory=set)
    runs: int = 0

    def run(
        self,
        words: Sequence[str],
        args: Sequence[str],
        *,
        key: str | None = KEY,
        env: Mapping[str, str] | None = None,
        pii_allowed: bool = False,
        loudest_only: bool = False,
    ) -> Run:
        """The command with and without --debug, in text and JSON if it has --output."""
        known = params(words)
        variants: list[tuple[bool, str | None]] = [(False, "text"), (False, "json"), (True, "text")]
        if "output" not in known:
            variants = [(False, None), (True, None)]
        if loudest_only:  # a variation of a command already searched at every verbosity
            variants = [(True, "json" if "output" in known else None)]
        last: Run | None = None
        for debug, output in variants:
            extra = ["--output", output] if output else []
            if "junit" in known:
                extra += ["--junit", f"junit-{self.runs}.xml"]
            argv = [*(["--debug"] if debug else []), *words, *args, *extra]
            last = kayse(argv, cwd=self.cwd, url=self.url or None, key=key, env=env)
            self.runs += 1
            label = " ".join(argv)
            self.outputs.append((f"stdout of {label}", last.stdout, not pii_allowed))
            self.outputs.append((f"stderr of {label}", last.stderr, True))
        self.covered.add(tuple(words))
        assert last is not None
        return last

    def serve(self, *, debug: bool, env_key: bool) -> None:
        """``sandbox serve`` until it listens, then SIGTERM; the key from the env or --api-key."""
        argv = [*(["--debug"] if debug else []), "sandbox", "serve", "--port", "0"]
        argv += ["--dir", "serve-sandbox"] + ([] if env_key else ["--api-key", KEY])
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
        if env_key:
            env["KAYSE_API_KEY"] = KEY
        popen = subprocess.Popen(
            [sys.executable, "-m", "kayse_pipeline", *argv],
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert popen.stdout is not None
        first = popen.stdout.readline()
        popen.terminate()
        out, err = popen.communicate(timeout=20)
        assert first.startswith("kayse sandbox listening on"), err
        self.runs += 1
        self.outputs.append((f"stdout of {' '.join(argv)}", first + out, True))
        self.outputs.append((f"stderr of {' '.join(argv)}", err, True))
        self.covered.add(("sandbox", "serve"))

    def leaks(self, keys: Sequence[str], sandbox_dirs: Sequence[Path]) -> list[Leak]:
        """Every needle found in an output or in a file under the folder."""
        found: list[Leak] = []
        for where, text, check_pii in self.outputs:
            found += search(where, text.encode(), keys, PERSONAL if check_pii else ())
        for path in sorted(p for p in self.cwd.rglob("*") if p.is_file()):
            relative = path.relative_to(self.cwd)
            legit = relative.name in INPUTS or any(d in path.parents for d in sandbox_dirs)
            found += search(str(relative), path.read_bytes(), keys, () if legit else PERSONAL)
        return found


def search(where: str, data: bytes, keys: Sequence[str], personal: Sequence[str]) -> list[Leak]:
    lowered = data.lower()
    hits = [Leak(where, k) for k in keys if k.encode() in data]
    return hits + [Leak(where, p) for p in personal if p.lower().encode() in lowered]


def saved_ids(cwd: Path, name: str) -> dict[str, int]:
    records = json.loads((cwd / name).read_text())["records"]
    return {s: r["id"] for s, r in records.items() if r.get("id") is not None}


# Which commands each test runs; together they must be every command the CLI has.
EXERCISED: dict[str, set[tuple[str, ...]]] = {
    "apply": {("validate",), ("plan",), ("apply",)},
    "state": {
        ("apply",),
        ("plan",),
        ("refresh",),
        ("state", "show"),
        ("state", "set"),
        ("state", "forget"),
        ("state", "fold"),
        ("import",),
        ("doctor",),
    },
    "teardown": {
        ("apply",),
        ("plan",),
        ("destroy",),
        ("sandbox", "dump"),
        ("sandbox", "reset"),
        ("sandbox", "serve"),
    },
    "init": {("init",)},
}


def prepare(tmp_path: Path) -> Harness:
    for name, text in INPUTS.items():
        (tmp_path / name).write_text(text)
    return Harness(tmp_path)


def assert_no_leak(h: Harness, sandbox_dirs: Sequence[Path], test: str) -> None:
    assert h.covered == EXERCISED[test]
    leaks = h.leaks([KEY, WRONG_KEY], sandbox_dirs)
    assert [f"{leak.where}: {leak.needle}" for leak in leaks] == []
    print(f"\nsecrets[{test}]: {len(h.covered)} commands, {h.runs} runs searched, no leak")


def test_every_command_is_searched() -> None:
    assert set().union(*EXERCISED.values()) == set(leaf_commands()), "add it to a test below"


def test_validate_plan_and_apply_leak_nothing(tmp_path: Path) -> None:
    h = prepare(tmp_path)
    with running_sandbox(tmp_path, faults=FAULTS, api_key=KEY) as server:
        h.url = server.url
        h.run(["validate"], MANIFESTS)
        h.run(["plan"], ["recipe.yaml"])
        h.run(["apply"], ["bad.yaml"])
        h.run(["apply"], ["bad_rows.yaml"])
        h.run(["apply"], ["rows.yaml"], loudest_only=True)
        h.run(["apply"], ["recipe.yaml", "--batch-size", "2"])
        h.run(["plan"], ["recipe.yaml"], loudest_only=True)  # with the unknowns to explain
        pasted_badly = f" {KEY}\n"
        h.run(["apply"], ["recipe.yaml"], key=pasted_badly, loudest_only=True)
        wrong = ["recipe.yaml", "--state", "wrong.state.json"]
        h.run(["apply"], wrong, key=WRONG_KEY, loudest_only=True)
        assert sum(server.stats()["faults"].values()) > 0
    assert_no_leak(h, [server.dir], "apply")


def test_refresh_state_and_import_leak_nothing(tmp_path: Path) -> None:
    h = prepare(tmp_path)
    with running_sandbox(tmp_path, faults=FAULTS, api_key=KEY) as server:
        h.url = server.url
        h.run(["apply"], ["recipe.yaml", "--batch-size", "2"], loudest_only=True)
        h.run(["plan"], ["recipe.yaml", "--refresh"])
        h.run(["refresh"], ["recipe.yaml"])
        h.run(["state", "show"], ["recipe.yaml"])
        symbol, record_id = min(saved_ids(tmp_path, "recipe.state.json").items())
        h.run(["state", "set"], ["recipe.yaml", symbol, str(record_id)])
        h.run(["state", "forget"], ["recipe.yaml", symbol])
        h.run(["import"], ["recipe.yaml", symbol, str(record_id)])
        h.run(["state", "forget"], ["recipe.yaml", "--unknown"])
        h.run(["doctor"], ["recipe.yaml"])
        h.run(["doctor"], ["recipe.yaml"], key=WRONG_KEY, loudest_only=True)
        h.run(["state", "fold"], ["recipe.state.json"])
        assert sum(server.stats()["faults"].values()) > 0
    assert_no_leak(h, [server.dir], "state")


def test_teardown_and_sandbox_commands_leak_nothing(tmp_path: Path) -> None:
    h = prepare(tmp_path)
    in_process = {"KAYSE_SANDBOX_DIR": str(tmp_path / "inprocess-sandbox")}
    with running_sandbox(tmp_path, faults=FAULTS, api_key=KEY) as server:
        h.url = server.url
        h.run(["apply"], ["recipe.yaml"])
        h.run(["plan"], ["recipe.yaml", "--destroy"])
        h.run(["destroy"], ["recipe.yaml", "--yes"])
        h.run(["sandbox", "dump"], ["--dir", str(server.dir)], pii_allowed=True)
    # The in-process emulator: no key at all, its own state file.
    h.run(["apply"], ["recipe.yaml", "--sandbox"], key=None, env=in_process)
    h.run(["sandbox", "dump"], [], key=None, env=in_process, pii_allowed=True)
    h.run(["sandbox", "reset"], [], key=None, env=in_process)
    for debug in (False, True):
        for env_key in (False, True):
            h.serve(debug=debug, env_key=env_key)
    sandbox_dirs = [server.dir, tmp_path / "inprocess-sandbox", tmp_path / "serve-sandbox"]
    assert_no_leak(h, sandbox_dirs, "teardown")


def test_init_leaks_nothing(tmp_path: Path) -> None:
    h = prepare(tmp_path)
    h.run(["init"], ["repo", "--from-csv", "rows.csv"])  # writes, then refuses to overwrite
    assert (tmp_path / "repo" / "recipes" / "leads.yaml").is_file()
    assert_no_leak(h, [], "init")
