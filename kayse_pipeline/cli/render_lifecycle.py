"""Rendering of import, refresh and destroy for people and for JSON; only the CLI calls this.

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

from typing import Any

from kayse_pipeline.api.client import ENDPOINTS
from kayse_pipeline.cli.render import budget_time, run_json, step_line
from kayse_pipeline.plan.apply import Step
from kayse_pipeline.run.destroy import DestroyPlan, DestroyResult
from kayse_pipeline.run.refresh import Adopted, RefreshResult, update_consequence

DESTROY_MARK = {"delete": "-", "left-behind": "!", "unknown": "?"}
REFRESH_ORDER = ("in-sync", "drifted", "gone", "unconfirmed", "unreadable", "skipped", "unknown")
DESTROY_ORDER = ("deleted", "gone", "left-behind", "failed", "skipped", "unknown")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def adopted_text(adopted: Adopted) -> str:
    head = f"{adopted.symbol}: adopted {adopted.kind} {adopted.id}"
    reads = _plural(adopted.reads, "read")
    if adopted.in_sync:
        return f"{head}; it matches the manifest, so the next apply leaves it as it is ({reads})"
    fields = ", ".join(adopted.differences)
    then = update_consequence(adopted.kind)
    return f"{head}; it differs from the manifest ({fields}): {then} ({reads})"


def adopted_json(adopted: Adopted) -> dict[str, Any]:
    record = {"kind": adopted.kind, "symbol": adopted.symbol, "id": adopted.id}
    record |= {"action": "adopted", "differences": list(adopted.differences)}
    return {"records": [record], "requests": adopted.reads}


def refresh_text(result: RefreshResult) -> str:
    lines = []
    for f in result.findings:
        note = f": {f.message}" if f.message else ""
        id_part = f" (id {f.id})" if f.id is not None else ""
        lines.append(f"  {f.action:11} {f.kind} {f.symbol}{id_part}{note}")
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    counts = result.counts()
    found = ", ".join(f"{counts[a]} {a}" for a in REFRESH_ORDER if a in counts)
    spent = _plural(result.reads, "read") + " spent"
    if result.max_reads is not None:
        spent += f" (--max-reads {result.max_reads})"
    lines.append(f"Refresh: {found or 'no saved record to read'}; {spent}.")
    return "\n".join(lines)


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
            for f in result.findings
        ],
        "summary": result.counts(),
        "requests": result.reads,
        "reads": result.reads,
        "max_reads": result.max_reads,
        "stopped": result.stopped,
        "ok": result.ok,
    }


def destroy_plan_text(plan: DestroyPlan) -> str:
    lines = [f"Destroy plan for {plan.manifest.path} against {plan.target}", ""]
    for d in plan.records:
        id_part = f" (id {d.id})" if d.id is not None else ""
        note = f": {d.note}" if d.note else ""
        lines.append(f"  {DESTROY_MARK[d.action]} {d.kind} {d.symbol}{id_part}{note}")
    if not plan.records:
        lines.append("  Nothing to destroy: the state holds none of these records.")
    elif not plan.has_changes:
        lines.append("  Nothing to delete.")
    if plan.steps:
        lines += ["", "Requests, in order:"]
        lines += [f"  {n}. {step_line(s)}" for n, s in enumerate(plan.steps, start=1)]
    n = plan.requests
    lines += [
        "",
        f"{plan.count('delete')} to delete, {plan.count('left-behind')} left behind, "
        f"{plan.count('unknown')} unknown; {_plural(n, 'request')} ({budget_time(n)})",
    ]
    return "\n".join(lines)


def destroy_plan_json(plan: DestroyPlan) -> dict[str, Any]:
    return {
        "manifest": str(plan.manifest.path),
        "target": plan.target,
        "records": [
            _drop_none(
                {"kind": d.kind, "symbol": d.symbol, "id": d.id, "action": d.action, "note": d.note}
            )
            for d in plan.records
        ],
        "steps": [_step_json(s) for s in plan.steps],
        "requests": plan.requests,
        "changes": plan.has_changes,
    }


def destroy_text(result: DestroyResult) -> str:
    lines = []
    for o in result.outcomes:
        id_part = str(o.id) if o.id is not None else "-"
        lines.append(f"  {o.kind:8} {o.symbol:32} {id_part:>10}  {o.action}")
    lines += [f"  {change}" for change in result.membership_changes[:50]]
    problems = [o for o in result.outcomes if o.action in ("failed", "skipped", "unknown")]
    lines += [f"{o.action}: {o.kind} {o.symbol}: {o.message}" for o in problems[:50]]
    lines += [f"failed: {m}" for m in result.membership_failures]
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    counts = result.counts()
    done = ", ".join(f"{counts[a]} {a}" for a in DESTROY_ORDER if a in counts)
    lines.append(f"Summary: {done or 'nothing to destroy'}; {result.requests} request(s) sent.")
    return "\n".join(lines)


def destroy_json(plan: DestroyPlan, result: DestroyResult) -> dict[str, Any]:
    return run_json(plan.manifest.path, plan.target, result)


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
