"""Rendering for people, for CI logs, for JSON and for JUnit; only the CLI calls this."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO
from xml.etree import ElementTree as ET

from kayse_pipeline.api.client import ENDPOINTS
from kayse_pipeline.plan.apply import Plan, Step
from kayse_pipeline.run.apply import PlanReport
from kayse_pipeline.run.executor import ApplyResult, Outcome

HOURLY_BUDGET = 500  # Kayse's documented requests per hour per key
LISTED_PER_KIND = 25  # past this many records of a kind, a plan shows a count instead
PLAN_MARK = {"create": "+", "update": "~", "no-op": " ", "unknown": "?"}


def budget_time(requests: int) -> str:
    """How much of the key's hourly budget a number of requests takes."""
    if requests <= HOURLY_BUDGET:
        return f"fits in one hour's budget of {HOURLY_BUDGET} requests"
    hours = math.ceil(requests / HOURLY_BUDGET) - 1
    return f"needs {hours} wait(s) for the hourly budget of {HOURLY_BUDGET}: about {hours} h"


def step_line(step: Step) -> str:
    endpoint = ENDPOINTS[step.endpoint]
    what = f"{step.action} {step.count} {step.kind}(s)"
    if step.action in ("attach", "detach", "append", "remove"):
        what = f"{step.action} {step.count} on list {step.symbols[0]}"
    waits = ""
    if step.waits_for:
        shown = ", ".join(step.waits_for[:3]) + (" …" if len(step.waits_for) > 3 else "")
        waits = f"  (waits for {shown})"
    plural = "s" if step.requests != 1 else ""
    return f"{endpoint.method:6} {endpoint.path:36} {what}, {step.requests} request{plural}{waits}"


def plan_text(report: PlanReport) -> str:
    plan = report.plan
    lines = [f"Plan for {report.manifest.path} against {report.target}", ""]
    shown: dict[str, int] = {}
    for rp in plan.records:
        if rp.action == "no-op":
            continue
        shown[rp.kind] = shown.get(rp.kind, 0) + 1
        if shown[rp.kind] > LISTED_PER_KIND:
            continue
        id_part = f" (id {rp.id})" if rp.id is not None else ""
        note = f": {rp.note}" if rp.note else ""
        lines.append(f"  {PLAN_MARK[rp.action]} {rp.kind} {rp.symbol}{id_part}{note}")
    for kind, count in shown.items():
        if count > LISTED_PER_KIND:
            lines.append(f"  … and {count - LISTED_PER_KIND} more {kind}(s)")
    for mp in plan.memberships:
        lines.append(f"  ~ list {mp.list_symbol}: {mp.op} {len(mp.members)}")
    for symbol, saved in plan.orphans:
        lines.append(
            f"  ! {saved.kind} {symbol} (id {saved.id}) is in the state but not in the manifest: "
            "left alone"
        )
    if not plan.has_changes:
        lines.append("  Nothing to do: Kayse already matches the manifest.")
    if plan.steps:
        lines += ["", "Requests, in order:"]
        lines += [f"  {n}. {step_line(s)}" for n, s in enumerate(plan.steps, start=1)]
    lines += ["", summary_line(plan)]
    return "\n".join(lines)


def summary_line(plan: Plan) -> str:
    counts = {"create": 0, "update": 0, "no-op": 0, "unknown": 0}
    for rp in plan.records:
        counts[rp.action] += 1
    n = plan.requests
    return (
        f"{counts['create']} to create, {counts['update']} to update, {counts['no-op']} unchanged, "
        f"{counts['unknown']} unknown; {len(plan.memberships)} membership change(s); "
        f"{n} request{'s' if n != 1 else ''} ({budget_time(n)})"
    )


def plan_json(report: PlanReport) -> dict[str, Any]:
    plan = report.plan
    return {
        "manifest": str(report.manifest.path),
        "target": report.target,
        "records": [
            _drop_none(
                {"kind": r.kind, "symbol": r.symbol, "id": r.id, "action": r.action, "note": r.note}
            )
            for r in plan.records
        ],
        "memberships": [
            {"list": m.list_symbol, "op": m.op, "count": len(m.members)} for m in plan.memberships
        ],
        "steps": [
            {
                "method": ENDPOINTS[s.endpoint].method,
                "path": ENDPOINTS[s.endpoint].path,
                "action": s.action,
                "kind": s.kind,
                "count": s.count,
                "requests": s.requests,
                "waits_for": list(s.waits_for),
            }
            for s in plan.steps
        ],
        "orphans": [{"kind": s.kind, "symbol": sym, "id": s.id} for sym, s in plan.orphans],
        "requests": plan.requests,
        "changes": plan.has_changes,
    }


