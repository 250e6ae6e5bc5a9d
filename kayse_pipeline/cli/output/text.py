"""Output for people (and CI logs): plans, run summaries, advice; only the CLI calls this."""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from kayse_pipeline import advice
from kayse_pipeline.advice import PROGRAM, update_consequence
from kayse_pipeline.api.endpoints import ENDPOINTS
from kayse_pipeline.cli.output.notes import notes_summary
from kayse_pipeline.model import Manifest
from kayse_pipeline.naming import record_name

if TYPE_CHECKING:  # for annotations only: validate's output loads no later stage
    from kayse_pipeline.plan.apply import Plan, Step
    from kayse_pipeline.plan.destroy import DestroyPlan
    from kayse_pipeline.plan.targets import LeftOut
    from kayse_pipeline.run.apply import PlanReport
    from kayse_pipeline.run.destroy import DestroyResult
    from kayse_pipeline.run.doctor import DoctorReport
    from kayse_pipeline.run.executor import ApplyResult
    from kayse_pipeline.run.refresh import Adopted, RefreshResult
    from kayse_pipeline.run.session import Options
    from kayse_pipeline.scaffold.columns import ColumnMap
    from kayse_pipeline.state import Saved

HOURLY_BUDGET = 500  # Kayse's documented requests per hour per key
LISTED_PER_KIND = 25  # past this many records of a kind, a plan shows a count instead
LIST_RECORDS_UP_TO = 200  # a longer apply prints counts, not a line per record
PLAN_MARK = {"create": "+", "update": "~", "no-op": " ", "unknown": "?"}
DESTROY_MARK = {"delete": "-", "left-behind": "!", "unknown": "?"}
REFRESH_ORDER = ("in-sync", "drifted", "gone", "unconfirmed", "unreadable", "skipped", "unknown")
DESTROY_ORDER = ("deleted", "gone", "left-behind", "failed", "skipped", "unknown")


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
        lines.append(f"  {PLAN_MARK[rp.action]} {record_name(rp.kind, rp.symbol)}{id_part}{note}")
    for kind, count in shown.items():
        if count > LISTED_PER_KIND:
            lines.append(f"  … and {count - LISTED_PER_KIND} more {kind}(s)")
    for mp in plan.memberships:
        lines.append(f"  ~ list {mp.list_symbol}: {mp.op} {len(mp.members)}")
    for symbol, saved in plan.orphans:
        lines.append(
            f"  ! {record_name(saved.kind, symbol)} (id {saved.id}) is in the state but not "
            "in the manifest: left alone"
        )
    if not plan.has_changes:
        lines.append("  Nothing to do: Kayse already matches the manifest.")
    if plan.steps:
        lines += ["", "Requests, in order:"]
        lines += [f"  {n}. {step_line(s)}" for n, s in enumerate(plan.steps, start=1)]
    lines += ["", summary_line(plan)]
    if leads := notes_summary(report.manifest.notes):
        lines.append(leads)
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


def apply_text(report: PlanReport, result: ApplyResult) -> str:
    leads = notes_summary(report.manifest.notes)
    if not report.plan.has_changes:
        done = len(result.outcomes)
        nothing = f"Nothing to do: {done} record(s) already in place, 0 requests sent."
        return nothing + (f"\n{leads}" if leads else "")
    lines: list[str] = []
    if len(result.outcomes) <= LIST_RECORDS_UP_TO:
        for o in result.outcomes:
            id_part = str(o.id) if o.id is not None else "-"
            lines.append(f"  {o.kind:8} {o.symbol:32} {id_part:>10}  {o.action}")
    lines += [f"  {change}" for change in result.membership_changes[:50]]
    problems = [o for o in result.outcomes if o.message and o.action != "unchanged"]
    for o in problems[:50]:
        lines.append(f"{o.action}: {record_name(o.kind, o.symbol)}: {o.message}")
    if len(problems) > 50:
        lines.append(f"… and {len(problems) - 50} more records that are not in place")
    lines += [f"failed: {m}" for m in result.membership_failures]
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    parts = []
    for kind, row in result.counts().items():
        parts.append(f"{kind}s " + ", ".join(f"{n} {a}" for a, n in sorted(row.items())))
    lines.append("Summary: " + "; ".join(parts) + f". {result.requests} request(s) sent.")
    if leads:
        lines.append(leads)
    return "\n".join(lines)


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


