"""Adopt and refresh: records made by hand, or changed or deleted in the Kayse app.

``adopt`` (``import``) saves an existing record's ID under a manifest symbol once Kayse
shows it. ``refresh`` reads the saved records back (see ``readback`` for how) and
records what it finds, so that the planner closes the gap:

- gone (a 404 for a contact or case): the symbol is released, so the planner plans a
  create, and the dead ID leaves every list's recorded membership, so the recreated
  record is attached again (a gone case also makes the lists re-append the contacts it
  links, whose append had brought it in);
- drifted: the saved fingerprint becomes ``DRIFT``, which no manifest record has, so
  the planner plans an update;
- anything else (in sync, not found in a listing, unreadable, not read) changes nothing.

401, 5xx, a transport error or a spent budget stops the refresh; what was found before
it is kept (each finding is journalled as it is made), nothing is dropped for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from kayse_pipeline.advice import state_command, update_consequence
from kayse_pipeline.api.client import KayseClient
from kayse_pipeline.api.pacing import Pacer, WaitCallback
from kayse_pipeline.api.stop import Stop
from kayse_pipeline.bounds import is_id
from kayse_pipeline.errors import (
    ApiError,
    AuthError,
    BudgetExhaustedError,
    StopRequested,
    TransportError,
    UsageError,
)
from kayse_pipeline.graph import creation_order
from kayse_pipeline.model import Kind, Manifest
from kayse_pipeline.plan.apply import fingerprint, make_plan
from kayse_pipeline.plan.targets import expand_targets
from kayse_pipeline.run.apply import PlanReport
from kayse_pipeline.run.gone import EVERY_404, NOT_RELEASED, STOPPED_NOTE, proves_nothing
from kayse_pipeline.run.outcome import Outcome, RefreshAction, RunResult
from kayse_pipeline.run.readback import READ_BY_ID, Desired, Reader
from kayse_pipeline.run.session import Options, Session, session
from kayse_pipeline.state import StateStore

DRIFT = "drift"
"""The fingerprint of a record changed in Kayse: it matches no manifest record."""

NOUN: dict[Kind, str] = {
    "contact": "contact",
    "case": "case",
    "list": "case list",
    "campaign": "campaign",
}
GONE_NOTE = "deleted in Kayse: the next apply creates it again"
UNCONFIRMED_NOTE = "not found in GET /{path}: left as it is"
# A refused key, a failing service or a missing endpoint: every further read would fail too.
STOPPING_STATUSES = frozenset({401, 403, 405, 500, 502, 503, 504})


@dataclass
class RefreshResult(RunResult[RefreshAction]):
    """Every finding of one refresh, and the reads it spent."""

    reads: int = 0
    max_reads: int | None = None
    capped: bool = False

    @property
    def ok(self) -> bool:
        return self.stopped is None and not any(f.action == "unreadable" for f in self.outcomes)

    def counts(self) -> dict[str, int]:
        return self.counts_by_action()


@dataclass(frozen=True, slots=True)
class Adopted:
    """A record that ``import`` saved: whether it matches the manifest, and if not, where."""

    kind: Kind
    symbol: str
    id: int
    differences: tuple[str, ...]
    reads: int

    @property
    def in_sync(self) -> bool:
        return not self.differences


class _CapReached(Exception):
    """--max-reads is spent."""


class ReadCap(Pacer):
    """A pacer that refuses to start a request past ``cap`` (every attempt counts)."""

    def __init__(
        self, cap: int, *, max_wait: float, on_wait: WaitCallback | None, stop: Stop | None
    ) -> None:
        super().__init__(max_wait=max_wait, on_wait=on_wait, stop=stop)
        self.cap = cap
        self.spent = 0

    def before_request(self) -> None:
        if self.spent >= self.cap:
            raise _CapReached
        super().before_request()
        self.spent += 1


def adopt(
    options: Options, symbol: str, record_id: int, *, log: Callable[[str], None] | None = None
) -> Adopted:
    """Save an existing Kayse record under a manifest symbol, once Kayse shows it."""
    with session(options, log=log) as run:
        manifest, state = run.manifest, run.state
        record = manifest.records.get(symbol)
        if record is None:
            raise UsageError(f"'{symbol}' is not a symbol of {manifest.path}")
        if not is_id(record_id):
            raise UsageError(f"'{record_id}' is not a Kayse ID (IDs are positive integers)")
        _check_free(state, symbol, record.kind, record_id)
        client = run.client()
        actual = Reader(client).read(record.kind, record_id, record.fields.get("name"))
        reads = client.trace.requests
        noun = NOUN[record.kind]
        if actual is None and record.kind in READ_BY_ID:
            raise UsageError(f"Kayse has no {noun} with ID {record_id}; nothing was saved")
        if actual is None:
            raise UsageError(
                f"cannot confirm that {noun} {record_id} exists: Kayse's listing of "
                f"{noun}s does not show it; nothing was saved"
            )
        diffs = tuple(Desired(manifest).differences(record, state, actual))
        saved_as = DRIFT if diffs else fingerprint(record, state.salt)
        state.save_ids(record.kind, [(symbol, record_id, saved_as)])
    return Adopted(record.kind, symbol, record_id, diffs, reads)


def _check_free(state: StateStore, symbol: str, kind: Kind, record_id: int) -> None:
    saved = state.get(symbol)
    if saved is not None and saved.status == "ok" and (saved.kind, saved.id) != (kind, record_id):
        raise UsageError(
            f"'{symbol}' is already saved as {saved.kind} {saved.id}; run "
            f"`{state_command('forget')} {symbol}` first to adopt another record"
        )
    for other, entry in state.records.items():
        if other != symbol and entry.kind == kind and entry.id == record_id:
            raise UsageError(f"{NOUN[kind]} {record_id} is already saved as '{other}'")


def refresh(
    options: Options,
    *,
    max_reads: int | None = None,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Read every saved record of the manifest back and record what changed in Kayse."""
    with session(options, on_wait=on_wait, log=log) as run:
        return _refresh(run, max_reads)


