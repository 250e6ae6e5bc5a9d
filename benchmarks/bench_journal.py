"""The journal's cost: fsync calls and wall time of one apply of N leads over HTTP.

Run: ``.venv/bin/python benchmarks/bench_journal.py [--leads 20000] [--batch-size 100]``.

The apply runs in a child process (the real CLI against a real ``sandbox serve`` with the
rate limit off), with ``os.fsync`` wrapped to count its calls, so the count is the whole
run's: journal entries, the journal's folder, the state file and its folder. The sandbox
server's own fsyncs are not counted (another process).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_import import child_env

from testing.imports import write_import
from testing.sandbox_process import sandbox_process

# Runs the CLI with os.fsync counted; the count goes to the file named by argv[1].
COUNTING_CLI = """\
import atexit, os, sys
calls = [0]
real_fsync = os.fsync
def fsync(fd):
    calls[0] += 1
    return real_fsync(fd)
os.fsync = fsync
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(str(calls[0])))
from kayse_pipeline.cli.main import main
sys.argv[0] = "kayse-pipeline"
main()
"""


def apply_counting(leads: int, batch: int) -> tuple[int, float, int]:
    """(fsync calls, wall seconds, create batches) of one apply of ``leads`` leads."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest = write_import(folder, leads)
        count_file = folder / "fsyncs.txt"
        with sandbox_process(folder / "sandbox", rate_limit="off") as server:
            argv = [sys.executable, "-c", COUNTING_CLI, str(count_file)]
            argv += ["apply", manifest.name, "--batch-size", str(batch), "--output", "json"]
            start = time.perf_counter()
            done = subprocess.run(
                argv, cwd=folder, env=child_env(server), capture_output=True, check=False
            )
            wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"apply exited {done.returncode}: {done.stderr.decode()[-2000:]}")
        return int(count_file.read_text()), wall, 2 * math.ceil(leads / batch) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)
    fsyncs, wall, batches = apply_counting(args.leads, args.batch_size)
    print(f"## journal: apply of {args.leads} leads, --batch-size {args.batch_size}\n")
    print("| create batches | fsync calls | fsyncs per batch | wall s |")
    print("|---:|---:|---:|---:|")
    print(f"| {batches} | {fsyncs} | {fsyncs / batches:.2f} | {wall:.1f} |")
    print(f"\n(commit {os.environ.get('BENCH_LABEL', 'working tree')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
