"""plan -> API calls -> state: the only code that talks to both the client and the state store.

Records of one kind go through the bulk endpoints in batches. Every create is
journalled as pending before it is sent and its IDs are saved before the next
request that needs them. A batch that Kayse rejects (400) changed nothing, so it
is split to find the bad record and the rest still goes in. A create whose
outcome is unknown stops the run: its records stay ``unknown`` until a person
says what Kayse has.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kayse_pipeline.advice import resolve_unknown, state_command
from kayse_pipeline.api.answer import URL_HINT
from kayse_pipeline.api.client import KayseClient, NotSentInterrupt
from kayse_pipeline.api.endpoints import (
    ENDPOINTS,
    WriteAction,
    bulk_key,
    membership_call,
    per_request,
    write_call,
)
from kayse_pipeline.errors import (
    ApiError,
    AuthError,
    BudgetExhaustedError,
    OutcomeUnknownError,
    StateError,
    StopRequested,
    TransportError,
)
from kayse_pipeline.model import KIND_ORDER, MEMBERSHIP_FIELDS, Kind, Manifest, Ref
from kayse_pipeline.plan.apply import MembershipPlan, Plan, RecordPlan
from kayse_pipeline.run.answers import ids_from
from kayse_pipeline.run.body import Bodies
from kayse_pipeline.run.outcome import ApplyAction, Halt, Outcome, SendingResult
from kayse_pipeline.run.progress import NoProgress, Progress
from kayse_pipeline.state import StateStore

# Rejections of a whole bulk call that blame a record: halving the batch isolates it.
SPLITTABLE_STATUSES = frozenset({400, 413, 422})
# Answers about the endpoint, not about any record: the next request would meet the same.
ENDPOINT_STATUSES = frozenset({404, 405})


@dataclass
class ApplyResult(SendingResult[ApplyAction]):
    """Everything one apply did, for the summary, JSON and JUnit."""

    @property
    def ok(self) -> bool:
        bad = ("failed", "skipped", "unknown")
        return (
            not self.stopped
            and not self.membership_failures
            and not any(o.action in bad for o in self.outcomes)
        )

    def counts(self) -> dict[str, dict[str, int]]:
        table: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            row = table.setdefault(o.kind, {})
            row[o.action] = row.get(o.action, 0) + 1
        return table


class Executor:
    """Walks a plan, calling Kayse and saving every ID it returns."""

    def __init__(
        self,
        manifest: Manifest,
        plan: Plan,
        state: StateStore,
        client: KayseClient,
        *,
        progress: Progress | None = None,
    ) -> None:
        self.manifest = manifest
        self.plan = plan
        self.state = state
        self.client = client
        self.progress = progress or NoProgress()
        self.result = ApplyResult()
        self.blocked: set[str] = set()  # failed, skipped or unknown: dependents must wait
        self._finished: set[str] = set()
        self._bodies = Bodies(manifest)
        self._partial_lists: set[str] = set()  # lists missing members: their campaigns wait

    def run(self) -> ApplyResult:
        """Send the plan; stop early only for a lost outcome, a spent budget or a refused key."""
        by_kind: dict[Kind, list[RecordPlan]] = {k: [] for k in KIND_ORDER}
        for rp in self.plan.records:
            by_kind[rp.kind].append(rp)
        self.progress.begin(len(self.plan.records))
        try:
            for kind in KIND_ORDER:
                if kind == "campaign":
                    self._memberships()
                self._kind(kind, by_kind[kind])
        except Halt:
            pass
        finally:
            self._close_out()
        self.result.requests = self.client.trace.requests
        return self.result

    # -- records ---------------------------------------------------------------------------

    def _kind(self, kind: Kind, plans: list[RecordPlan]) -> None:
        creates: list[RecordPlan] = []
        updates: list[RecordPlan] = []
        for rp in plans:
            if rp.action == "no-op":
                self._outcome(rp, "unchanged", rp.id)
            elif rp.action == "unknown":
                self._outcome(rp, "unknown", None, rp.note)
            elif rp.blocked:
                self._outcome(rp, "failed", rp.id, rp.note)
            elif (waiting := self._waiting_for(rp)) is not None:
                self._outcome(rp, "skipped", rp.id, f"waits for '{waiting}', which is not in place")
            else:
                (creates if rp.action == "create" else updates).append(rp)
        if creates:
            self.progress.step(f"create {len(creates)} {kind}(s)", len(creates))
            for batch in self._batches(kind, creates):
                self._create(kind, batch)
        if updates:
            self.progress.step(f"update {len(updates)} {kind}(s)", len(updates))
            for batch in self._batches(kind, updates):
                self._update(kind, batch)

    def _batches(self, kind: Kind, plans: list[RecordPlan]) -> Iterator[list[RecordPlan]]:
        size = per_request(kind, self.plan.batch_size)
        for start in range(0, len(plans), size):
            yield plans[start : start + size]

    def _waiting_for(self, rp: RecordPlan) -> str | None:
        for dep in self.manifest.references(rp.symbol, membership=False):
            if dep in self.blocked or self.state.id_of(dep) is None:
                return dep
        if rp.kind == "campaign":
            list_symbol = next(self.manifest.records[rp.symbol].dependencies(), None)
            if list_symbol is not None and list_symbol in self._partial_lists:
                return list_symbol
        return None

    def _create(self, kind: Kind, batch: list[RecordPlan]) -> None:
        bodies = [self._body(rp) for rp in batch]
        self.state.mark_pending(kind, [(rp.symbol, rp.fingerprint) for rp in batch])
        try:
            answer = self._send(kind, "create", bodies, None)
            key = ENDPOINTS[write_call(kind, "create", len(batch))].bulk_key
            ids = ids_from(kind, answer, bodies, key)
            self._check_new(kind, ids)
        except ApiError as exc:
            self.state.release(rp.symbol for rp in batch)  # Kayse refused: nothing was made
            self._rejected(kind, "create", batch, exc)
            return
        except OutcomeUnknownError as exc:
            for rp in batch:
                self._outcome(rp, "unknown", None, str(exc))
            self.result.halt(f"{_sentence(str(exc))} {_unknown_advice(self.manifest, batch)}")
        except (BudgetExhaustedError, StopRequested, TransportError) as exc:
            self.state.release(rp.symbol for rp in batch)  # never reached Kayse
            self.result.halt(str(exc))
        except NotSentInterrupt:
            self.state.release(rp.symbol for rp in batch)  # Ctrl-C while waiting to send
            raise
        try:
            # Fsynced with the next batch's "pending" (or at the end): one fsync per batch.
            self.state.save_ids(
                kind,
                [(rp.symbol, i, rp.fingerprint) for rp, i in zip(batch, ids, strict=True)],
                sync=False,
            )
        except StateError as exc:
            # The records stay unknown in the journal; these IDs are the only copy left.
            pairs = " ".join(f"{rp.symbol} {i}" for rp, i in zip(batch, ids, strict=True))
            raise StateError(
                f"{exc}. Kayse created {len(batch)} {kind}(s) whose IDs could not be saved: "
                f"once the state can be written, run `{state_command('set')} {pairs}`"
            ) from exc
        for rp, record_id in zip(batch, ids, strict=True):
            self._outcome(rp, "created", record_id)

    def _check_new(self, kind: Kind, ids: list[int]) -> None:
        """An ID Kayse gives to a new record may not belong to a record already saved."""
        taken = {saved.id for saved in self.state.records.values() if saved.kind == kind}
        if taken.intersection(ids):
            raise OutcomeUnknownError(
                f"Kayse answered a {kind} create with an ID already saved for another record"
            )

    def _update(self, kind: Kind, batch: list[RecordPlan]) -> None:
        bodies = [self._body(rp) | {"id": rp.id} for rp in batch]
        try:
            self._send(kind, "update", bodies, batch[0].id)
        except ApiError as exc:
            self._rejected(kind, "update", batch, exc)
            return
        except (BudgetExhaustedError, StopRequested, TransportError) as exc:
            self.result.halt(str(exc))
        self.state.save_ids(
            kind, [(rp.symbol, rp.id, rp.fingerprint) for rp in batch if rp.id is not None]
        )
        if kind == "list":
            for rp in batch:  # Kayse re-applies the filter as a set: manual members are gone
                for name in MEMBERSHIP_FIELDS:
                    if self.state.members(rp.symbol, name):
                        self.state.record_members(rp.symbol, name, reset=True)  # type: ignore[arg-type]
        for rp in batch:
            self._outcome(rp, "updated", rp.id)

    def _send(
        self, kind: Kind, action: WriteAction, bodies: list[dict[str, Any]], one_id: int | None
    ) -> Any:
        name = write_call(kind, action, len(bodies))
        key = ENDPOINTS[name].bulk_key
        if key is not None:
            return self.client.call(name, body={key: bodies}, idempotent=action == "update")
        body = {k: v for k, v in bodies[0].items() if k != "id"}
        return self.client.call(name, id=one_id, body=body)

    def _rejected(self, kind: Kind, action: str, batch: list[RecordPlan], exc: ApiError) -> None:
        if isinstance(exc, AuthError) or exc.status in ENDPOINT_STATUSES:
            for rp in batch:
                self._outcome(rp, "failed", rp.id, str(exc))
            self.result.halt(_endpoint_advice(exc, by_id=action == "update" and len(batch) == 1))
        if len(batch) > 1 and exc.status in SPLITTABLE_STATUSES:
            # Bulk calls are all-or-nothing: halve the batch to find the record Kayse refuses.
            middle = len(batch) // 2
            for half in (batch[:middle], batch[middle:]):
                (self._create if action == "create" else self._update)(kind, half)
            return
        for rp in batch:
            self._outcome(rp, "failed", rp.id, str(exc))

    def _body(self, rp: RecordPlan) -> dict[str, Any]:
        return self._bodies.body(self.manifest.records[rp.symbol], self.state)

    def _resolve(self, ref: Ref) -> int:
        if isinstance(ref, int):
            return ref
        record_id = self.state.id_of(ref)
        if record_id is None:  # _waiting_for already kept such records back
            raise AssertionError(f"no ID for '{ref}'")
        return record_id

    # -- memberships -----------------------------------------------------------------------

    def _memberships(self) -> None:
        for mp in self.plan.memberships:
            if mp.list_symbol in self.blocked or self.state.id_of(mp.list_symbol) is None:
                self._partial_lists.add(mp.list_symbol)
                continue
            self._membership(mp)

    def _membership(self, mp: MembershipPlan) -> None:
        ids: list[int] = []
        for ref in mp.members:
            if isinstance(ref, str) and (ref in self.blocked or self.state.id_of(ref) is None):
                self._partial_lists.add(mp.list_symbol)
                continue
            ids.append(self._resolve(ref))
        if not ids:
            return  # every member waits for something: nothing to send yet
        list_id = self.state.id_of(mp.list_symbol)
        name = membership_call(mp.op)
        self.progress.step(f"{mp.op} {len(ids)} on list {mp.list_symbol}", len(ids))
        size = self.plan.batch_size
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            try:
                self.client.call(name, id=list_id, body={bulk_key(name): chunk})
            except ApiError as exc:
                self._partial_lists.add(mp.list_symbol)
                self.result.membership_failures.append(f"{mp.op} on list '{mp.list_symbol}': {exc}")
                if isinstance(exc, AuthError) or exc.status in ENDPOINT_STATUSES:
                    self.result.halt(_endpoint_advice(exc, by_id=True))
                return
            except (BudgetExhaustedError, StopRequested, TransportError) as exc:
                self._partial_lists.add(mp.list_symbol)
                self.result.halt(str(exc))
            adding = mp.op in ("attach", "append")
            noun = "case(s)" if mp.field == "include_ids" else "contact(s)"
            self.result.membership_changes.append(
                f"list {mp.list_symbol}: {mp.op} {len(chunk)} {noun}"
            )
            self.state.record_members(
                mp.list_symbol,
                mp.field,  # type: ignore[arg-type]
                add=chunk if adding else (),
                remove=() if adding else chunk,
            )
            self._progress()

    # -- bookkeeping -----------------------------------------------------------------------

    def _outcome(
        self, rp: RecordPlan, action: ApplyAction, record_id: int | None, message: str | None = None
    ) -> None:
        if rp.symbol in self._finished:
            return
        self._finished.add(rp.symbol)
        if action in ("failed", "skipped", "unknown"):
            self.blocked.add(rp.symbol)
        outcome: Outcome[ApplyAction] = Outcome(rp.kind, rp.symbol, record_id, action, message)
        self.result.outcomes.append(outcome)
        self.progress.done(outcome)
        self._progress()

    def _progress(self) -> None:
        trace, pacer = self.client.trace, self.client.pacer
        self.progress.progress(len(self._finished), trace.requests, pacer.remaining)

    def _close_out(self) -> None:
        """Every record not reached gets an outcome, in plan order."""
        for rp in self.plan.records:
            if rp.symbol in self._finished:
                continue
            if rp.action == "no-op":
                self._outcome(rp, "unchanged", rp.id)
            elif rp.action == "unknown":
                self._outcome(rp, "unknown", None, rp.note)
            else:
                self._outcome(rp, "skipped", rp.id, "not reached: the run stopped")
        order = {rp.symbol: n for n, rp in enumerate(self.plan.records)}
        self.result.outcomes.sort(key=lambda o: order.get(o.symbol, len(order)))


def _endpoint_advice(exc: ApiError, *, by_id: bool) -> str:
    """Why a 401, 404 or 405 stops the run, and what to check."""
    if isinstance(exc, AuthError):
        return str(exc)
    text = (
        f"{_sentence(str(exc))} HTTP {exc.status} says nothing about the records sent: {URL_HINT}"
    )
    if by_id:
        text += (
            " If it is, the record may have been deleted in Kayse: "
            "`kayse-pipeline refresh MANIFEST` finds such records"
        )
    return text


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _unknown_advice(manifest: Manifest, batch: Sequence[RecordPlan]) -> str:
    # Every symbol is in the JSON records and in the list the CLI prints on stderr.
    symbols = ", ".join(rp.symbol for rp in batch[:5])
    more = f" and {len(batch) - 5} more" if len(batch) > 5 else ""
    first = manifest.records[batch[0].symbol]
    return resolve_unknown(first.kind, len(batch), symbols + more)


__all__ = ["ApplyResult", "Executor"]