def refresh_and_plan(
    options: Options,
    *,
    max_reads: int | None = None,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[RefreshResult, PlanReport]:
    """``plan --refresh``: refresh (saving what it finds, like ``refresh``), then plan."""
    with session(options, on_wait=on_wait, log=log) as run:
        only = None
        if options.targets is not None:
            only = expand_targets(run.manifest, options.targets, "dependencies")
        result = _refresh(run, max_reads, only=only)
        the_plan = make_plan(
            run.manifest, run.state, batch_size=options.batch_size, targets=options.targets
        )
    return result, PlanReport(run.manifest, the_plan, options.target, options.state_path)


def _refresh(
    run: Session, max_reads: int | None, *, only: frozenset[str] | None = None
) -> RefreshResult:
    symbols = [
        s
        for s in creation_order(run.manifest)
        if run.state.get(s) is not None and (only is None or s in only)
    ]
    client = run.client(sends=bool(symbols))
    if max_reads is not None:
        client.pacer = ReadCap(
            max_reads, max_wait=run.options.max_wait, on_wait=run.on_wait, stop=run.options.stop
        )
    result = refresh_state(run.manifest, run.state, client, symbols)
    result.max_reads = max_reads
    return result


def refresh_state(
    manifest: Manifest, state: StateStore, client: KayseClient, symbols: Iterable[str]
) -> RefreshResult:
    """Read ``symbols`` (saved, in creation order) back and record gone and drifted ones."""
    result = RefreshResult()
    reader = Reader(client)
    order = list(symbols)
    found: dict[str, Outcome[RefreshAction]] = {}
    answers: dict[str, tuple[int, dict[str, Any] | None]] = {}
    halted: str | None = None
    for symbol in order:
        record, saved = manifest.records[symbol], state.get(symbol)
        if saved is None:
            continue
        if saved.status == "unknown" or saved.id is None:
            note = "outcome of an earlier create is unknown: not read"
            found[symbol] = Outcome(saved.kind, symbol, None, "unknown", note)
            continue
        if halted is not None or saved.kind != record.kind:
            note = halted or f"saved as a {saved.kind}, the manifest makes it a {record.kind}"
            found[symbol] = Outcome(saved.kind, symbol, saved.id, "skipped", note)
            continue
        try:
            answers[symbol] = (
                saved.id,
                reader.read(record.kind, saved.id, record.fields.get("name")),
            )
        except _CapReached:
            result.capped = True
            halted = "not read: --max-reads is spent"
            found[symbol] = Outcome(record.kind, symbol, saved.id, "skipped", halted)
        except StopRequested as exc:
            result.stopped = str(exc)
            halted = "not read: the refresh stopped"
            found[symbol] = Outcome(record.kind, symbol, saved.id, "skipped", halted)
        except (ApiError, TransportError, BudgetExhaustedError) as exc:
            found[symbol] = Outcome(record.kind, symbol, saved.id, "unreadable", str(exc))
            if _stops(exc):
                result.stopped = str(exc)
                halted = "not read: the refresh stopped"
    missing = [s for s, (_, actual) in answers.items() if actual is None]
    by_id = [s for s in missing if manifest.records[s].kind in READ_BY_ID]
    found_any = len(answers) - len(missing)
    if proves_nothing(gone=len(by_id), found=found_any, stopped=halted is not None):
        if halted is None:  # else the run already says why it stopped
            result.stopped = EVERY_404
        note = NOT_RELEASED if halted is None else STOPPED_NOTE
        for symbol in missing:
            record_id = answers[symbol][0]
            found[symbol] = Outcome(
                manifest.records[symbol].kind, symbol, record_id, "unreadable", note
            )
        answers = {}
    # Gone records first: a record that pointed at one is judged without it.
    for kind in READ_BY_ID:
        gone = [
            (symbol, record_id)
            for symbol, (record_id, actual) in answers.items()
            if actual is None and manifest.records[symbol].kind == kind
        ]
        forget_records(manifest, state, kind, gone)
        for symbol, record_id in gone:
            found[symbol] = Outcome(kind, symbol, record_id, "gone", GONE_NOTE)
    desired = Desired(manifest)
    for symbol, (record_id, actual) in answers.items():
        if symbol not in found:
            found[symbol] = _compare(manifest, state, desired, symbol, record_id, actual)
    result.outcomes = [found[s] for s in order if s in found]
    result.reads = client.trace.requests
    return result


def _stops(exc: Exception) -> bool:
    """A refused key, a failing service or a spent budget stops; one refused record does not."""
    if isinstance(exc, AuthError | TransportError | BudgetExhaustedError):
        return True
    if isinstance(exc, ApiError) and exc.blames_endpoint:
        return True  # not Kayse's "not found": the URL is wrong
    return isinstance(exc, ApiError) and exc.status in STOPPING_STATUSES


def _compare(
    manifest: Manifest,
    state: StateStore,
    desired: Desired,
    symbol: str,
    record_id: int,
    actual: dict[str, Any] | None,
) -> Outcome[RefreshAction]:
    record = manifest.records[symbol]
    if actual is None:
        note = UNCONFIRMED_NOTE.format(path="case_lists" if record.kind == "list" else "campaigns")
        return Outcome(record.kind, symbol, record_id, "unconfirmed", note)
    diffs = desired.differences(record, state, actual)
    if not diffs:
        return Outcome(record.kind, symbol, record_id, "in-sync")
    saved = state.get(symbol)
    if saved is not None and saved.fingerprint != DRIFT:
        state.save_ids(record.kind, [(symbol, record_id, DRIFT)])
    note = drift_note(record.kind, diffs)
    return Outcome(record.kind, symbol, record_id, "drifted", note, tuple(diffs))


def drift_note(kind: Kind, fields: Iterable[str]) -> str:
    """What a drifted record's line says: the fields that differ (names only, never values)."""
    return f"changed in Kayse ({', '.join(fields)}): {update_consequence(kind)}"


def forget_records(
    manifest: Manifest, state: StateStore, kind: Kind, items: Iterable[tuple[str, int]]
) -> None:
    """Drop records that Kayse no longer has: their symbols, and their IDs from memberships."""
    items = list(items)
    if not items:
        return
    state.release(symbol for symbol, _ in items)
    dead = {record_id for _, record_id in items}
    field_name: Literal["include_ids", "client_ids"] = (
        "client_ids" if kind == "contact" else "include_ids"
    )
    # Contacts whose append brought a dead case in: append them again for its successor.
    again: set[int] = set()
    if kind == "case":
        for symbol, _ in items:
            case = manifest.records.get(symbol)
            for ref in case.refs.get("client_ids", ()) if case is not None else ():
                contact_id = ref if isinstance(ref, int) else state.id_of(ref)
                if contact_id is not None:
                    again.add(contact_id)
    for list_symbol in sorted(state.memberships):
        gone = state.members(list_symbol, field_name) & dead
        if gone:
            state.record_members(list_symbol, field_name, remove=gone)
        appended = state.members(list_symbol, "client_ids") & again
        if appended:
            state.record_members(list_symbol, "client_ids", remove=appended)
