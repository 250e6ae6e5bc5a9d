"""(manifest, state) -> destroy plan: what destroy would delete, in reverse order, at what cost.

A pure function, like the apply planner: it reads the manifest and the saved state and
sends nothing. ``run.destroy`` walks the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kayse_pipeline.advice import UNKNOWN_NOTE
from kayse_pipeline.api.endpoints import DEFAULT_BATCH_SIZE, membership_call
from kayse_pipeline.graph import creation_order
from kayse_pipeline.model import KIND_ORDER, Kind, Manifest
from kayse_pipeline.plan.apply import MembershipOp, Step, batches
from kayse_pipeline.plan.targets import expand_targets
from kayse_pipeline.state import StateStore

BULK_DELETE_MAX = 500  # documented for POST /cases/bulk_delete
PlannedAction = Literal["delete", "left-behind", "unknown"]
FieldName = Literal["include_ids", "client_ids"]
MEMBER_FIELDS: tuple[FieldName, ...] = ("include_ids", "client_ids")
UNDELETABLE: dict[Kind, str] = {
    "list": "left behind: Kayse documents no case-list delete",
    "campaign": "left behind: Kayse documents no campaign delete",
}


@dataclass(frozen=True, slots=True)
class Doomed:
    """One saved record and what destroy does to it."""

    kind: Kind
    symbol: str
    id: int | None
    action: PlannedAction
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Detach:
    """Members that the recipe put on one of its lists, to be taken off before deleting."""

    list_symbol: str
    list_id: int
    field: FieldName
    ids: tuple[int, ...]

    @property
    def op(self) -> MembershipOp:
        return "detach" if self.field == "include_ids" else "remove"


@dataclass(frozen=True)
class DestroyPlan:
    """The ordered work of one destroy."""

    manifest: Manifest
    target: str
    records: tuple[Doomed, ...]
    detaches: tuple[Detach, ...]
    steps: tuple[Step, ...]
    batch_size: int
    delete_batch: int

    @property
    def requests(self) -> int:
        return sum(step.requests for step in self.steps)

    @property
    def has_changes(self) -> bool:
        return bool(self.steps)

    def count(self, action: PlannedAction) -> int:
        return sum(1 for d in self.records if d.action == action)


def make_destroy_plan(
    manifest: Manifest,
    state: StateStore,
    *,
    target: str,
    targets: frozenset[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    delete_batch: int = BULK_DELETE_MAX,
) -> DestroyPlan:
    """The saved records in scope, latest kind first, and the requests that remove them.

    A pure function of the manifest and the state, like the apply planner.
    """
    if targets is None:
        scope = set(state.records)
    else:
        scope = set(expand_targets(manifest, targets, "dependents"))
    order = {s: n for n, s in enumerate(reversed(creation_order(manifest)))}
    rank = {kind: -n for n, kind in enumerate(KIND_ORDER)}
    chosen = sorted(
        (s for s in scope if state.get(s) is not None),
        key=lambda s: (rank[state.records[s].kind], order.get(s, len(order)), s),
    )
    records = []
    for symbol in chosen:
        saved = state.records[symbol]
        if saved.status != "ok" or saved.id is None:
            records.append(Doomed(saved.kind, symbol, None, "unknown", UNKNOWN_NOTE))
        elif saved.kind in UNDELETABLE:
            records.append(
                Doomed(saved.kind, symbol, saved.id, "left-behind", UNDELETABLE[saved.kind])
            )
        else:
            records.append(Doomed(saved.kind, symbol, saved.id, "delete"))
    detaches = _detaches(state, records, everything=targets is None)
    steps = _steps(records, detaches, batch_size, delete_batch)
    return DestroyPlan(manifest, target, tuple(records), detaches, steps, batch_size, delete_batch)


def _detaches(state: StateStore, records: list[Doomed], *, everything: bool) -> tuple[Detach, ...]:
    dying: dict[FieldName, set[int]] = {"include_ids": set(), "client_ids": set()}
    for d in records:
        if d.action == "delete" and d.id is not None:
            dying["include_ids" if d.kind == "case" else "client_ids"].add(d.id)
    found = []
    for list_symbol in sorted(state.memberships):
        list_id = state.id_of(list_symbol)
        if list_id is None:
            continue
        for field_name in MEMBER_FIELDS:
            recorded = state.members(list_symbol, field_name)
            # A full destroy takes back every membership it made, existing records' too.
            ids = recorded if everything else recorded & dying[field_name]
            if ids:
                found.append(Detach(list_symbol, list_id, field_name, tuple(sorted(ids))))
    return tuple(found)


def _steps(
    records: list[Doomed], detaches: tuple[Detach, ...], batch_size: int, delete_batch: int
) -> tuple[Step, ...]:
    steps = [
        Step(
            membership_call(d.op),
            d.op,
            "list",
            (d.list_symbol,),
            (),
            batches(len(d.ids), batch_size),
            len(d.ids),
        )
        for d in detaches
    ]
    cases = tuple(d.symbol for d in records if d.kind == "case" and d.action == "delete")
    contacts = tuple(d.symbol for d in records if d.kind == "contact" and d.action == "delete")
    if cases:
        requests = batches(len(cases), delete_batch)
        steps.append(Step("cases.bulk_delete", "delete", "case", cases, (), requests, len(cases)))
    if contacts:
        steps.append(
            Step("clients.delete", "delete", "contact", contacts, (), len(contacts), len(contacts))
        )
    return tuple(steps)
