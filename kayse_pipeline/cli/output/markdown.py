"""``--output markdown``: plans and runs as GitHub-flavoured Markdown, for a pull-request
comment or ``$GITHUB_STEP_SUMMARY``.

A report shows the target, counts per kind, the requests in order with their budget
time, the names (never the values) of fields known to change, unknown records with the
commands that resolve them, warnings, a Mermaid diagram of the five steps and, folded
away, the data rows left out (``on_bad_row: skip``, a place and a reason each) and a line
per record. It never holds a field value or the key, and it always fits in
``COMMENT_LIMIT`` characters: sections are summarised whole, never cut.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from kayse_pipeline.api.endpoints import ENDPOINTS
from kayse_pipeline.cli.output.markdown_blocks import (
    COMMENT_LIMIT,
    Section,
    assemble,
    bullet_list,
    code,
    code_block,
    details,
    escape,
    table,
)
from kayse_pipeline.cli.output.notes import notes_summary
from kayse_pipeline.cli.output.text import PLAN_MARK, budget_time, unknown_advice
from kayse_pipeline.model import KIND_ORDER, LoadNotes
from kayse_pipeline.plan.apply import Step
from kayse_pipeline.plan.destroy import DestroyPlan
from kayse_pipeline.run.apply import PlanReport
from kayse_pipeline.run.destroy import DestroyResult
from kayse_pipeline.run.executor import ApplyResult
from kayse_pipeline.run.refresh import RefreshResult
from kayse_pipeline.run.session import Options

MARKER = "<!-- kayse-pipeline report -->"
LISTED = 50  # updates, warnings and unknowns listed before a count stands for the rest
STEP_NAMES = ("contacts", "cases", "lists", "membership", "campaigns")
STEP_KIND = {"contact": 0, "case": 1, "list": 2, "campaign": 4}
MEMBERSHIP_OPS = ("attach", "detach", "append", "remove")
PLAN_COLUMNS = ("create", "update", "no-op", "unknown", "left alone")
APPLY_COLUMNS = ("created", "updated", "unchanged", "failed", "skipped", "unknown")
DESTROY_COLUMNS = ("deleted", "gone", "left-behind", "failed", "skipped", "unknown")
LABEL = {"no-op": "unchanged", "left-behind": "left behind"}  # column headings
REFRESH_COLUMNS = ("in-sync", "drifted", "gone", "unconfirmed", "unreadable", "skipped", "unknown")


def plan_markdown(
    report: PlanReport, options: Options, refreshed: RefreshResult | None = None
) -> str:
    """``plan --output markdown`` (with ``--refresh``: what the refresh found first)."""
    plan = report.plan
    per_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KIND_ORDER}
    for rp in plan.records:
        per_kind[rp.kind][rp.action] += 1
    for _, saved in plan.orphans:
        per_kind[saved.kind]["left alone"] += 1
    stages = ["0"] * 5
    for kind, counts in per_kind.items():
        stages[STEP_KIND[kind]] = f"{counts['create']} create, {counts['update']} update"
    members = sum(len(m.members) for m in plan.memberships)
    stages[3] = f"{members} member change(s)"
    drift = _drift(refreshed)
    updates = [
        f"{escape(rp.kind)} {code(rp.symbol)} (id {rp.id}): "
        + (drift.get(rp.symbol) or "edited in the manifest")
        for rp in plan.records
        if rp.action == "update"
    ]
    warnings = [
        f"{escape(saved.kind)} {code(symbol)} (id {saved.id}) is in the state but not in the "
        "manifest: left alone"
        for symbol, saved in plan.orphans
    ]
    warnings += [
        f"{escape(rp.kind)} {code(rp.symbol)}: {escape(rp.note)}"
        for rp in plan.records
        if rp.blocked and rp.note
    ]
    unknown = [rp.symbol for rp in plan.records if rp.action == "unknown"]
    records = [
        f"{code(PLAN_MARK[rp.action].strip() or '=')} {escape(rp.kind)} {code(rp.symbol)}"
        + (f" (id {rp.id})" if rp.id is not None else "")
        for rp in plan.records
        if rp.action != "no-op"
    ]
    sections = [
        _title("plan", str(report.manifest.path), report.target),
        *([_refresh_section(refreshed)] if refreshed is not None else []),
        Section.of(
            [
                *_count_table(per_kind, PLAN_COLUMNS),
                "",
                _cost(plan.requests)
                + ("" if plan.has_changes else ": nothing to do, Kayse already matches."),
                *_leads(report.manifest.notes),
            ]
        ),
        _steps_section(plan.steps),
        _mermaid(stages),
        _listed("Updates (field names only, never values)", updates, priority=3),
        _listed("Warnings", warnings, priority=3),
        _unknowns(options, report, unknown),
        _skipped_rows(report.manifest.notes),
        _records(records, f"Records to change ({len(records)})"),
    ]
    return assemble([s for s in sections if s.lines])


def apply_markdown(report: PlanReport, result: ApplyResult, options: Options) -> str:
    """``apply --output markdown``: what the run did, per kind, and what is left."""
    per_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KIND_ORDER}
    for o in result.outcomes:
        per_kind[o.kind][o.action] += 1
    stages = ["0"] * 5
    for kind, counts in per_kind.items():
        done = ", ".join(f"{counts[a]} {a}" for a in APPLY_COLUMNS if counts[a])
        stages[STEP_KIND[kind]] = done or "nothing"
    stages[3] = f"{len(result.membership_changes)} call(s)"
    if result.membership_failures:
        stages[3] += f", {len(result.membership_failures)} failed"
    problems = [
        f"{escape(o.action)}: {escape(o.kind)} {code(o.symbol)}: {escape(o.message)}"
        for o in result.outcomes
        if o.message and o.action not in ("unchanged", "skipped")
    ]
    problems += [f"failed: {escape(m)}" for m in result.membership_failures]
    skipped = sum(1 for o in result.outcomes if o.action == "skipped")
    outcome = "every record is in place" if result.ok else "**not every record is in place**"
    lines = [
        *_count_table(per_kind, APPLY_COLUMNS),
        "",
        f"**{_plural(result.requests, 'request')} sent**; {outcome}.",
    ]
    if result.stopped:
        lines += ["", f"Stopped: {escape(result.stopped)}"]
    if skipped:
        lines += ["", f"{skipped} record(s) not reached or waiting for another: run apply again."]
    lines += _leads(report.manifest.notes)
    unknown = [o.symbol for o in result.outcomes if o.action == "unknown"]
    records = [
        f"{escape(o.kind)} {code(o.symbol)} "
        + (f"id {o.id} " if o.id is not None else "")
        + escape(o.action)
        for o in result.outcomes
    ]
    sections = [
        _title("apply", str(report.manifest.path), report.target),
        Section.of(lines),
        _mermaid(stages),
        _listed("Problems", problems, priority=3),
        _unknowns(options, report, unknown),
        _listed("Membership changes", [escape(c) for c in result.membership_changes], priority=2),
        _skipped_rows(report.manifest.notes),
        _records(records, f"Records ({len(records)})"),
    ]
    return assemble([s for s in sections if s.lines])


def refresh_markdown(result: RefreshResult, options: Options) -> str:
    """``refresh --output markdown``: what reading the saved records back found."""
    return assemble(
        [
            _title("refresh", str(options.manifest), options.target),
            _refresh_section(result),
            _records(
                [_line(f.action, f.kind, f.symbol, f.id) for f in result.outcomes],
                f"Records read ({len(result.outcomes)})",
            ),
        ]
    )


def destroy_plan_markdown(plan: DestroyPlan) -> str:
    """``plan --destroy --output markdown``."""
    per_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KIND_ORDER}
    for d in plan.records:
        per_kind[d.kind][d.action] += 1
    stages = [f"{per_kind[k]['delete']} delete" for k in ("contact", "case", "list")]
    stages += [f"{sum(len(d.ids) for d in plan.detaches)} member(s) off"]
    stages += [f"{per_kind['campaign']['delete']} delete"]
    records = [_line(d.action, d.kind, d.symbol, d.id) for d in plan.records]
    return assemble(
        [
            _title("destroy plan", str(plan.manifest.path), plan.target),
            Section.of(
                [
                    *_count_table(per_kind, ("delete", "left-behind", "unknown")),
                    "",
                    _cost(plan.requests),
                ]
            ),
            _steps_section(plan.steps),
            _mermaid(stages, reverse=True),
            _records(records, f"Records ({len(records)})"),
        ]
    )


def destroy_markdown(plan: DestroyPlan, result: DestroyResult) -> str:
    """``destroy --output markdown``: what was deleted, left behind or not reached."""
    per_kind: dict[str, Counter[str]] = {kind: Counter() for kind in KIND_ORDER}
    for o in result.outcomes:
        per_kind[o.kind][o.action] += 1
    stages = [f"{per_kind[k]['deleted']} deleted" for k in ("contact", "case", "list")]
    stages += [f"{len(result.membership_changes)} call(s)"]
    stages += [f"{per_kind['campaign']['left-behind']} left behind"]
    problems = [
        f"{escape(o.action)}: {escape(o.kind)} {code(o.symbol)}: {escape(o.message)}"
        for o in result.outcomes
        if o.message and o.action in ("failed", "unknown")
    ]
    problems += [f"failed: {escape(m)}" for m in result.membership_failures]
    lines = [
        *_count_table(per_kind, DESTROY_COLUMNS),
        "",
        f"**{result.requests} request(s) sent**.",
    ]
    if result.stopped:
        lines += ["", f"Stopped: {escape(result.stopped)}"]
    records = [_line(o.action, o.kind, o.symbol, o.id) for o in result.outcomes]
    return assemble(
        [
            _title("destroy", str(plan.manifest.path), plan.target),
            Section.of(lines),
            _mermaid(stages, reverse=True),
            _listed("Problems", problems, priority=3),
            _records(records, f"Records ({len(records)})"),
        ]
    )


# -- sections ----------------------------------------------------------------------------


def _title(command: str, manifest: str, target: str) -> Section:
    return Section.of(
        [MARKER, f"### kayse-pipeline {command}: {code(manifest)}", "", f"Target: {code(target)}"]
    )


def _count_table(per_kind: Mapping[str, Counter[str]], columns: Sequence[str]) -> list[str]:
    rows = [
        [escape(kind), *(str(per_kind[kind][c]) for c in columns)]
        for kind in KIND_ORDER
        if sum(per_kind[kind].values())
    ]
    totals = [sum(per_kind[k][c] for k in per_kind) for c in columns]
    rows.append(["**total**", *(f"**{n}**" for n in totals)])
    return table(["kind", *(LABEL.get(c, c) for c in columns)], rows, right=len(columns))


def _steps_section(steps: Sequence[Step]) -> Section:
    if not steps:
        return Section.of([])
    rows = []
    for n, step in enumerate(steps, start=1):
        endpoint = ENDPOINTS[step.endpoint]
        what = f"{step.action} {step.count} {step.kind}(s)"
        if step.action in MEMBERSHIP_OPS:
            what = f"{step.action} {step.count} on list {code(step.symbols[0])}"
        waits = ", ".join(code(s) for s in step.waits_for[:3])
        if len(step.waits_for) > 3:
            waits += f" and {len(step.waits_for) - 3} more"
        rows.append([n, endpoint.method, code(endpoint.path), what, waits or "-", step.requests])
    total = sum(s.requests for s in steps)
    head = ["#", "method", "path", "what", "waits for", "requests"]
    lines = ["#### Requests, in order", "", *table(head, rows, right=1)]
    return Section.of(
        lines,
        ["#### Requests", "", f"{len(steps)} steps, {_plural(total, 'request')} in all."],
        priority=2,
    )


def _mermaid(stages: Sequence[str], *, reverse: bool = False) -> Section:
    """The five steps as a flowchart with their counts (labels hold only numbers and words)."""
    nodes = [f'  s{n}["{n + 1}. {STEP_NAMES[n]}<br/>{stages[n]}"]' for n in range(5)]
    order = range(4, -1, -1) if reverse else range(5)
    edges = "  " + " --> ".join(f"s{n}" for n in order)
    return Section.of(["```mermaid", "flowchart LR", *nodes, edges, "```"], priority=4)


def _listed(title: str, items: Sequence[str], *, priority: int) -> Section:
    if not items:
        return Section.of([])
    shown = items[:LISTED]
    more = [f"- … and {len(items) - LISTED} more"] if len(items) > LISTED else []
    return Section.of(
        [f"#### {title}", "", *(f"- {item}" for item in shown), *more],
        [f"#### {title}", "", f"{len(items)} in all: see the command's text or JSON output."],
        priority=priority,
    )


def _unknowns(options: Options, report: PlanReport, symbols: Sequence[str]) -> Section:
    if not symbols:
        return Section.of([])
    advice = unknown_advice(options, report.manifest, symbols[:LISTED]).splitlines()
    if len(symbols) > LISTED:
        advice.insert(LISTED + 1, f"  … and {len(symbols) - LISTED} more")
    title = f"#### Unknown records ({len(symbols)})"
    return Section.of(
        [title, "", *code_block(advice)],
        [title, "", *code_block(advice[:1] + advice[-5:])],
        priority=3,
    )


def _refresh_section(result: RefreshResult | None) -> Section:
    if result is None:
        return Section.of([])
    counts = result.counts()
    row = [str(counts.get(c, 0)) for c in REFRESH_COLUMNS]
    lines = ["#### Refresh", "", *table(list(REFRESH_COLUMNS), [row], right=7)]
    lines += ["", f"{_plural(result.reads, 'read')} spent."]
    if result.stopped:
        lines += ["", f"Stopped: {escape(result.stopped)}"]
    drifted = [f"{code(s)}: {names}" for s, names in _drift(result).items()]
    if drifted:
        lines += ["", "Changed in Kayse (field names only):", ""]
        lines += bullet_list(drifted, budget=8_000, more="… and {n} more")
    return Section.of(lines, lines[: lines.index("") + 1] + lines[2:4], priority=3)


def _records(lines: Sequence[str], summary: str) -> Section:
    """Per-record lines, folded away; as many whole lines as the size bound leaves room for."""
    if not lines:
        return Section.of([])
    body = bullet_list(lines, budget=COMMENT_LIMIT // 2, more="… and {n} more: see `--output json`")
    return Section.of(
        details(summary, body),
        details(summary, [f"{len(lines)} records: see `--output json`."]),
        priority=1,
    )


def _leads(notes: LoadNotes) -> list[str]:
    """The count of skipped rows and normalised values, as in the text summary."""
    leads = notes_summary(notes)
    return ["", escape(leads)] if leads else []


def _skipped_rows(notes: LoadNotes) -> Section:
    """Data rows left out, folded away: a ``FILE:LINE`` and a reason each, never a value."""
    skipped = notes.skipped_rows
    if not skipped:
        return Section.of([])
    summary = f"Bad rows skipped ({len(skipped)})"
    items = [f"{code(f'{n.file}:{n.line}')}: {escape(n.message)}" for n in skipped]
    more = "… and {n} more: see `--output json`"
    return Section.of(
        details(summary, bullet_list(items, budget=COMMENT_LIMIT // 4, more=more)),
        details(summary, [f"{len(skipped)} rows: see `--output json`."]),
        priority=2,
    )


def _drift(result: RefreshResult | None) -> dict[str, str]:
    """symbol -> the drifted field names a refresh found (names only, from its notes)."""
    if result is None:
        return {}
    found: dict[str, str] = {}
    for f in result.outcomes:
        if f.action == "drifted" and f.fields:
            found[f.symbol] = "changed in Kayse (" + ", ".join(code(n) for n in f.fields) + ")"
    return found


def _line(action: str, kind: str, symbol: str, record_id: int | None) -> str:
    """One record: what happens to it, its kind, symbol and ID (never a field value)."""
    shown = f" (id {record_id})" if record_id is not None else ""
    return f"{escape(action)}: {escape(kind)} {code(symbol)}{shown}"


def _cost(requests: int) -> str:
    return f"**{_plural(requests, 'request')}** ({escape(budget_time(requests))})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
