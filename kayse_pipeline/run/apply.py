"""Apply and the offline state commands: each function is what one command does, minus printing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kayse_pipeline.api.pacing import WaitCallback
from kayse_pipeline.bounds import is_id
from kayse_pipeline.errors import StateError, UsageError
from kayse_pipeline.model import Kind, Manifest, Record
from kayse_pipeline.plan.apply import Plan, fingerprint, make_plan
from kayse_pipeline.run.executor import ApplyResult, Executor
from kayse_pipeline.run.progress import Progress
from kayse_pipeline.run.session import Options, session
from kayse_pipeline.state import Saved, StateStore, recorded_target


@dataclass(frozen=True)
class PlanReport:
    """A plan with what it was made from."""

    manifest: Manifest
    plan: Plan
    target: str
    state_path: Path


def plan(options: Options) -> PlanReport:
    """What apply would send; reads the state without locking it and sends nothing."""
    with session(options, lock=False) as run:
        the_plan = make_plan(
            run.manifest, run.state, batch_size=options.batch_size, targets=options.targets
        )
    return PlanReport(run.manifest, the_plan, options.target, options.state_path)


def apply(
    options: Options,
    *,
    progress: Progress | None = None,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
    on_loaded: Callable[[Manifest], None] | None = None,
) -> tuple[PlanReport, ApplyResult]:
    """Run the plan against the target, saving every ID as it comes back.

    ``on_loaded`` sees the manifest once it is loaded, before anything is sent.
    """
    with session(options, on_wait=on_wait, log=log) as run:
        if on_loaded is not None:
            on_loaded(run.manifest)
        the_plan = make_plan(
            run.manifest, run.state, batch_size=options.batch_size, targets=options.targets
        )
        report = PlanReport(run.manifest, the_plan, options.target, options.state_path)
        client = run.client(sends=bool(the_plan.steps))
        result = Executor(run.manifest, the_plan, run.state, client, progress=progress).run()
    return report, result


def state_show(options: Options) -> list[tuple[str, Saved]]:
    """Every saved record, by symbol."""
    state = options.open_state(lock=False, offline=True)
    return sorted(state.records.items())


def state_set(options: Options, pairs: list[tuple[str, int]]) -> None:
    """Record IDs that a person found in Kayse (offline; the symbols must be in the manifest)."""
    with session(options, offline=True) as run:
        manifest, state = run.manifest, run.state
        items: dict[Kind, list[tuple[str, int, str]]] = {}
        for symbol, record_id in pairs:
            record = _manifest_record(manifest, symbol)
            if not is_id(record_id):
                raise UsageError(f"'{record_id}' is not a Kayse ID (IDs are positive integers)")
            items.setdefault(record.kind, []).append(
                (symbol, record_id, fingerprint(record, state.salt))
            )
        for kind, triples in items.items():
            state.save_ids(kind, triples)


def state_forget(options: Options, symbols: list[str], *, all_unknown: bool = False) -> list[str]:
    """Drop symbols from the state so the next apply creates them (offline)."""
    with options.open_state(offline=True) as state:
        chosen = list(symbols) + (state.unknown() if all_unknown else [])
        missing = [s for s in chosen if state.get(s) is None]
        if missing:
            raise UsageError(f"not in the state: {', '.join(missing)}")
        if not chosen:
            raise UsageError("name the symbols to forget, or give --unknown")
        state.release(chosen)
        return chosen


def state_fold(path: Path) -> bool:
    """Fold the journal a killed run left beside ``path`` into it (offline); False if none."""
    journal = path.with_name(path.name + ".journal")
    if not journal.exists():
        return False
    target = recorded_target(path)
    if target is None:
        raise StateError(f"{journal}: journal entry is damaged (no target in its header)")
    StateStore.open(path, target).close()  # takes the lock, so a running apply is never folded
    return True


def _manifest_record(manifest: Manifest, symbol: str) -> Record:
    record = manifest.records.get(symbol)
    if record is None:
        raise UsageError(f"'{symbol}' is not a symbol of {manifest.path}")
    return record