def refresh_text(result: RefreshResult) -> str:
    lines = []
    for f in result.outcomes:
        note = f": {f.message}" if f.message else ""
        id_part = f" (id {f.id})" if f.id is not None else ""
        lines.append(f"  {f.action:11} {record_name(f.kind, f.symbol)}{id_part}{note}")
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    counts = result.counts()
    found = ", ".join(f"{counts[a]} {a}" for a in REFRESH_ORDER if a in counts)
    spent = _plural(result.reads, "read") + " spent"
    if result.max_reads is not None:
        spent += f" (--max-reads {result.max_reads})"
    lines.append(f"Refresh: {found or 'no saved record to read'}; {spent}.")
    return "\n".join(lines)


def destroy_plan_text(plan: DestroyPlan) -> str:
    lines = [f"Destroy plan for {plan.manifest.path} against {plan.target}", ""]
    for d in plan.records:
        id_part = f" (id {d.id})" if d.id is not None else ""
        note = f": {d.note}" if d.note else ""
        lines.append(f"  {DESTROY_MARK[d.action]} {record_name(d.kind, d.symbol)}{id_part}{note}")
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


def destroy_text(result: DestroyResult) -> str:
    lines = []
    for o in result.outcomes:
        id_part = str(o.id) if o.id is not None else "-"
        lines.append(f"  {o.kind:8} {o.symbol:32} {id_part:>10}  {o.action}")
    lines += [f"  {change}" for change in result.membership_changes[:50]]
    problems = [o for o in result.outcomes if o.action in ("failed", "skipped", "unknown")]
    lines += [f"{o.action}: {record_name(o.kind, o.symbol)}: {o.message}" for o in problems[:50]]
    lines += [f"failed: {m}" for m in result.membership_failures]
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    counts = result.counts()
    done = ", ".join(f"{counts[a]} {a}" for a in DESTROY_ORDER if a in counts)
    lines.append(f"Summary: {done or 'nothing to destroy'}; {result.requests} request(s) sent.")
    return "\n".join(lines)


def state_text(rows: Sequence[tuple[str, Saved]]) -> str:
    """``state show``: symbol, kind and ID of every saved record."""
    if not rows:
        return "The state holds no records."
    lines = []
    for symbol, saved in rows:
        shown = str(saved.id) if saved.status == "ok" else "unknown"
        lines.append(f"{symbol:32} {saved.kind:8} {shown}")
    return "\n".join(lines)


def refreshed_plan_text(refreshed: RefreshResult, report: PlanReport) -> str:
    """``plan --refresh``: what the refresh found, then the plan."""
    return refresh_text(refreshed) + "\n\n" + plan_text(report)


def set_text(pairs: Sequence[tuple[str, int]]) -> str:
    return "\n".join(f"{symbol}: saved ID {record_id}" for symbol, record_id in pairs)


def forgotten_text(symbols: Sequence[str]) -> str:
    return f"forgotten: {', '.join(symbols)} (the next apply creates them)"


def state_command(options: Options, verb: str) -> str:
    """``kayse-pipeline state VERB MANIFEST`` with the options that find the same state file.

    State commands are offline: they need no ``--api-url``, only the state file's place.
    """
    flags: list[str] = []
    if options.state is not None:
        flags += ["--state", str(options.state)]
    elif options.sandbox:
        flags.append("--sandbox")  # the sandbox's state file has a name of its own
    return advice.state_command(verb, str(options.manifest), flags)


def unknown_advice(options: Options, manifest: Manifest, symbols: Sequence[str]) -> str:
    """Every unknown record, how to find it in Kayse, and the commands that resolve it."""
    dump = shlex.join([PROGRAM, "sandbox", "dump", "--dir", str(options.sandbox_dir)])
    where = f"the sandbox (`{dump}` shows its records)" if options.sandbox else "Kayse"
    lines = [
        f"{len(symbols)} record(s) may or may not have been created in Kayse; no apply "
        "creates them again until you say which:"
    ]
    for symbol in symbols:
        record = manifest.records.get(symbol)
        lines.append(f"  {record_name(record.kind if record else 'symbol', symbol, record)}")
    forget = state_command(options, "forget")
    lines += [
        f"Look each one up in {where}. If it is there, record its ID:",
        f"  {state_command(options, 'set')} SYMBOL ID [SYMBOL ID ...]",
        "If it is not, release it so that the next apply creates it:",
        f"  {forget} SYMBOL [SYMBOL ...]",
        f"  (once none of them is there: {forget} --unknown)",
    ]
    return "\n".join(lines)


