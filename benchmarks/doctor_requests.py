"""What `doctor` sends and concludes against each server it may meet, counted at the server.

Runs the real CLI (`doctor manifests/quickstart.yaml --output json`) against `sandbox serve`
in several configurations and against two servers that are not Kayse, and prints one row
per configuration: each check's verdict, the exit code, the GETs and the writes the server
saw. Run: `.venv/bin/python benchmarks/doctor_requests.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testing.foreign_servers import foreign_server
from testing.sandbox_process import sandbox_process

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key-123"
CHECKS = ("url", "key", "rate-limit", "budget", "fields", "values", "existing")
CHANGED = """\
case_types: [Personal Injury]
fields:
  clients:
    date_of_birth: required
  cases:
    external_source: {values: [intake_form]}
"""
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def doctor(workdir: Path, url: str, key: str) -> tuple[int, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env.update(KAYSE_API_URL=url, KAYSE_API_KEY=key)
    done = subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "doctor", "quickstart.yaml", "--output", "json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    checks = {c["name"]: c["verdict"] for c in json.loads(done.stdout)["checks"]}
    return done.returncode, checks


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shutil.copy(ROOT / "manifests" / "quickstart.yaml", workdir / "quickstart.yaml")
        (workdir / "account.yaml").write_text(CHANGED)
        configs: list[tuple[str, list[str], str]] = [
            ("sandbox serve (reset epoch)", [], KEY),
            ("sandbox serve --reset-style seconds", ["--reset-style", "seconds"], KEY),
            ("sandbox serve, changed field table", ["--account-file", "account.yaml"], KEY),
            ("sandbox serve, wrong key", [], "wrong-key-456"),
        ]
        for n, (label, args, key) in enumerate(configs):
            args = [a if a != "account.yaml" else str(workdir / a) for a in args]
            with sandbox_process(
                workdir / f"sb{n}", rate_limit="500/3600", api_key=KEY, extra_args=args
            ) as sb:
                code, checks = doctor(workdir, sb.url, key)
                methods = sb.stats()["by_method"]
            rows.append((label, code, checks, methods))
        for mode, label in (("html", "a web site answering HTML"), ("json404", "a JSON 404 API")):
            with foreign_server(mode) as server:
                code, checks = doctor(workdir, server.url, KEY)
                rows.append((label, code, checks, dict(server.methods)))
    print("| server | " + " | ".join(CHECKS) + " | exit | GET | writes |")
    print("|---|" + "---|" * len(CHECKS) + "---:|---:|---:|")
    worst = 0
    for label, code, checks, methods in rows:
        writes = sum(methods.get(m, 0) for m in WRITES)
        gets = methods.get("GET", 0)
        verdicts = " | ".join(checks.get(c, "—") for c in CHECKS)
        print(f"| {label} | {verdicts} | {code} | {gets} | {writes} |")
        if writes or gets > 5:
            worst = 1
    sys.exit(worst)


if __name__ == "__main__":
    main()
