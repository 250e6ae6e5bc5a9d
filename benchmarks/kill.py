"""SIGKILL drills over many seeds: ``python benchmarks/kill.py --seeds 10 --kills 20``.

Each seed kills ``apply`` at random points of its runs against its own slowed
``sandbox serve``, checks that the state still loads after every kill, resolves what the
kill left unknown the way a person would, and finally applies until exit 0. Prints a
table of applies, kills, where the kills landed, unreadable states, duplicates and lost
IDs; exits 1 if any state would not load or any record was created twice, lost or missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.faults import KillResult, kill_drill, table

HEADER = (
    "seed",
    "leads",
    "applies",
    "kills",
    "kill after request (min/median/max)",
    "unreadable states",
    "records",
    "duplicates",
    "lost IDs",
    "missing",
    "unknowns set",
    "unknowns forgotten",
)


def row(r: KillResult) -> list[object]:
    at = r.requests_at_kill or [0]
    return [
        r.seed,
        r.leads,
        r.applies,
        r.kills,
        f"{min(at)}/{statistics.median(at):g}/{max(at)}",
        r.unreadable,
        r.audit.created,
        r.audit.duplicates,
        r.audit.lost_ids,
        r.audit.missing + r.audit.members_missing,
        r.resolved.set,
        r.resolved.forgotten,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (1..N)")
    parser.add_argument("--kills", type=int, default=20, help="kills per seed")
    parser.add_argument("--leads", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2, help="seeds run side by side")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kayse-kill-") as folder:

        def one(seed: int) -> KillResult:
            return kill_drill(
                Path(folder) / f"seed-{seed}",
                seed,
                leads=args.leads,
                kills=args.kills,
                batch_size=args.batch_size,
            )

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, range(1, args.seeds + 1)))
    rows = [row(r) for r in results]
    every = [n for r in results for n in r.requests_at_kill] or [0]
    total = [
        "all",
        sum(r.leads for r in results),
        sum(r.applies for r in results),
        sum(r.kills for r in results),
        f"{min(every)}/{statistics.median(every):g}/{max(every)}",
        *(sum(int(str(line[i])) for line in rows) for i in range(5, len(HEADER))),
    ]
    print(
        f"kill: {args.seeds} seeds x {args.kills} kills, from {args.leads} leads, "
        f"batch size {args.batch_size}, {time.monotonic() - started:.0f} s"
    )
    print(table(HEADER, [*rows, total]))
    bad = any(r.unreadable or not r.audit.clean for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
