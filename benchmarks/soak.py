"""Fault-injection soak over many seeds: ``python benchmarks/soak.py --seeds 50 --leads 200``.

Each seed applies a recipe of N leads (contacts and cases, one list of them all, one
campaign) to its own ``sandbox serve`` answering about 10% 429/500/503 and 5% lost
answers, resolving unknown records the way a person would, until apply exits 0. Prints a
table of runs, faults met, records created, duplicates, lost IDs and unknowns resolved;
exits 1 if any record was created twice, lost or missing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.faults import SOAK_FAULTS, SoakResult, soak, table

HEADER = (
    "seed",
    "runs",
    "requests",
    "429",
    "500",
    "503",
    "lost",
    "records created",
    "duplicates",
    "lost IDs",
    "missing",
    "unknowns set",
    "unknowns forgotten",
)


def row(result: SoakResult) -> list[int]:
    faults, audit, resolved = result.faults, result.audit, result.drill.resolved
    return [
        result.seed,
        result.drill.runs,
        result.requests,
        faults["429"],
        faults["500"],
        faults["503"],
        faults["lost"],
        audit.created,
        audit.duplicates,
        audit.lost_ids,
        audit.missing + audit.members_missing,
        resolved.set,
        resolved.forgotten,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (1..N)")
    parser.add_argument("--leads", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--faults", default=SOAK_FAULTS, help="fault spec without the seed")
    parser.add_argument("--jobs", type=int, default=2, help="seeds run side by side")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kayse-soak-") as folder:

        def one(seed: int) -> SoakResult:
            return soak(
                Path(folder) / f"seed-{seed}",
                seed,
                leads=args.leads,
                batch_size=args.batch_size,
                faults=args.faults,
            )

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, range(1, args.seeds + 1)))
    rows = [row(r) for r in results]
    sums = [sum(r[i] for r in rows) for i in range(1, len(HEADER))]
    print(
        f"soak: {args.seeds} seeds x {args.leads} leads, batch size {args.batch_size}, "
        f"faults {args.faults}, {time.monotonic() - started:.0f} s"
    )
    print(table(HEADER, [*rows, ["all", *sums]]))
    bad = any(not r.audit.clean for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
