"""CPU cost per row of the phone and email checks: ``python benchmarks/bench_values.py [--n N]``.

Times the checks alone on the rows that ``bench_import.py`` writes (a mobile written five
ways and an email per lead), and loading those rows with and without the checks.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kayse_pipeline.manifest import leads, values
from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.manifest.rows import section
from testing.imports import email, phone, write_import


def per_value(n: int) -> tuple[float, float]:
    """Microseconds of CPU per phone and per email check."""
    phones, emails = [phone(i) for i in range(n)], [email(i) for i in range(n)]
    values.check_phone(phones[0], "US")  # load the libraries first
    values.check_email(emails[0])
    started = time.process_time()
    for text in phones:
        values.check_phone(text, "US")
    middle = time.process_time()
    for text in emails:
        values.check_email(text)
    done = time.process_time()
    return (middle - started) / n * 1e6, (done - middle) / n * 1e6


def load_cpu(n: int, *, checks: bool) -> float:
    """CPU seconds to read and check n rows, with or without the phone and email checks."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        path = write_import(Path(tmp), n)
        if not checks:  # no field is a phone or an email, and none must be unique
            stack.enter_context(mock.patch.object(section, "value_formats", lambda kind: {}))
            stack.enter_context(mock.patch.object(leads, "value_formats", lambda kind: {}))
            stack.enter_context(mock.patch.object(section, "UNIQUE_FIELDS", {}))
        started = time.process_time()
        load_manifest(path, env={})
        return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows (default 100000)")
    args = parser.parse_args(argv)
    phone_us, email_us = per_value(min(args.n, 20_000))
    without, with_checks = load_cpu(args.n, checks=False), load_cpu(args.n, checks=True)
    print("| rows | phone check µs | email check µs | load CPU s without | with | per row µs |")
    print("|---:|---:|---:|---:|---:|---:|")
    extra = (with_checks - without) / args.n * 1e6
    print(
        f"| {args.n:,} | {phone_us:.1f} | {email_us:.1f} | {without:.2f} | {with_checks:.2f} "
        f"| {extra:.0f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
