"""Hostile-server drill: the real CLI against a server that rotates through hostile answers.

A lead recipe is applied, refreshed and applied again against a server on 127.0.0.1
that answers like Kayse, except that every third request (for the first ``--requests``
requests) gets the next answer of a rotation of hostile ones: 429s with absurd or
negative waits, wrong-endpoint 404 / 405, HTML, gzip bombs, endless and trickling
bodies, JSON nested 100,000 deep, impossible or repeated IDs, absurd rate-limit headers,
escapes and workflow commands in messages, dropped connections. Some of them act first
(the records are made, the answer is lost or unreadable), as a real server might.

Each apply of the hostile phase comes with ``--grow`` new leads (every fifth run is a
refresh instead). Between runs a person resolves unknown records by looking in the
server, as a user looks in Kayse. When the hostile phase is over, the recipe is applied
until it is in place, and the audit counts duplicates (one external ID made twice), lost
IDs (an ID the server made that no symbol holds) and unexpected errors.

    .venv/bin/python benchmarks/hostile_drill.py --requests 500
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.cli import Run, kayse
from testing.faults import audit, lead_recipe, resolve_unknowns
from testing.hostile_server import KayseLike, Reply, Seen, hostile_server

KEY = "drill-key-5e1f"
HOSTILE_MESSAGE = "\x1b[31mno\x1b[0m\r\n::error::owned \u202e\x00"
Answer = Callable[[Seen, KayseLike], Reply]


def _acted(change: Callable[[Reply], Reply]) -> Answer:
    """The server does what was asked, then answers in a hostile way."""
    return lambda seen, kayse_like: change(kayse_like.answer(seen))


def _refused(reply: Reply) -> Answer:
    return lambda seen, kayse_like: reply


def _http_date(seconds: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + seconds))


ROTATION: dict[str, Answer] = {
    "429 Retry-After -5": _refused(
        Reply(429, {"error": "e", "message": "no"}, {"Retry-After": "-5"})
    ),
    "429 Retry-After inf": _refused(
        Reply(429, {"error": "e", "message": "no"}, {"Retry-After": "inf"})
    ),
    "429 Retry-After date": lambda seen, k: Reply(
        429, {"error": "e", "message": "no"}, {"Retry-After": _http_date(1)}
    ),
    "429 reset 1e400": _refused(
        Reply(429, {"error": "e", "message": "no"}, {"X-RateLimit-Reset": "1e400"})
    ),
    "success, Remaining inf": _acted(
        lambda r: Reply(
            r.status, r.body, {"X-RateLimit-Remaining": "inf", "X-RateLimit-Reset": "1e400"}
        )
    ),
    "success, Reset nan": _acted(
        lambda r: Reply(
            r.status, r.body, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "nan"}
        )
    ),
    "404 not Kayse's": _refused(Reply(404, {"detail": "Not Found"})),
    "405": _refused(Reply(405, {"error": "method not allowed", "message": HOSTILE_MESSAGE})),
    "404 HTML": _refused(Reply(404, "<h1>nginx</h1>", {"Content-Type": "text/html"})),
    "500 with escapes": _refused(Reply(500, {"error": "e", "message": HOSTILE_MESSAGE})),
    "gzip bomb (acted)": _acted(lambda r: Reply(r.status, mode="gzip-bomb")),
    "endless body (acted)": _acted(lambda r: Reply(r.status, mode="endless")),
    "trickle (acted)": _acted(
        lambda r: Reply(r.status, r.payload(), mode="trickle", trickle_seconds=0.5)
    ),
    "JSON nested 100,000 deep (acted)": _acted(
        lambda r: Reply(
            r.status, b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"}
        )
    ),
    "ID -5 (acted)": _acted(lambda r: Reply(r.status, _ids(r.body, lambda i: -5))),
    "ID 2**64 (acted)": _acted(lambda r: Reply(r.status, _ids(r.body, lambda i: 2**64))),
    "one ID for all (acted)": _acted(lambda r: Reply(r.status, _ids(r.body, lambda i: 1))),
    "ID of 5,000 digits (acted)": _acted(
        lambda r: Reply(
            r.status, b'{"id": ' + b"9" * 5000 + b"}", {"Content-Type": "application/json"}
        )
    ),
    "dropped (acted)": _acted(lambda r: Reply(mode="drop")),
}


def _ids(body: object, change: Callable[[int], int]) -> object:
    """The answer with every ``id`` replaced."""
    if isinstance(body, dict):
        return {k: (change(v) if k == "id" else _ids(v, change)) for k, v in body.items()}
    if isinstance(body, list):
        return [_ids(item, change) for item in body]
    return body


class DrillServer:
    """Kayse-like, with every ``every``-th of the first ``hostile`` requests hostile."""

    def __init__(self, hostile: int, every: int) -> None:
        self.kayse = KayseLike()
        self.hostile, self.every = hostile, every
        self.count = 0
        self.met: Counter[str] = Counter()
        self._turn = itertools.cycle(ROTATION)
        self._lock = threading.Lock()

    def __call__(self, seen: Seen) -> Reply:
        with self._lock:
            self.count += 1
            hostile = self.count <= self.hostile and self.count % self.every == 0
            name = next(self._turn) if hostile else None
            if name:
                self.met[name] += 1
        return ROTATION[name](seen, self.kayse) if name else self.kayse.answer(seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500, help="hostile phase, in requests")
    parser.add_argument("--leads", type=int, default=20, help="leads at the start")
    parser.add_argument("--grow", type=int, default=5, help="leads added before each apply")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--every", type=int, default=3, help="every N-th request is hostile")
    parser.add_argument("--max-runs", type=int, default=400)
    args = parser.parse_args()

    drill = DrillServer(args.requests, args.every)
    runs: list[tuple[list[str], Run, float]] = []
    resolved = [0, 0]
    env = {"KAYSE_REQUEST_TIMEOUT": "2"}
    with tempfile.TemporaryDirectory() as folder, hostile_server(drill, max_seconds=3600) as server:
        cwd = Path(folder)
        (cwd / "leads.yaml").write_text(lead_recipe(args.leads, "h"))
        leads = args.leads
        for n in range(args.max_runs):
            hostile_phase = drill.count < args.requests
            refresh = hostile_phase and n % 5 == 4
            if hostile_phase and not refresh and n:
                leads += args.grow  # new intake each time: there is always something to send
                (cwd / "leads.yaml").write_text(lead_recipe(leads, "h"))
            command = ["refresh", "leads.yaml"] if refresh else [
                "apply", "leads.yaml", "--batch-size", str(args.batch_size)
            ]  # fmt: skip
            started = time.monotonic()
            run = kayse([*command, "--max-wait", "3"], cwd=cwd, url=server.url, key=KEY, env=env)
            runs.append((command, run, time.monotonic() - started))
            done = resolve_unknowns(cwd, "leads.yaml", server.url, drill.kayse.dump())
            resolved[0] += done.set
            resolved[1] += done.forgotten
            if not hostile_phase and command[0] == "apply" and run.code == 0:
                break
        result = audit(drill.kayse.dump(), cwd / "leads.state.json", leads)
        total = drill.count
        hung_up = server.hung_up
    unexpected = sum(
        1 for _, run, _ in runs if "unexpected error" in run.stderr or "Traceback" in run.stderr
    )
    longest = max(runs, key=lambda item: item[2])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"requests sent: {total} ({min(total, args.requests)} in the hostile phase, "
          f"{sum(drill.met.values())} hostile answers)")  # fmt: skip
    print(f"runs: {len(runs)} ({Counter(c[0] for c, _, _ in runs)}), exit codes "
          f"{dict(Counter(run.code for _, run, _ in runs))}")  # fmt: skip
    print(f"longest run: {longest[2]:.1f} s ({' '.join(longest[0][:1])})")
    print(f"connections the CLI hung up on (expected, not printed): {hung_up}")
    print(f"peak memory of one CLI process: {peak_kib / 1024:.0f} MiB")
    print(f"unknown records resolved by a person: {resolved[0]} found, {resolved[1]} forgotten")
    print(
        f"records made: {result.created}; duplicates: {result.duplicates}; "
        f"lost IDs: {result.lost_ids}; missing: {result.missing}; "
        f"members missing: {result.members_missing}; unexpected errors: {unexpected}"
    )
    print("hostile answers met: " + ", ".join(f"{k} x{v}" for k, v in sorted(drill.met.items())))
    clean = result.clean and not unexpected and runs[-1][1].code == 0
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