def plan_advice(options: Options, report: PlanReport) -> str | None:
    """The advice for the records a plan holds as unknown, if any."""
    unknown = [r.symbol for r in report.plan.records if r.action == "unknown"]
    return unknown_advice(options, report.manifest, unknown) if unknown else None


def apply_advice(options: Options, report: PlanReport, result: ApplyResult) -> str | None:
    """The advice for the records whose create an apply left unknown, if any."""
    unknown = [o.symbol for o in result.outcomes if o.action == "unknown"]
    return unknown_advice(options, report.manifest, unknown) if unknown else None


NAMED_UP_TO = 10  # a warning names this many symbols, then counts the rest


def target_warnings(left: LeftOut, manifest: Manifest) -> list[str]:
    """What a ``--target`` plan leaves out, as warnings (empty when it leaves out nothing)."""
    if not left.records:
        return []
    named = _some([f"{kind} {symbol}" for kind, symbol in left.records])
    lines = [
        f"warning: --target makes this plan partial: it leaves out {len(left.records)} of"
        f" {left.total} records ({named}); run without --target to bring them in line"
    ]
    for list_symbol, members in left.off_lists:
        kinds = [f"{manifest.kind_of(member)} {member}" for member in members]
        lines.append(
            f"warning: list {list_symbol} is not targeted, so {_some(kinds)}"
            f" {'stays' if len(members) == 1 else 'stay'} off it"
        )
    return lines


def _some(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMED_UP_TO])
    return shown + (f" and {len(names) - NAMED_UP_TO} more" if len(names) > NAMED_UP_TO else "")


def doctor_text(report: DoctorReport) -> str:
    """Each check with its verdict, what it saw and what to do; then the requests sent."""
    about = f" with {report.manifest}" if report.manifest else ""
    lines = [f"Doctor for {report.target}{about}", ""]
    for check in report.checks:
        lines.append(f"{check.verdict:8} {check.name:11} {check.title}")
        lines += [f"{'':21}saw: {saw}" for saw in check.saw]
        lines += [f"{'':21}do:  {todo}" for todo in check.todo]
    counts = {v: sum(1 for c in report.checks if c.verdict == v) for v in ("failed", "warning")}
    methods = ", ".join(f"{n} {m}" for m, n in sorted(report.methods.items())) or "none"
    lines += [
        "",
        f"{_plural(report.requests, 'request')} sent ({methods}); "
        f"{counts['failed']} failed, {_plural(counts['warning'], 'warning')}",
    ]
    return "\n".join(lines)


def init_text(
    folder: Path, written: Sequence[Path], columns: ColumnMap | None, manifest: PurePosixPath
) -> str:
    """What init wrote, how the CSV's columns were mapped, and the first commands to run."""
    lines = [f"Wrote a recipe repository in {folder}:"]
    lines += [f"  {path.relative_to(folder)}" for path in written]
    if columns is not None:
        mapped = {column: field for field, column in columns.fields.items()}
        lines += ["", f"Columns of {columns.file}:"]
        lines.append(f"  {columns.id_column} -> symbols and external_source_id")
        if columns.case_number:
            lines.append(f"  {columns.case_number} -> case_number")
        if columns.full_name:
            lines.append(f"  {columns.full_name} -> first_name (the whole name)")
        lines += [f"  {column} -> {field}" for column, field in mapped.items()]
        lines += [f"  {column}: not mapped ({why})" for column, why in columns.unmapped.items()]
    where = "" if folder == Path(".") else f"cd {shlex.quote(str(folder))}\n  "
    lines += [
        "",
        "Next:",
        f"  {where}kayse-pipeline validate {manifest}",
        f"  kayse-pipeline apply {manifest} --sandbox",
    ]
    return "\n".join(lines)
