"""Requests per second of the sandbox: single and bulk client creates, over HTTP and in-process.

Run: ``.venv/bin/python benchmarks/bench_sandbox.py [--seconds 5] [--bulk 100]``.
The HTTP figures come from a real ``sandbox serve`` process (rate limit off) and one keep-alive
``httpx.Client``; the server's own count (GET /v1/_sandbox/stats) is checked against ours.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from kayse_pipeline.sandbox import SandboxTransport, open_sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testing.sandbox_process import sandbox_process

CLIENT = {
    "first_name": "Bench",
    "last_name": "Mark",
    "external_source": "other",
    "external_source_id": "bench-1",
    "mobile": "+15550000000",
}


def measure(seconds: float, send: Callable[[], httpx.Response]) -> tuple[int, float]:
    """Send requests for ``seconds``; return (requests, elapsed seconds). Any non-2xx fails."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        response = send()
        if not response.is_success:
            raise SystemExit(f"benchmark request failed: HTTP {response.status_code}")
        count += 1
    return count, time.perf_counter() - started


def run(client: httpx.Client, seconds: float, bulk: int) -> list[tuple[str, int, float, int]]:
    """Both workloads on one client: (name, requests, elapsed, records per request)."""
    batch = {"clients": [CLIENT] * bulk}
    single = measure(seconds, lambda: client.post("clients", json=CLIENT))
    many = measure(seconds, lambda: client.post("clients/bulk", json=batch))
    return [("POST /clients", *single, 1), (f"POST /clients/bulk ({bulk})", *many, bulk)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per workload (default 5)")
    parser.add_argument("--bulk", type=int, default=100, help="items per bulk call (default 100)")
    args = parser.parse_args()

    rows: list[tuple[str, str, int, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        with (
            sandbox_process(Path(tmp) / "http", rate_limit="off") as sb,
            httpx.Client(base_url=sb.url + "/", headers={"X-API-KEY": sb.api_key}) as client,
        ):
            measured = run(client, args.seconds, args.bulk)
            counted = sb.stats()["by_endpoint"]
            for name, requests, elapsed, per in measured:
                endpoint = "POST /v1/clients/bulk" if "bulk" in name else "POST /v1/clients"
                assert counted[endpoint] == requests, (name, counted, requests)
                rows.append(("http", name, requests, elapsed, per))
        with (
            open_sandbox(Path(tmp) / "in-process", rate_limit="off", faults="off") as core,
            httpx.Client(transport=SandboxTransport(core), base_url="http://sandbox/v1/") as client,
        ):
            rows += [("in-process", *row) for row in run(client, args.seconds, args.bulk)]

    print(f"{'front door':<11} {'workload':<26} {'requests':>9} {'req/s':>9} {'records/s':>10}")
    for door, name, requests, elapsed, per in rows:
        rate = requests / elapsed
        print(f"{door:<11} {name:<26} {requests:>9} {rate:>9.1f} {rate * per:>10.0f}")


if __name__ == "__main__":
    main()