class RunOutcome(Protocol):
    """One record's outcome in a run that sends requests (apply, destroy)."""

    @property
    def kind(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def id(self) -> int | None: ...
    @property
    def action(self) -> str: ...
    @property
    def message(self) -> str | None: ...


class RunResult(Protocol):
    """What apply and destroy report alike."""

    @property
    def outcomes(self) -> Sequence[RunOutcome]: ...

    membership_changes: list[str]
    membership_failures: list[str]
    requests: int
    stopped: str | None

    @property
    def ok(self) -> bool: ...
    def counts(self) -> Mapping[str, Any]: ...


def run_json(manifest: Path, target: str, result: RunResult) -> dict[str, Any]:
    """The contract's JSON document for a run that sent requests."""
    return {
        "manifest": str(manifest),
        "target": target,
        "records": [
            _drop_none(
                {
                    "kind": o.kind,
                    "symbol": o.symbol,
                    "id": o.id,
                    "action": o.action,
                    "message": o.message,
                }
            )
            for o in result.outcomes
        ],
        "membership_changes": result.membership_changes,
        "membership_failures": result.membership_failures,
        "summary": result.counts(),
        "requests": result.requests,
        "stopped": result.stopped,
        "ok": result.ok,
    }


def apply_json(report: PlanReport, result: ApplyResult) -> dict[str, Any]:
    return run_json(report.manifest.path, report.target, result)


def apply_text(result: ApplyResult, *, list_records: bool) -> str:
    lines: list[str] = []
    if list_records:
        for o in result.outcomes:
            id_part = str(o.id) if o.id is not None else "-"
            lines.append(f"  {o.kind:8} {o.symbol:32} {id_part:>10}  {o.action}")
    lines += [f"  {change}" for change in result.membership_changes[:50]]
    problems = [o for o in result.outcomes if o.message and o.action != "unchanged"]
    for o in problems[:50]:
        lines.append(f"{o.action}: {o.kind} {o.symbol}: {o.message}")
    if len(problems) > 50:
        lines.append(f"… and {len(problems) - 50} more records that are not in place")
    lines += [f"failed: {m}" for m in result.membership_failures]
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    parts = []
    for kind, row in result.counts().items():
        parts.append(f"{kind}s " + ", ".join(f"{n} {a}" for a, n in sorted(row.items())))
    lines.append("Summary: " + "; ".join(parts) + f". {result.requests} request(s) sent.")
    return "\n".join(lines)


def junit_xml(result: ApplyResult) -> bytes:
    """One testcase per record; skipped dependents are skipped, unknown outcomes are errors."""
    suite = ET.Element("testsuite", name="kayse-pipeline apply")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for o in result.outcomes:
        case = ET.SubElement(suite, "testcase", classname=f"kayse.{o.kind}", name=o.symbol)
        counts["tests"] += 1
        if o.action == "failed":
            ET.SubElement(case, "failure", message=o.message or "failed")
            counts["failures"] += 1
        elif o.action == "unknown":
            ET.SubElement(case, "error", message=o.message or "outcome unknown")
            counts["errors"] += 1
        elif o.action == "skipped":
            ET.SubElement(case, "skipped", message=o.message or "skipped")
            counts["skipped"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    text: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return text


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None or k == "id"}


class ProgressReporter:
    """A bar on a terminal; on a CI log a line per step and one every ``every`` seconds."""

    def __init__(
        self,
        *,
        stream: TextIO = sys.stderr,
        tty: bool | None = None,
        every: float = 10.0,
    ) -> None:
        self.total = 0
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every
        self.done_count = 0
        self.requests = 0
        self.budget: str = "?"
        self._last = time.monotonic()

    def begin(self, total: int) -> None:
        self.total = total

    def step(self, description: str, count: int) -> None:
        self._clear()
        self.stream.write(f"-> {description}\n")
        self.stream.flush()

    def done(self, outcome: Outcome) -> None:
        pass

    def progress(self, records_done: int, requests: int, budget_left: int | None) -> None:
        self.done_count, self.requests = records_done, requests
        self.budget = "?" if budget_left is None else str(budget_left)
        now = time.monotonic()
        if self.tty:
            self._bar("")
        elif now - self._last >= self.every:
            self._last = now
            self.stream.write(
                f"progress: {records_done}/{self.total} records, {requests} requests, "
                f"budget left {self.budget}\n"
            )
            self.stream.flush()

    def waiting(self, left: float, total: float) -> None:
        if self.tty:
            self._bar(f" waiting {math.ceil(left)} s for the rate-limit reset")
        elif total - left < 1 or math.ceil(left) % 60 == 0:
            self.stream.write(f"waiting {math.ceil(left)} s for the rate-limit reset\n")
            self.stream.flush()

    def finish(self) -> None:
        self._clear()

    def _bar(self, suffix: str) -> None:
        width = 30
        filled = width * self.done_count // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(
            f"\r[{bar}] {self.done_count}/{self.total} records, "
            f"{self.requests} requests, budget left {self.budget}{suffix}\x1b[K"
        )
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")


def lines(items: Iterable[str]) -> str:
    return "\n".join(items)
