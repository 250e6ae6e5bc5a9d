"""Time and memory of validating a big manifest: ``python benchmarks/bench_validate.py [--n N]``."""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from kayse_pipeline.manifest.load import load_manifest

TARGET_SECONDS = 3.0
TARGET_MB = 300.0


def write_manifest(path: Path, n: int) -> None:
    """A manifest with ``n`` contacts, ``n`` cases, one list of every case and one campaign."""
    lines = [
        "version: 1",
        "account: {case_types: [personal_injury], case_statuses: [active]}",
        "defaults:",
        "  contacts: {external_source: other}",
        "  cases: {external_source: other, status: active, type: personal_injury}",
        "contacts:",
    ]
    for i in range(n):
        lines += [
            f"  contact_{i}:",
            f"    first_name: First{i}",
            f"    last_name: Last{i}",
            f"    email: lead{i}@example.com",
            f'    mobile: "+1555{i:07d}"',
            f"    external_source_id: crm_contact_{i}",
            "    date_of_birth: 1980-01-31",
        ]
    lines.append("cases:")
    for i in range(n):
        lines += [
            f"  case_{i}:",
            f"    case_number: PI-{i:06d}",
            f"    name: Case {i}",
            f"    external_source_id: crm_case_{i}",
            "    created_date: 2026-01-15",
            f"    client_ids: [contact_{i}]",
        ]
    lines += ["lists:", "  all_cases:", "    name: Everyone", "    include_ids:"]
    lines += [f"      - case_{i}" for i in range(n)]
    lines += [
        "campaigns:",
        "  outreach:",
        "    name: Outreach",
        "    agent_id: ${KAYSE_AGENT_ID:-agent_bench}",
        "    case_list_id: all_cases",
        "    runs:",
        "      - {start_date: 2026-04-01, end_date: 2026-04-30, start_time: '09:00', "
        "end_time: '17:00'}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Generate, validate, print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000, help="contacts and cases (default 10000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        write_manifest(path, args.n)
        size_mb = path.stat().st_size / 1e6
        start, cpu_start = time.perf_counter(), time.process_time()
        manifest = load_manifest(path, env={})
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1e6 if sys.platform == "darwin" else 1024)
    print(
        f"validated {len(manifest.records)} records ({size_mb:.1f} MB of YAML) "
        f"in {seconds:.2f} s ({cpu:.2f} s of CPU), peak memory {peak_mb:.0f} MB "
        f"(targets: {TARGET_SECONDS:.0f} s, {TARGET_MB:.0f} MB)"
    )
    return 0 if seconds < TARGET_SECONDS and peak_mb < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
