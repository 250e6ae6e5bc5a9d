"""The JSON documents of ``--output json``: one document on stdout per command.

JSON ``action`` values:

- import: ``adopted`` (with ``differences``: the fields where Kayse differs);
- refresh: ``in-sync``, ``drifted`` (the next apply updates it), ``gone`` (404: the next
  apply creates it), ``unconfirmed`` (a list or campaign its listing does not show: left
  as it is), ``unreadable`` (Kayse refused the read), ``skipped`` (not read), ``unknown``
  (its create's outcome is unknown);
- ``plan --destroy``: ``delete``, ``left-behind``, ``unknown``;
- destroy: ``deleted``, ``gone`` (already deleted), ``left-behind``, ``failed`` (Kayse
  refused: it stays in the state), ``skipped`` (not reached), ``unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kayse_pipeline.api.endpoints import ENDPOINTS
from kayse_pipeline.cli.output.notes import notes_json
from kayse_pipeline.errors import Diagnostic

if TYPE_CHECKING:  # for annotations only: validate's output loads no later stage
    from kayse_pipeline.plan.apply import Step
    from kayse_pipeline.plan.destroy import DestroyPlan
    from kayse_pipeline.run.apply import PlanReport
    from kayse_pipeline.run.destroy import DestroyResult
    from kayse_pipeline.run.doctor import DoctorReport
    from kayse_pipeline.run.executor import ApplyResult
    from kayse_pipeline.run.refresh import Adopted, RefreshResult
    from kayse_pipeline.state import Saved


def plan_json(report: PlanReport) -> dict[str, Any]:
    plan = report.plan
    return {
        "manifest": str(report.manifest.path),
        "target": report.target,
        "records": [_planned_json(r) for r in plan.records],
        "memberships": [
            {"list": m.list_symbol, "op": m.op, "count": len(m.members)} for m in plan.memberships
        ],
        "steps": [_step_json(s) | {"waits_for": list(s.waits_for)} for s in plan.steps],
        "orphans": [{"kind": s.kind, "symbol": sym, "id": s.id} for sym, s in plan.orphans],
        "requests": plan.requests,
        "changes": plan.has_changes,
    } | notes_json(report.manifest.notes)


class Named(Protocol):
    """A record as a plan or a run shows it."""

    @property
    def kind(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def id(self) -> int | None: ...
    @property
    def action(self) -> str: ...


class RunOutcome(Named, Protocol):
    """One record's outcome in a run that sends requests (apply, destroy)."""

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
    return run_json(report.manifest.path, report.target, result) | notes_json(report.manifest.notes)


def adopted_json(adopted: Adopted) -> dict[str, Any]:
    record = {"kind": adopted.kind, "symbol": adopted.symbol, "id": adopted.id}
    record |= {"action": "adopted", "differences": list(adopted.differences)}
    return {"records": [record], "requests": adopted.reads}


def refresh_json(result: RefreshResult) -> dict[str, Any]:
    return {
        "records": [
            _drop_none(
                {
                    "kind": f.kind,
                    "symbol": f.symbol,
                    "id": f.id,
                    "action": f.action,
                    "message": f.message,
                }
            )
            for f in result.outcomes
        ],
        "summary": result.counts(),
        "requests": result.reads,
        "reads": result.reads,
        "max_reads": result.max_reads,
        "stopped": result.stopped,
        "ok": result.ok,
    }


def refreshed_plan_json(refreshed: RefreshResult, report: PlanReport) -> dict[str, Any]:
    """``plan --refresh``: the plan's document with what the refresh found."""
    return plan_json(report) | {"refresh": refresh_json(refreshed), "reads": refreshed.reads}


def destroy_plan_json(plan: DestroyPlan) -> dict[str, Any]:
    return {
        "manifest": str(plan.manifest.path),
        "target": plan.target,
        "records": [_planned_json(d) for d in plan.records],
        "steps": [_step_json(s) for s in plan.steps],
        "requests": plan.requests,
        "changes": plan.has_changes,
    }


def destroy_json(plan: DestroyPlan, result: DestroyResult) -> dict[str, Any]:
    return run_json(plan.manifest.path, plan.target, result)


def state_json(rows: Sequence[tuple[str, Saved]]) -> dict[str, Any]:
    """``state show``: every saved record."""
    return {
        "records": [{"symbol": s, "kind": r.kind, "id": r.id, "status": r.status} for s, r in rows]
    }


class Planned(Named, Protocol):
    """One record in a plan (apply or destroy)."""

    @property
    def note(self) -> str | None: ...


def _planned_json(r: Planned) -> dict[str, Any]:
    return _drop_none(
        {"kind": r.kind, "symbol": r.symbol, "id": r.id, "action": r.action, "note": r.note}
    )


def _step_json(step: Step) -> dict[str, Any]:
    endpoint = ENDPOINTS[step.endpoint]
    return {
        "method": endpoint.method,
        "path": endpoint.path,
        "action": step.action,
        "kind": step.kind,
        "count": step.count,
        "requests": step.requests,
    }


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None or k == "id"}


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """A problem as editors and CI annotations read it; no place for a --var."""
    placed = bool(diagnostic.file)
    return {
        "file": diagnostic.file if placed else None,
        "line": diagnostic.line if placed else None,
        "column": diagnostic.column if placed else None,
        "path": diagnostic.path or None,
        "message": diagnostic.message,
    }


def doctor_json(report: DoctorReport) -> dict[str, Any]:
    """``{"target", "manifest", "ok", "checks": [...], "requests", "methods"}``."""
    return {
        "target": report.target,
        "manifest": str(report.manifest) if report.manifest else None,
        "ok": report.ok,
        "checks": [
            {
                "name": c.name,
                "title": c.title,
                "verdict": c.verdict,
                "saw": list(c.saw),
                "todo": list(c.todo),
            }
            for c in report.checks
        ],
        "requests": report.requests,
        "methods": dict(report.methods),
    }
