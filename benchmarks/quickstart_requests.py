"""Requests that `apply manifests/quickstart.yaml` sends, against the seed guide's minimum.

Starts `sandbox serve` on 127.0.0.1, applies the quickstart twice through the real CLI and
counts requests on the server side. Run: `.venv/bin/python benchmarks/quickstart_requests.py`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testing.sandbox_process import sandbox_process

ROOT = Path(__file__).resolve().parent.parent
# contact, case, list, attach, append, campaign: one call per step of the seed guide.
MINIMUM = 6


def apply(workdir: Path, url: str, key: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
    env.update(KAYSE_API_URL=url, KAYSE_API_KEY=key)
    subprocess.run(
        [sys.executable, "-m", "kayse_pipeline", "apply", "quickstart.yaml"],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shutil.copy(ROOT / "manifests" / "quickstart.yaml", workdir / "quickstart.yaml")
        with sandbox_process(workdir / "sandbox", rate_limit="off") as server:
            apply(workdir, server.url, server.api_key)
            first = server.stats()["requests"]
            apply(workdir, server.url, server.api_key)
            second = server.stats()["requests"] - first
            by_endpoint = server.stats()["by_endpoint"]
    print("| run | requests sent | minimum |")
    print("|---|---|---|")
    print(f"| first apply | {first} | {MINIMUM} |")
    print(f"| second apply (nothing to do) | {second} | 0 |")
    print()
    for endpoint, count in sorted(by_endpoint.items()):
        print(f"  {endpoint}: {count}")
    if first > MINIMUM or second != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
