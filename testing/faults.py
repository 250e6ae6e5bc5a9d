"""Fault drills shared by the soak and kill tests and their benchmarks.

A lead recipe of N contacts and cases, one list of every case and contact, and one
campaign; a person who resolves unknown records by looking in the sandbox, the way a
user looks in Kayse; and the audit that every record exists exactly once with its ID
saved.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kayse_pipeline.errors import StateError
from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.run.apply import plan
from kayse_pipeline.run.session import Options
from kayse_pipeline.state import StateStore
from testing.cli import Run, kayse
from testing.sandbox import TEST_KEY
from testing.sandbox_process import SandboxProcess, sandbox_process

# About 10% of answers 429 / 500 / 503 and 5% lost, as the issue asks.
SOAK_FAULTS = "429=0.034,500=0.033,503=0.033,lost=0.05"
DUMP_KEYS = {"contact": "clients", "case": "cases", "list": "case_lists", "campaign": "campaigns"}


def lead_recipe(leads: int, tag: str) -> str:
    """A manifest of ``leads`` contacts and cases, one list of them all, one campaign."""
    out = [
        "version: 1",
        "account: {case_types: [personal_injury], case_statuses: [active]}",
        "defaults:",
        "  contacts: {external_source: import}",
        "  cases: {external_source: other, status: active, type: personal_injury}",
        "contacts:",
    ]
    for i in range(leads):
        out += [
            f"  lead_{i:04d}:",
            f"    first_name: Lead{i:04d}",
            f"    last_name: Soak{tag}",
            f"    email: lead{i}.{tag}@example.com",
            f'    mobile: "+1555{i:07d}"',
            f"    external_source_id: {tag}_contact_{i}",
        ]
    out.append("cases:")
    for i in range(leads):
        out += [
            f"  case_{i:04d}:",
            f"    case_number: {tag.upper()}-{i:05d}",
            f"    external_source_id: {tag}_case_{i}",
            f"    client_ids: [lead_{i:04d}]",
        ]
    out += [
        "lists:",
        "  outreach:",
        f"    name: Outreach {tag}",
        "    external_source: other",
        f"    external_source_id: {tag}_list",
        "    include_ids: [" + ", ".join(f"case_{i:04d}" for i in range(leads)) + "]",
        "    client_ids: [" + ", ".join(f"lead_{i:04d}" for i in range(leads)) + "]",
        "campaigns:",
        "  calls:",
        f"    name: Calls {tag}",
        "    agent_id: agent_soak",
        "    case_list_id: outreach",
        "    runs:",
        '      - {start_date: 2026-04-01, end_date: 2026-04-30, start_time: "09:00", '
        'end_time: "17:00"}',
        "",
    ]
    return "\n".join(out)


def lookup_key(kind: str, record: Mapping[str, Any]) -> Any:
    """What a person searches Kayse for: the external ID, or a campaign's name."""
    return record.get("name") if kind == "campaign" else record.get("external_source_id")


@dataclass
class Audit:
    """Whether every record of a recipe exists exactly once in the sandbox, its ID saved."""

    created: int = 0
    duplicates: int = 0
    lost_ids: int = 0
    missing: int = 0
    members_missing: int = 0

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.lost_ids or self.missing or self.members_missing)


def audit(dump: Mapping[str, list[dict[str, Any]]], state_file: Path, leads: int) -> Audit:
    """Count duplicates (same external ID twice), lost IDs (no symbol, or a dangling ID)."""
    saved = json.loads(state_file.read_text())["records"]
    result = Audit()
    for kind, table in DUMP_KEYS.items():
        rows = dump[table]
        result.created += len(rows)
        keys = Counter(lookup_key(kind, row) for row in rows)
        result.duplicates += sum(n - 1 for n in keys.values() if n > 1)
        ids = {row["id"] for row in rows}
        mine = {entry.get("id") for entry in saved.values() if entry["kind"] == kind}
        result.lost_ids += len(ids - mine) + len(mine - ids - {None})
    expected = 2 * leads + 2
    result.missing = max(0, expected - result.created + result.duplicates)
    if dump["case_lists"]:
        attached = set(dump["case_lists"][0].get("case_ids") or [])
        result.members_missing = len({row["id"] for row in dump["cases"]} - attached)
    return result


