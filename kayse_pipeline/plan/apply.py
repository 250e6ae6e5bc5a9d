"""(manifest, state) -> plan: what apply would send, in the seed guide's order, at what cost.

A pure function: it reads the manifest model and the saved state and sends nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from kayse_pipeline.advice import UNKNOWN_NOTE, state_command
from kayse_pipeline.api.endpoints import (
    DEFAULT_BATCH_SIZE,
    WriteAction,
    membership_call,
    per_request,
    write_call,
)
from kayse_pipeline.errors import UsageError
from kayse_pipeline.graph import creation_order
from kayse_pipeline.model import (
    KIND_ORDER,
    MEMBERSHIP_FIELDS,
    Kind,
    Manifest,
    Record,
    Ref,
)
from kayse_pipeline.plan.targets import expand_targets
from kayse_pipeline.state import Saved

PlanAction = Literal["create", "update", "no-op", "unknown"]
MembershipOp = Literal["attach", "detach", "append", "remove"]

# membership field -> (adding op, removing op)
MEMBERSHIP_OPS: Mapping[str, tuple[MembershipOp, MembershipOp]] = {
    "include_ids": ("attach", "detach"),
    "client_ids": ("append", "remove"),
}
CAMPAIGN_CHANGE_NOTE = (
    "changed, but Kayse documents no campaign update: give the campaign a new symbol "
    "to create a new one (the old one stays as it is)"
)


class StateView(Protocol):
    """What the planner reads of the state."""

    salt: str

    def get(self, symbol: str) -> Saved | None: ...

    def members(self, list_symbol: str, field: str) -> frozenset[int]: ...

    @property
    def records(self) -> Mapping[str, Saved]: ...


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """What happens to one record: create, update in place, nothing, or wait for a person."""

    kind: Kind
    symbol: str
    action: PlanAction
    id: int | None
    fingerprint: str
    note: str | None = None

    @property
    def blocked(self) -> bool:
        """A change that cannot be sent (a campaign, which Kayse cannot update)."""
        return self.note is not None and self.action == "update"


@dataclass(frozen=True, slots=True)
class MembershipPlan:
    """Cases attached to / detached from a list, or contacts appended to / removed from it."""

    list_symbol: str
    field: str
    op: MembershipOp
    members: tuple[Ref, ...]  # symbols to resolve at run time, or IDs


@dataclass(frozen=True, slots=True)
class Step:
    """One endpoint called for a group of records, with the requests it costs."""

    endpoint: str
    action: str
    kind: Kind
    symbols: tuple[str, ...]
    waits_for: tuple[str, ...]
    requests: int
    count: int


@dataclass(frozen=True)
class Plan:
    """The ordered work of one apply."""

    records: tuple[RecordPlan, ...]
    memberships: tuple[MembershipPlan, ...]
    steps: tuple[Step, ...]
    orphans: tuple[tuple[str, Saved], ...]
    batch_size: int

    @property
    def requests(self) -> int:
        return sum(step.requests for step in self.steps)

    @property
    def has_changes(self) -> bool:
        return bool(self.steps) or any(r.action != "no-op" for r in self.records)

    def by_symbol(self) -> dict[str, RecordPlan]:
        return {r.symbol: r for r in self.records}


def fingerprint(record: Record, salt: str) -> str:
    """A salted digest of the desired record as written (symbols, not IDs); holds no field value."""
    refs = {
        name: list(values)
        for name, values in record.refs.items()
        if not (record.kind == "list" and name in MEMBERSHIP_FIELDS)
    }
    doc = {"kind": record.kind, "fields": dict(record.fields), "refs": refs}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{salt}\n{text}".encode()).hexdigest()[:32]


def batches(count: int, size: int) -> int:
    return math.ceil(count / size) if count else 0


def make_plan(
    manifest: Manifest,
    state: StateView,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    targets: frozenset[str] | None = None,
) -> Plan:
    """Compare every record with its saved fingerprint and order the calls that close the gap.

    With ``targets`` (``--target``) only those records and what they depend on are planned.
    """
    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    records = _record_plans(manifest, state)
    if targets is not None:
        chosen = expand_targets(manifest, targets, "dependencies")
        records = {symbol: rp for symbol, rp in records.items() if symbol in chosen}
    memberships = _membership_plans(manifest, state, records)
    steps = _steps(manifest, records, memberships, batch_size)
    orphans = tuple(
        (symbol, saved)
        for symbol, saved in sorted(state.records.items())
        if symbol not in manifest.records and targets is None
    )
    return Plan(tuple(records.values()), tuple(memberships), tuple(steps), orphans, batch_size)


def _record_plans(manifest: Manifest, state: StateView) -> dict[str, RecordPlan]:
    plans: dict[str, RecordPlan] = {}
    for symbol in creation_order(manifest):
        record = manifest.records[symbol]
        plans[symbol] = _record_plan(record, state.get(symbol), plans, state.salt)
    return plans


def _record_plan(
    record: Record, saved: Saved | None, earlier: Mapping[str, RecordPlan], salt: str
) -> RecordPlan:
    digest = fingerprint(record, salt)
    if saved is None:
        return RecordPlan(record.kind, record.symbol, "create", None, digest)
    if saved.kind != record.kind:
        raise UsageError(
            f"{record.position}: symbol '{record.symbol}' is saved as a {saved.kind} "
            f"but the manifest makes it a {record.kind}; run `{state_command('forget', None)}` "
            "for it first, or use another symbol"
        )
    if saved.status == "unknown":
        return RecordPlan(
            record.kind,
            record.symbol,
            "unknown",
            None,
            digest,
            UNKNOWN_NOTE,
        )
    # A record pointing at something that will be created anew must be sent with the new ID.
    relinked = any(
        earlier[dep].action == "create" for dep in record.dependencies() if dep in earlier
    )
    if saved.fingerprint == digest and not relinked:
        return RecordPlan(record.kind, record.symbol, "no-op", saved.id, digest)
    note = CAMPAIGN_CHANGE_NOTE if record.kind == "campaign" else None
    return RecordPlan(record.kind, record.symbol, "update", saved.id, digest, note)


def _membership_plans(
    manifest: Manifest, state: StateView, records: Mapping[str, RecordPlan]
) -> list[MembershipPlan]:
    plans: list[MembershipPlan] = []
    for record in manifest.of_kind("list"):
        list_plan = records.get(record.symbol)
        if list_plan is None or list_plan.action == "unknown":
            continue  # not targeted, or waiting for a person
        # A list update re-applies its filter as a set in Kayse, which drops manual members.
        fresh = list_plan.action in ("create", "update")
        for field, (add_op, remove_op) in MEMBERSHIP_OPS.items():
            desired = record.refs.get(field, ())
            applied = frozenset() if fresh else state.members(record.symbol, field)
            to_add: list[Ref] = []
            wanted_ids: set[int] = set()
            for ref in desired:
                member_id = _known_id(ref, records)
                if member_id is not None:
                    wanted_ids.add(member_id)
                    if member_id in applied:
                        continue
                elif isinstance(ref, str) and records[ref].action == "unknown":
                    continue  # cannot be attached until a person resolves it
                to_add.append(ref)
            # prune: false keeps members that left the manifest on the list
            keep = record.symbol in manifest.keep_members
            to_remove = [] if keep else sorted(applied - wanted_ids)
            if to_remove:
                plans.append(MembershipPlan(record.symbol, field, remove_op, tuple(to_remove)))
            if to_add:
                plans.append(MembershipPlan(record.symbol, field, add_op, tuple(to_add)))
    return plans


def _known_id(ref: Ref, records: Mapping[str, RecordPlan]) -> int | None:
    """The ID a member has now, or None while it is to be created (or unresolved)."""
    if isinstance(ref, int):
        return ref
    plan = records[ref]
    return plan.id if plan.action in ("no-op", "update") else None


def _steps(
    manifest: Manifest,
    records: Mapping[str, RecordPlan],
    memberships: Iterable[MembershipPlan],
    batch_size: int,
) -> list[Step]:
    steps: list[Step] = []
    for kind in KIND_ORDER:
        if kind == "campaign":
            steps += _membership_steps(memberships, records, batch_size)
        for action in ("create", "update"):
            group = [r for r in records.values() if r.kind == kind and r.action == action]
            if action == "update":
                group = [r for r in group if not r.blocked]
            if group:
                steps.append(_record_step(manifest, kind, action, group, records, batch_size))
    return steps


def _record_step(
    manifest: Manifest,
    kind: Kind,
    action: WriteAction,
    group: list[RecordPlan],
    records: Mapping[str, RecordPlan],
    batch_size: int,
) -> Step:
    endpoint = write_call(kind, action, len(group))
    requests = batches(len(group), per_request(kind, batch_size))
    symbols = tuple(r.symbol for r in group)
    waits = sorted(
        {
            dep
            for r in group
            for dep in manifest.references(r.symbol, membership=False)
            if records[dep].action == "create"
        }
    )
    return Step(endpoint, action, kind, symbols, tuple(waits), requests, len(group))


def _membership_steps(
    memberships: Iterable[MembershipPlan], records: Mapping[str, RecordPlan], batch_size: int
) -> list[Step]:
    steps = []
    for m in memberships:
        waits = {m.list_symbol} if records[m.list_symbol].action == "create" else set()
        waits |= {r for r in m.members if isinstance(r, str) and records[r].action == "create"}
        steps.append(
            Step(
                membership_call(m.op),
                m.op,
                "list",
                (m.list_symbol,),
                tuple(sorted(waits)),
                batches(len(m.members), batch_size),
                len(m.members),
            )
        )
    return steps
