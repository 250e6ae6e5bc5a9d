"""Bulk lead import: requests, time and memory of `apply` for N leads from a CSV.

Run: ``.venv/bin/python benchmarks/bench_import.py`` (all three parts), or one part:

- ``--sizes 100 1000 10000``: per N, a CSV of N leads and a manifest (every row's case on
  one list, one campaign) applied by the real CLI in a child process against a real
  ``sandbox serve`` (rate limit off). Requests are the server's own count; wall and CPU
  time and peak RSS are the apply process's own (``os.wait4``).
- ``--local 100000``: parse, validate and plan N rows in this process (no request sent).
- ``--paced``: an import that needs several windows of a small budget (``--rate-limit
  40/3``), which must finish with zero 429 answers.

Exits 1 when a target is missed: more requests than 3*ceil(N/B)+2 or more than 2 reads,
local work over 20 s or 300 MB, or any 429.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.plan.apply import make_plan
from kayse_pipeline.state import StateStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testing.imports import write_import
from testing.sandbox_process import SandboxProcess, sandbox_process

HOURLY_BUDGET = 500
LOCAL_SECONDS, LOCAL_MB = 20.0, 300.0


def minimum(n: int, batch: int) -> int:
    """Contacts and cases in bulk batches, the list, attach batches, the campaign."""
    per = math.ceil(n / batch)
    return 2 * per + per + 2


def one_by_one(n: int) -> int:
    """The seed guide's flow per lead (contact, case, attach), plus the list and the campaign."""
    return 3 * n + 2


def run_child(args: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, Any]:
    """Run ``kayse-pipeline ARGS``; return its exit code, stdout and its own rusage."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "kayse_pipeline", *args],
            cwd=cwd,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 2):
        sys.stderr.write(err.read_text())
    return child.returncode, out.read_text(), usage


def child_env(server: SandboxProcess) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env.update(KAYSE_API_URL=server.url, KAYSE_API_KEY=server.api_key)
    return env


def reads_and_429s(stats: dict[str, Any]) -> tuple[int, int]:
    reads = sum(n for key, n in stats["by_endpoint"].items() if key.startswith("GET "))
    return reads, int(stats["by_status"].get("429", 0))


def http_table(sizes: Sequence[int], batch: int) -> bool:
    """Apply N leads for each size against `sandbox serve`; print the table; True if all fit."""
    print(f"## apply over HTTP (`sandbox serve --rate-limit off`, --batch-size {batch})\n")
    print(
        "| N leads | requests sent | minimum 3⌈N/B⌉+2 | one-by-one 3N+2 | reads | 429s "
        "| at 500/h: sent / one-by-one | wall s | CPU s | peak RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    ok = True
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_import(folder, n)
            with sandbox_process(folder / "sandbox", rate_limit="off") as server:
                args = ["apply", "leads.yaml", "--batch-size", str(batch), "--output", "json"]
                started = time.perf_counter()
                code, stdout, usage = run_child(args, folder, child_env(server))
                wall = time.perf_counter() - started
                stats = server.stats()
        reported = json.loads(stdout)["requests"] if stdout else -1
        sent = int(stats["requests"])
        reads, rejected = reads_and_429s(stats)
        fits = code == 0 and reported == sent <= minimum(n, batch) and reads <= 2 and not rejected
        ok = ok and fits
        hours = f"{_hours(sent)} / {_hours(one_by_one(n))}"
        print(
            f"| {n:,} | {sent:,} | {minimum(n, batch):,} | {one_by_one(n):,} | {reads} "
            f"| {rejected} | {hours} | {wall:.2f} | {usage.ru_utime + usage.ru_stime:.2f} "
            f"| {usage.ru_maxrss / 1024:.0f} |" + ("" if fits else " **MISSED**")
        )
    print()
    return ok


def _hours(requests: int) -> str:
    """How long a number of requests takes at Kayse's budget of 500 an hour."""
    return f"{requests / HOURLY_BUDGET:.1f} h"


def local(n: int, batch: int) -> bool:
    """Parse, validate and plan N rows in this process; print seconds and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_import(folder, n)
        size_mb = (folder / "leads.csv").stat().st_size / 1e6
        cpu = time.process_time()
        started = time.perf_counter()
        manifest = load_manifest(path, env={})
        loaded = time.perf_counter()
        state = StateStore.open(folder / "leads.state.json", "sandbox", lock=False)
        plan = make_plan(manifest, state, batch_size=batch)
        planned = time.perf_counter()
        cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1e6 if sys.platform == "darwin" else 1024)
    total = planned - started
    fits = total < LOCAL_SECONDS and peak_mb < LOCAL_MB
    print(f"## local work: parse + validate + plan ({size_mb:.1f} MB of CSV)\n")
    head = "| rows | records | parse + validate s | plan s | total s | CPU s | peak RSS MB |"
    print(head + " requests |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {n:,} | {len(manifest.records):,} | {loaded - started:.2f} | {planned - loaded:.2f} "
        f"| {total:.2f} | {cpu:.2f} | {peak_mb:.0f} | {plan.requests:,} |"
        + ("" if fits else f" **MISSED** ({LOCAL_SECONDS:.0f} s, {LOCAL_MB:.0f} MB)")
    )
    print()
    return fits


def paced(n: int, batch: int, rate: str) -> bool:
    """An import that needs several windows of a small budget: it must see zero 429s."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_import(folder, n)
        with sandbox_process(folder / "sandbox", rate_limit=rate) as server:
            args = ["apply", "leads.yaml", "--batch-size", str(batch), "--output", "json"]
            started = time.perf_counter()
            code, _, _ = run_child(args, folder, child_env(server))
            wall = time.perf_counter() - started
            stats = server.stats()
    limit = int(rate.split("/")[0])
    sent = int(stats["requests"])
    _, rejected = reads_and_429s(stats)
    fits = code == 0 and rejected == 0 and sent == minimum(n, batch)
    print(f"## paced import (`sandbox serve --rate-limit {rate}`, --batch-size {batch})\n")
    print("| N leads | requests | windows needed | 429 answers | exit | wall s |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {n:,} | {sent} | {math.ceil(sent / limit)} | {rejected} | {code} | {wall:.1f} |"
        + ("" if fits else " **MISSED**")
    )
    print()
    return fits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", help="leads per HTTP run")
    parser.add_argument("--local", type=int, metavar="N", help="rows for the local run")
    parser.add_argument("--paced", action="store_true", help="run the paced import")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)
    everything = args.sizes is None and args.local is None and not args.paced
    ok = True
    if args.sizes or everything:
        ok &= http_table(args.sizes or (100, 1000, 10_000), args.batch_size)
    if args.paced or everything:
        ok &= paced(2000, 50, "40/3")
    if args.local or everything:
        ok &= local(args.local or 100_000, args.batch_size)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