def state_readable(state_file: Path, target: str) -> bool:
    """Whether the state (file and journal) loads, as the next run would load it."""
    try:
        StateStore.open(state_file, target, lock=False)
    except StateError:
        return False
    return True


@dataclass
class Resolution:
    """What the person decided: IDs recorded with ``state set``, symbols forgotten."""

    set: int = 0
    forgotten: int = 0


def resolve_unknowns(
    cwd: Path,
    manifest: str,
    url: str,
    dump: Mapping[str, list[dict[str, Any]]],
    *,
    look: bool = True,
) -> Resolution:
    """Look every unknown record up in the sandbox; ``state set`` the found, forget the rest.

    ``look=False`` reads the unknown symbols from the state directly instead of running
    ``state show`` (the same answer, a process less).
    """
    if look:
        shown = kayse(["state", "show", manifest, "--output", "json"], cwd=cwd, url=url)
        assert shown.code == 0, shown.stderr
        rows = shown.json()["records"]
    else:
        state = StateStore.open(cwd / manifest.replace(".yaml", ".state.json"), url, lock=False)
        rows = [{"symbol": s, "kind": r.kind, "status": r.status} for s, r in state.records.items()]
    unknown = [r for r in rows if r["status"] == "unknown"]
    if not unknown:
        return Resolution()
    records = load_manifest(cwd / manifest).records
    pairs: list[str] = []
    forget: list[str] = []
    for record in unknown:
        symbol, kind = record["symbol"], record["kind"]
        wanted = lookup_key(kind, records[symbol].fields)
        matches = [row for row in dump[DUMP_KEYS[kind]] if lookup_key(kind, row) == wanted]
        if matches:
            pairs += [symbol, str(matches[0]["id"])]
        else:
            forget.append(symbol)
    for args in (["set", *pairs] if pairs else []), (["forget", *forget] if forget else []):
        if args:
            done = kayse(["state", args[0], manifest, *args[1:]], cwd=cwd, url=url)
            assert done.code == 0, done.stderr
    return Resolution(len(pairs) // 2, len(forget))


@dataclass
class Drill:
    """One recipe driven to convergence against one sandbox server."""

    runs: int = 0
    resolved: Resolution = field(default_factory=Resolution)
    exits: Counter[int] = field(default_factory=Counter)
    last: Run | None = None


def converge(
    server: SandboxProcess,
    cwd: Path,
    manifest: str,
    *,
    batch_size: int = 20,
    max_runs: int = 40,
    drill: Drill | None = None,
) -> Drill:
    """Apply until exit 0, resolving unknowns after each run, as a careful user would."""
    drill = drill or Drill()
    for _ in range(max_runs):
        run = kayse(
            ["apply", manifest, "--batch-size", str(batch_size), "--output", "json"],
            cwd=cwd,
            url=server.url,
        )
        drill.runs += 1
        drill.exits[run.code] += 1
        drill.last = run
        if run.code == 0:
            return drill
        assert run.code == 1, run.stderr
        step = resolve_unknowns(cwd, manifest, server.url, server.dump())
        drill.resolved.set += step.set
        drill.resolved.forgotten += step.forgotten
    raise AssertionError(f"no convergence after {max_runs} runs; last stderr:\n{run.stderr}")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class SoakResult:
    """One seed of the soak: what it met and whether every record exists exactly once."""

    seed: int
    drill: Drill
    faults: dict[str, int]
    audit: Audit
    final_requests: int
    requests: int = 0  # every request the sandbox answered, faults included


def soak(tmp: Path, seed: int, *, leads: int, batch_size: int, faults: str) -> SoakResult:
    """Apply a ``leads`` recipe against a faulty ``sandbox serve`` until it converges."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "leads.yaml").write_text(lead_recipe(leads, f"s{seed}"))
    with sandbox_process(tmp / "sandbox", rate_limit="off", faults=f"{faults},seed={seed}") as sb:
        drill = converge(sb, tmp, "leads.yaml", batch_size=batch_size)
        again = kayse(["apply", "leads.yaml", "--output", "json"], cwd=tmp, url=sb.url)
        assert again.code == 0, again.stderr
        stats = sb.stats()
        result = audit(sb.dump(), tmp / "leads.state.json", leads)
    return SoakResult(
        seed, drill, dict(stats["faults"]), result, again.json()["requests"], stats["requests"]
    )


@dataclass
class KillResult:
    """One kill drill: applies started, killed, states that would not load, and the audit."""

    seed: int
    leads: int = 0
    applies: int = 0
    kills: int = 0
    unreadable: int = 0
    resolved: Resolution = field(default_factory=Resolution)
    requests_at_kill: list[int] = field(default_factory=list)
    audit: Audit = field(default_factory=Audit)


def kill_drill(
    tmp: Path,
    seed: int,
    *,
    leads: int,
    kills: int,
    batch_size: int = 10,
    slow_seconds: float = 0.03,
) -> KillResult:
    """SIGKILL ``apply`` at random moments, resolve what it left unknown, and go on.

    Each kill comes a random moment after a random request of the run (of those its plan
    counts) reached the sandbox, which answers every request slowly: so a kill lands
    anywhere, before a create is sent, while Kayse has made the records but not answered,
    between the answer and the journal, during the final save. When little work is left,
    the recipe grows by some leads, so that the next apply has work to be killed in.
    """
    rng = random.Random(seed)
    result = KillResult(seed, leads=leads)
    tmp.mkdir(parents=True, exist_ok=True)
    manifest = tmp / "leads.yaml"
    manifest.write_text(lead_recipe(result.leads, f"k{seed}"))
    faults = f"slow=1,slow_seconds={slow_seconds}"
    with sandbox_process(tmp / "sandbox", rate_limit="off", faults=faults) as sb:
        target = sb.url
        while result.kills < kills:
            pending = planned_requests(tmp, manifest.name, sb.url, batch_size)
            if pending < 4:
                result.leads += 2 * batch_size
                manifest.write_text(lead_recipe(result.leads, f"k{seed}"))
                continue
            before = sb.stats()["requests"]
            child = spawn(["apply", manifest.name, "--batch-size", str(batch_size)], tmp, sb.url)
            result.applies += 1
            chosen = rng.randint(1, pending)
            while child.poll() is None and sb.stats()["requests"] - before < chosen:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 2 * slow_seconds))
            if child.poll() is not None:
                continue  # it finished first: the next round plans again
            child.send_signal(signal.SIGKILL)
            child.wait()
            result.kills += 1
            result.requests_at_kill.append(sb.stats()["requests"] - before)
            if not state_readable(tmp / "leads.state.json", target):
                result.unreadable += 1
                break  # a person could not go on either
            step = resolve_unknowns(tmp, manifest.name, sb.url, sb.dump(), look=False)
            result.resolved.set += step.set
            result.resolved.forgotten += step.forgotten
        if result.unreadable:
            return result
        drill = converge(sb, tmp, manifest.name, batch_size=batch_size)
        result.applies += drill.runs
        result.resolved.set += drill.resolved.set
        result.resolved.forgotten += drill.resolved.forgotten
        result.audit = audit(sb.dump(), tmp / "leads.state.json", result.leads)
    return result


def planned_requests(cwd: Path, manifest: str, url: str, batch_size: int) -> int:
    """How many requests the next apply would send (``plan``, in this process)."""
    options = Options(cwd / manifest, api_url=url, batch_size=batch_size, env={})
    return plan(options).plan.requests


def spawn(args: Sequence[str], cwd: Path, url: str) -> subprocess.Popen[bytes]:
    """``kayse-pipeline ARGS`` as a child process that the caller may kill."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env |= {"KAYSE_API_URL": url, "KAYSE_API_KEY": TEST_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "kayse_pipeline", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
