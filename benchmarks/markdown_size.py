"""Size of ``plan --output markdown`` for big imports: ``python benchmarks/markdown_size.py``.

Writes a CSV of N fake leads and the import manifest of ``bench_import.py``, runs the real
CLI's ``plan --sandbox --output markdown`` in a child process, and prints the report's
size in characters against the 60,000 that a pull-request comment may take, with the
time the plan took. Exits 1 when a report is over the bound.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kayse_pipeline.cli.output.markdown_blocks import COMMENT_LIMIT
from testing.faults import table
from testing.imports import write_import

COMMAND = ("plan", "leads.yaml", "--sandbox", "--output", "markdown")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    rows = []
    over = False
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="kayse-md-") as folder:
            write_import(Path(folder), n)
            env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
            env["KAYSE_SANDBOX_DIR"] = str(Path(folder) / "sandbox")
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "kayse_pipeline", *COMMAND],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = time.monotonic() - started
        size = len(done.stdout)
        over = over or size >= COMMENT_LIMIT
        listed = done.stdout.count("\n- <code>+</code>")
        rows.append([f"{n:,}", f"{2 * n + 2:,}", f"{size:,}", f"{listed:,}", f"{seconds:.1f}"])
    print(f"plan --output markdown, bound {COMMENT_LIMIT:,} characters")
    header = ("leads", "records", "Markdown characters", "record lines shown", "plan s")
    print(table(header, rows))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
