"""Unknown records after SIGINT / SIGTERM: ``python benchmarks/stop.py``.

Imports 2,000 leads (default batch size 100: 82 requests) into a ``sandbox serve`` that
answers each request ``--slow`` seconds after acting on it, and stops the apply with
SIGINT or SIGTERM once the sandbox has seen a chosen number of its requests, so that a
request is in flight. Prints, per point, the exit code, the seconds the stop took, the
records left unknown (as the next run sees them: state file plus any journal) and
whether a journal was left beside the state. ``--python PATH`` runs the apply with
another interpreter, e.g. a virtualenv with an older kayse-pipeline installed (for a
before/after comparison).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.faults import table
from testing.sandbox_process import sandbox_process
from testing.stop import signalled_apply, write_recipe

HEADER = (
    "signal",
    "after request",
    "in flight",
    "exit",
    "stop s",
    "IDs in state file",
    "unknown records",
    "journal left",
)
# 20 contact batches, 20 case batches, the list, 20 attach, 20 append, the campaign.
POINTS = (1, 15, 30, 45, 70)


def in_flight(request: int, batches: int) -> str:
    names = ["contacts", "cases", "list", "attach", "append", "campaign"]
    sizes = [batches, batches, 1, batches, batches, 1]
    for name, size in zip(names, sizes, strict=True):
        if request <= size:
            return name
        request -= size
    return "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--slow", type=float, default=0.5, help="seconds each answer takes")
    parser.add_argument("--points", type=int, nargs="+", default=list(POINTS))
    parser.add_argument(
        "--signals", nargs="+", default=["SIGINT", "SIGTERM"], choices=["SIGINT", "SIGTERM"]
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs apply")
    args = parser.parse_args()
    batches = -(-args.leads // args.batch_size)
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kayse-stop-") as folder:
        root = Path(folder)
        for sig in (signal.Signals[name] for name in args.signals):
            for point in args.points:
                work = root / f"{sig.name}-{point}"
                write_recipe(work, args.leads, f"{sig.name.lower()}{point}")
                faults = f"slow=1,slow_seconds={args.slow}"
                with sandbox_process(root / f"sandbox-{sig.name}-{point}", faults=faults) as sb:
                    stopped = signalled_apply(
                        sb,
                        work,
                        after_requests=point,
                        signals=(sig,),
                        batch_size=args.batch_size,
                        python=args.python,
                    )
                rows.append(
                    [
                        sig.name,
                        point,
                        in_flight(point, batches),
                        stopped.code,
                        f"{stopped.seconds:.1f}",
                        stopped.saved,
                        stopped.unknown,
                        "yes" if stopped.journal_left else "no",
                    ]
                )
    print(
        f"stop: {args.leads} leads, batch size {args.batch_size}, answers {args.slow:g} s slow, "
        f"{time.monotonic() - started:.0f} s"
    )
    print(table(HEADER, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
