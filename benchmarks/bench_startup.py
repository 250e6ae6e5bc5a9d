"""Startup: `import click`, `kayse-pipeline --help` and `validate` side by side.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--runs 21]`` from the repository root.
Each round runs the three commands once, in turn, so that a busy machine slows all
three alike; the table shows the median and the fastest of the rounds (wall seconds of
the child process, start to exit).

Give ``--python`` twice (a venv of the code before, then this one's) to measure both in
the same interleaved rounds. Targets (issue 13): ``--help`` within 3x ``python -c "import
click"``; ``validate`` within half of the before's time. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# An installed package has its bytecode compiled (pip and pipx do it at install); an
# editable checkout gets it on the warm-up round only if the children may write it.
# Without this, PYTHONDONTWRITEBYTECODE=1 would time compiling every module from source.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def commands(python: Path, manifest: str) -> dict[str, list[str]]:
    cli = python.parent / "kayse-pipeline"
    return {
        'python -c "import click"': [str(python), "-c", "import click"],
        "kayse-pipeline --help": [str(cli), "--help"],
        f"kayse-pipeline validate {manifest}": [str(cli), "validate", manifest],
    }


def measure(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=ENV, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--python",
        type=Path,
        action="append",
        help="a venv's python; give two (before, then after) to compare them in one run",
    )
    parser.add_argument("--manifest", default="manifests/quickstart.yaml")
    args = parser.parse_args(argv)
    pythons: list[Path] = args.python or [Path(sys.executable)]
    table = {
        (python, name): command
        for python in pythons
        for name, command in commands(python, args.manifest).items()
    }
    times: dict[tuple[Path, str], list[float]] = {key: [] for key in table}
    for command in table.values():
        measure(command)  # warm the file cache and the bytecode
    for _ in range(args.runs):
        for key, command in table.items():
            times[key].append(measure(command))
    medians = {key: statistics.median(values) for key, values in times.items()}
    print(f"## startup: median and fastest of {args.runs} interleaved rounds\n")
    print("| python | command | median s | fastest s |")
    print("|---|---|---:|---:|")
    for (python, name), values in times.items():
        print(f"| {python} | `{name}` | {medians[python, name]:.3f} | {min(values):.3f} |")
    names = list(commands(pythons[-1], args.manifest))
    now = [medians[pythons[-1], name] for name in names]
    ok = now[1] <= 3 * now[0]
    print(f"\n--help / import click: {now[1] / now[0]:.2f}x (target at most 3x)")
    if len(pythons) > 1:
        before = [medians[pythons[0], name] for name in names]
        ratio = now[2] / before[2]
        print(f"validate after / before: {ratio:.2f} (target at most 0.5)")
        print(f"--help after / before: {now[1] / before[1]:.2f}")
        ok = ok and ratio <= 0.5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
