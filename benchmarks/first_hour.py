"""The first hour, timed: a newcomer's commands from an empty folder to a pull request's plan.

Builds this repository's wheel, installs it into a fresh virtualenv (as ``pip install
kayse-pipeline`` would, dependencies from the package index), then runs what the README
tells a newcomer: ``init --from-csv``, ``validate``, ``apply --sandbox``, a git commit,
and the plan a pull request that adds a lead would show (Markdown when the installed
version has ``--output markdown``). Prints a Markdown table of commands and seconds.

    .venv/bin/python benchmarks/first_hour.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTAKE = (
    "Lead ID,First Name,Last Name,E-mail Address,Mobile Phone,City,Notes\n"
    "IN-0001,Maria,Garcia,maria.garcia@example.com,+15125550101,Austin,called twice\n"
    "IN-0002,Ben,Okafor,ben.okafor@example.com,+15125550102,Dallas,\n"
    "IN-0003,Lena,Novak,,+15125550103,Houston,prefers text\n"
)
NEW_LEAD = "IN-0004,Jo,Park,jo.park@example.com,+15125550104,El Paso,\n"


class Session:
    """Runs commands in one folder, timing each, as a person at a shell would."""

    def __init__(self, home: Path, venv: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KAYSE_")}
        self.env["PATH"] = f"{venv / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"
        self.env.update(
            GIT_AUTHOR_NAME="newcomer",
            GIT_AUTHOR_EMAIL="newcomer@example.com",
            GIT_COMMITTER_NAME="newcomer",
            GIT_COMMITTER_EMAIL="newcomer@example.com",
        )
        self.steps: list[tuple[str, str, float, int]] = []

    def run(self, what: str, command: str, cwd: Path | None = None) -> str:
        started = time.perf_counter()
        done = subprocess.run(
            command,
            shell=True,
            cwd=cwd or self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        seconds = time.perf_counter() - started
        self.steps.append((what, command, seconds, done.returncode))
        if done.returncode != 0:
            sys.exit(f"step failed: {command}\n{done.stdout}\n{done.stderr}")
        return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the folder and print it")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="first-hour-"))
    try:
        wheel = _wheel(folder / "dist")
        home = folder / "newcomer"
        home.mkdir()
        (home / "intake.csv").write_text(INTAKE, encoding="utf-8")
        venv = home / ".venv"
        session = Session(home, venv)
        session.run("install", f"python3 -m venv .venv && .venv/bin/pip install -q {wheel}")
        session.run("start a recipe repository", "kayse-pipeline init leads --from-csv intake.csv")
        repo = home / "leads"
        session.run("check it offline", "kayse-pipeline validate recipes/leads.yaml", repo)
        session.run(
            "apply it to the sandbox", "kayse-pipeline apply recipes/leads.yaml --sandbox", repo
        )
        session.run("commit it", "git init -q && git add -A && git commit -qm recipe", repo)
        with open(repo / "recipes" / "intake.csv", "a", encoding="utf-8") as csv:
            csv.write(NEW_LEAD)  # the pull request: one more lead
        markdown = "markdown" in session.run("", "kayse-pipeline plan --help", repo)
        session.steps.pop()
        output = " --output markdown" if markdown else ""
        plan = session.run(
            "the pull request's plan",
            f"kayse-pipeline plan recipes/leads.yaml --sandbox{output}",
            repo,
        )
        _report(session, plan)
        if args.keep:
            print(f"\nkept: {folder}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def _wheel(dist: Path) -> Path:
    """This repository as the wheel PyPI would serve."""
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = dist.glob("*.whl")
    return wheel


def _report(session: Session, plan: str) -> None:
    print("| step | command | seconds |")
    print("|---|---|---:|")
    for what, command, seconds, _ in session.steps:
        shown = command.replace(f"{session.home.parent}{os.sep}", "../")
        print(f"| {what} | `{shown}` | {seconds:.2f} |")
    total = sum(seconds for _, _, seconds, _ in session.steps)
    after_install = sum(seconds for what, _, seconds, _ in session.steps if what != "install")
    print(f"| **total** | | **{total:.2f}** ({after_install:.2f} after the install) |")
    print("\nThe pull request's plan:\n")
    print(plan)


if __name__ == "__main__":
    main()
