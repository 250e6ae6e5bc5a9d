"""Destroy: delete what the recipe created or adopted, and nothing else, in reverse order.

The state is the record of what is the recipe's: a record that is not in it is never
touched. Adopted records are the recipe's too (``import`` is how a recipe takes a record
over), so destroy deletes them like the ones it created. In order:

1. memberships recorded in the state are detached (cases) and removed (contacts): all of
   them, or with ``--target`` those of the records being deleted;
2. cases, by ``POST /cases/bulk_delete`` in batches of at most 500, ``with_clients`` false;
3. contacts, by ``DELETE /clients/{id}``;
4. lists and campaigns have no documented delete: they are reported as left behind and
   stay in the state (they still exist in Kayse).

Kayse's own 404 means already gone, once the run has shown that this key sees the
recipe's records (see ``gone``): until one answer deletes a record, finds one or takes a
detach, the releases that 404s would make are held, and when every answer (two or more)
is a 404 the destroy stops and releases nothing. A record Kayse refuses to delete is
reported and stays in the state, which is not a failure. Each deletion is journalled as it
is confirmed, so a destroy that stops halfway (refused key, spent budget, lost connection)
resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from kayse_pipeline.api.answer import URL_HINT
from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.api.endpoints import bulk_key, membership_call
from kayse_pipeline.api.pacing import WaitCallback
from kayse_pipeline.errors import (
    ApiError,
    AuthError,
    BudgetExhaustedError,
    StopRequested,
    TransportError,
)
from kayse_pipeline.model import Kind, Manifest
from kayse_pipeline.plan.destroy import (
    BULK_DELETE_MAX,
    DestroyPlan,
    Detach,
    Doomed,
    make_destroy_plan,
)
from kayse_pipeline.run.gone import EVERY_404, NOT_RELEASED, STOPPED_NOTE, proves_nothing
from kayse_pipeline.run.outcome import DestroyAction, Halt, Outcome, SendingResult
from kayse_pipeline.run.refresh import forget_records
from kayse_pipeline.run.session import Options, session
from kayse_pipeline.state import StateStore


@dataclass
class DestroyResult(SendingResult[DestroyAction]):
    """Everything one destroy did."""

    cancelled: bool = False

    @property
    def ok(self) -> bool:
        """Refused deletions are reported, not failures; a stop or a cancel is."""
        return self.stopped is None and not self.cancelled

    def counts(self) -> dict[str, int]:
        return self.counts_by_action()


Confirm = Callable[[DestroyPlan], bool]
ALREADY_DELETED = "already deleted in Kayse"


def plan_destroy(options: Options, *, delete_batch: int | None = None) -> DestroyPlan:
    """What destroy would send (``plan --destroy``); reads the state without locking it."""
    with session(options, lock=False) as run:
        return _plan(run.manifest, run.state, options, delete_batch)


def destroy(
    options: Options,
    *,
    confirm: Confirm | None = None,
    delete_batch: int | None = None,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[DestroyPlan, DestroyResult]:
    """Delete the recipe's records; ``confirm`` sees the plan first and may refuse it.

    Cases go ``BULK_DELETE_MAX`` IDs per bulk_delete request, or ``delete_batch`` when lower.
    """
    with session(options, on_wait=on_wait, log=log) as run:
        plan = _plan(run.manifest, run.state, options, delete_batch)
        if plan.has_changes and confirm is not None and not confirm(plan):
            return plan, DestroyResult(cancelled=True)
        client = run.client(sends=plan.has_changes)
        result = Destroyer(run.manifest, plan, run.state, client).run()
    return plan, result


def _plan(
    manifest: Manifest, state: StateStore, options: Options, delete_batch: int | None
) -> DestroyPlan:
    size = BULK_DELETE_MAX if delete_batch is None else min(delete_batch, BULK_DELETE_MAX)
    return make_destroy_plan(
        manifest,
        state,
        target=options.target,
        targets=options.targets,
        batch_size=options.batch_size,
        delete_batch=size,
    )


class Destroyer:
    """Walks a destroy plan, saving each confirmed deletion in the state."""

    def __init__(
        self, manifest: Manifest, plan: DestroyPlan, state: StateStore, client: KayseClient
    ) -> None:
        self.manifest = manifest
        self.plan = plan
        self.state = state
        self.client = client
        self.result = DestroyResult()
        self._done: dict[str, Outcome[DestroyAction]] = {}
        self._seen = False  # an answer showed that this key sees the recipe's records
        # 404 answers before that: each one's release, and the records it would release.
        self._held: list[tuple[Callable[[], None], Sequence[Doomed]]] = []

    def run(self) -> DestroyResult:
        """Detach, delete cases, delete contacts; stop only when nothing more can be sent."""
        try:
            for detach in self.plan.detaches:
                self._detach(detach, list(detach.ids))
            self._delete_cases([d for d in self.plan.records if d.kind == "case"])
            for doomed in self.plan.records:
                if doomed.kind == "contact" and doomed.action == "delete":
                    self._delete_contact(doomed)
        except Halt:
            pass
        self._settle()
        for doomed in self.plan.records:
            if doomed.symbol in self._done:
                self.result.outcomes.append(self._done[doomed.symbol])
            elif doomed.action == "delete":
                note = "not reached: the destroy stopped"
                self.result.outcomes.append(_removal(doomed, "skipped", note))
            else:
                self.result.outcomes.append(_removal(doomed, doomed.action, doomed.note))
        self.result.requests = self.client.trace.requests
        return self.result

    def _detach(self, detach: Detach, ids: list[int]) -> None:
        size = self.plan.batch_size
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            try:
                name = membership_call(detach.op)
                self.client.call(name, id=detach.list_id, body={bulk_key(name): chunk})
            except ApiError as exc:
                self._stop_if_fatal(exc)
                if exc.status == 400 and len(chunk) > 1:
                    # One member Kayse no longer has spoils the call: halve to find it.
                    middle = len(chunk) // 2
                    self._detach(detach, chunk[:middle])
                    self._detach(detach, chunk[middle:])
                    continue
                if exc.status != 404:
                    self.result.membership_failures.append(
                        f"{detach.op} on list '{detach.list_symbol}': {exc}"
                    )
                    continue
                # The list is gone, and with it every membership: no call for the rest.
                self._gone(partial(self._detached, detach, ids[start:]), ())
                return
            except (BudgetExhaustedError, StopRequested, TransportError) as exc:
                self.result.halt(str(exc))
            self._found()
            self._detached(detach, chunk)

    def _detached(self, detach: Detach, chunk: list[int]) -> None:
        noun = "case(s)" if detach.field == "include_ids" else "contact(s)"
        self.result.membership_changes.append(
            f"list {detach.list_symbol}: {detach.op} {len(chunk)} {noun}"
        )
        self.state.record_members(detach.list_symbol, detach.field, remove=chunk)

    def _delete_cases(self, cases: list[Doomed]) -> None:
        doomed = [d for d in cases if d.action == "delete" and d.id is not None]
        size = self.plan.delete_batch
        for start in range(0, len(doomed), size):
            self._bulk_delete(doomed[start : start + size])

    def _bulk_delete(self, batch: list[Doomed]) -> None:
        ids = [d.id for d in batch if d.id is not None]
        try:
            body = {bulk_key("cases.bulk_delete"): ids, "with_clients": False}
            answer = self.client.call("cases.bulk_delete", body=body)
        except ApiError as exc:
            self._stop_if_fatal(exc)
            if len(batch) > 1 and exc.status in (400, 404):
                middle = len(batch) // 2
                self._bulk_delete(batch[:middle])
                self._bulk_delete(batch[middle:])
            elif exc.status == 404:
                self._gone(partial(self._removed, "case", batch, "gone", ALREADY_DELETED), batch)
            else:
                self._failed(batch, str(exc))
            return
        except (BudgetExhaustedError, StopRequested, TransportError) as exc:
            self.result.halt(str(exc))
        deleted = _deleted_ids(answer, ids)
        if deleted & set(ids):
            self._found()
        self._removed("case", [d for d in batch if d.id in deleted], "deleted")
        for d in batch:
            if d.id not in deleted:
                self._check_gone(d)

    def _check_gone(self, doomed: Doomed) -> None:
        """A case that bulk_delete did not name: gone only if Kayse says 404."""
        try:
            self.client.call("cases.get", id=doomed.id)
        except ApiError as exc:
            self._stop_if_fatal(exc)
            if exc.status == 404:
                release = partial(self._removed, "case", [doomed], "gone", ALREADY_DELETED)
                self._gone(release, [doomed])
                return
            self._failed([doomed], str(exc))
            return
        except (BudgetExhaustedError, StopRequested, TransportError) as exc:
            self.result.halt(str(exc))
        self._found()
        self._failed([doomed], "Kayse answered bulk_delete without deleting it")

    def _delete_contact(self, doomed: Doomed) -> None:
        try:
            self.client.call("clients.delete", id=doomed.id)
        except ApiError as exc:
            self._stop_if_fatal(exc)
            if exc.status == 404:
                release = partial(self._removed, "contact", [doomed], "gone", ALREADY_DELETED)
                self._gone(release, [doomed])
            else:
                self._failed([doomed], str(exc))
            return
        except (BudgetExhaustedError, StopRequested, TransportError) as exc:
            self.result.halt(str(exc))
        self._found()
        self._removed("contact", [doomed], "deleted")

    def _gone(self, release: Callable[[], None], records: Sequence[Doomed]) -> None:
        """Kayse's own 404: release now if the run has found a record, else hold it."""
        if self._seen:
            release()
        else:
            self._held.append((release, records))

    def _found(self) -> None:
        """This key sees the recipe's records, so the 404s held so far are deletions."""
        self._seen = True
        self._release_held()

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for release, _ in held:
            release()

    def _settle(self) -> None:
        """The end of the run, with 404s still held: no answer found a record.

        One gone record (or list) is released as before; two or more answered 404 and
        nothing else, which another account's key does: nothing is released, and the run
        stops with why. A run that stopped for another reason releases nothing either.
        """
        if not self._held:
            return
        gone = sum(len(records) or 1 for _, records in self._held)
        stopped = self.result.stopped is not None
        if not proves_nothing(gone, found=0, stopped=stopped):
            self._release_held()
            return
        note = STOPPED_NOTE if stopped else NOT_RELEASED
        self.result.stopped = self.result.stopped or EVERY_404
        for _, records in self._held:
            for d in records:
                self._done[d.symbol] = _removal(d, "skipped", note)
        self._held = []

    def _removed(
        self, kind: Kind, batch: list[Doomed], action: DestroyAction, note: str | None = None
    ) -> None:
        items = [(d.symbol, d.id) for d in batch if d.id is not None]
        forget_records(self.manifest, self.state, kind, items)
        for d in batch:
            self._done[d.symbol] = _removal(d, action, note)

    def _failed(self, batch: list[Doomed], message: str) -> None:
        for d in batch:
            self._done[d.symbol] = _removal(d, "failed", message)

    def _stop_if_fatal(self, exc: ApiError) -> None:
        """A refused key, a failing service or a wrong URL stops; one refused record does not.

        A 405, or a 404 that is not Kayse's own ``{error, message}``, says the endpoint is
        wrong, not that a record is gone: taking it as "gone" would release every symbol.
        """
        if isinstance(exc, AuthError) or exc.status >= 500 or exc.blames_endpoint:
            self.result.halt(f"{exc}; {URL_HINT}" if exc.blames_endpoint else str(exc))


def _removal(doomed: Doomed, action: DestroyAction, note: str | None) -> Outcome[DestroyAction]:
    removal: Outcome[DestroyAction] = Outcome(doomed.kind, doomed.symbol, doomed.id, action, note)
    return removal


def _deleted_ids(answer: Any, sent: list[int]) -> set[int]:
    """The IDs bulk_delete reports; an answer without the list is taken as all of them."""
    if isinstance(answer, dict) and isinstance(answer.get("deleted_ids"), list):
        return {i for i in answer["deleted_ids"] if type(i) is int}
    return set(sent)
