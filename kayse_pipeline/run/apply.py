"""The Python API behind the commands: each function is what one command does, minus printing."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kayse_pipeline.api.client import (
    DEFAULT_API_URL,
    DEFAULT_DEADLINE,
    KayseClient,
    Trace,
    check_api_url,
)
from kayse_pipeline.api.pacing import DEFAULT_MAX_WAIT, Pacer, WaitCallback
from kayse_pipeline.bounds import is_id
from kayse_pipeline.errors import ConfigError, Diagnostic, UsageError
from kayse_pipeline.manifest.load import read_manifest
from kayse_pipeline.manifest.variables import Given
from kayse_pipeline.model import Kind, Manifest, Record
from kayse_pipeline.plan.apply import DEFAULT_BATCH_SIZE, Plan, fingerprint, make_plan
from kayse_pipeline.run.executor import ApplyResult, Executor, Reporter
from kayse_pipeline.state import (
    SANDBOX_TARGET,
    Saved,
    StateStore,
    default_state_path,
    normalize_target,
)

DEADLINE_ENV = "KAYSE_REQUEST_TIMEOUT"


@dataclass(frozen=True)
class Options:
    """What every state-touching command is told: which manifest, which state, which API."""

    manifest: Path
    state: Path | None = None
    api_url: str | None = None
    sandbox: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    max_wait: float = DEFAULT_MAX_WAIT
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    targets: frozenset[str] | None = None  # --target: None means every record
    given: Given = field(default_factory=Given)  # --var and --var-file, ahead of env
    # Told the manifest's warnings (and unused --var values) once it is read.
    warn: Callable[[Sequence[Diagnostic]], None] | None = field(default=None, compare=False)

    @property
    def target(self) -> str:
        if self.sandbox:
            if self.api_url:
                raise UsageError("--sandbox and --api-url exclude each other")
            return SANDBOX_TARGET
        url = self.api_url or self.env.get("KAYSE_API_URL") or DEFAULT_API_URL
        return normalize_target(check_api_url(url))

    @property
    def state_path(self) -> Path:
        return self.state or default_state_path(self.manifest, sandbox=self.sandbox)


@dataclass(frozen=True)
class PlanReport:
    """A plan with what it was made from."""

    manifest: Manifest
    plan: Plan
    target: str
    state_path: Path


def load(options: Options, *, warn: bool = True) -> Manifest:
    """The manifest, its warnings told to ``options.warn`` (unless ``warn`` is false)."""
    loaded = read_manifest(options.manifest, options.env, given=options.given.values)
    if warn and options.warn is not None:
        unused = options.given.unused(loaded.variables, [str(options.manifest)])
        if loaded.warnings or unused:
            options.warn([*loaded.warnings, *unused])
    return loaded.manifest


def plan(options: Options) -> PlanReport:
    """What apply would send; reads the state without locking it and sends nothing."""
    manifest = load(options)
    target = options.target
    state = StateStore.open(options.state_path, target, lock=False)
    the_plan = make_plan(manifest, state, batch_size=options.batch_size, targets=options.targets)
    return PlanReport(manifest, the_plan, target, options.state_path)


def apply(
    options: Options,
    *,
    reporter: Reporter | None = None,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
    on_loaded: Callable[[Manifest], None] | None = None,
) -> tuple[PlanReport, ApplyResult]:
    """Run the plan against the target, saving every ID as it comes back.

    ``on_loaded`` sees the manifest once it is loaded, before anything is sent.
    """
    manifest = load(options)
    if on_loaded is not None:
        on_loaded(manifest)
    target = options.target
    with StateStore.open(options.state_path, target) as state:
        the_plan = make_plan(
            manifest, state, batch_size=options.batch_size, targets=options.targets
        )
        report = PlanReport(manifest, the_plan, target, options.state_path)
        with open_client(
            options, manifest, on_wait=on_wait, log=log, lazy=not the_plan.steps
        ) as client:
            result = Executor(manifest, the_plan, state, client, reporter=reporter).run()
    return report, result


@contextmanager
def open_client(
    options: Options,
    manifest: Manifest | None = None,
    *,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
    lazy: bool = False,
) -> Iterator[KayseClient]:
    """A client for the target: the in-process sandbox, or Kayse (or another URL) with the key.

    With ``lazy`` (nothing will be sent) a missing key is not an error.
    """
    pacer = Pacer(max_wait=options.max_wait, on_wait=on_wait)
    trace = Trace(log=log)
    transport: httpx.BaseTransport | None = None
    closing = ExitStack()
    if options.sandbox:
        # The emulator loads only when asked for.
        from kayse_pipeline.sandbox import SandboxTransport, open_sandbox
        from kayse_pipeline.sandbox.core import DEFAULT_DIR, DIR_ENV

        account = manifest.account if manifest is not None else None
        folder = Path(options.env.get(DIR_ENV) or DEFAULT_DIR)  # the run's env, not os.environ
        core = closing.enter_context(open_sandbox(folder, account=account))
        transport = SandboxTransport(core)
        base_url, key = "http://sandbox.invalid/v1", None
    else:
        base_url = options.target
        key = options.env.get("KAYSE_API_KEY")
        if not key and not lazy:
            raise ConfigError(
                "KAYSE_API_KEY is not set: create a key in Kayse (Company Settings > API Keys) "
                "and export it, or try the recipe on the built-in emulator with --sandbox"
            )
    deadline = request_deadline(options.env)
    with closing:
        client = KayseClient(
            base_url, key, transport=transport, pacer=pacer, trace=trace, deadline=deadline
        )
        try:
            yield client
        finally:
            client.close()


def request_deadline(env: Mapping[str, str]) -> float:
    """$KAYSE_REQUEST_TIMEOUT: the longest one request may take, answer included."""
    text = env.get(DEADLINE_ENV)
    if not text:
        return DEFAULT_DEADLINE
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 1 <= seconds <= DEFAULT_DEADLINE:  # nan and inf fail too
        raise ConfigError(
            f"{DEADLINE_ENV} must be a number of seconds from 1 to {DEFAULT_DEADLINE:g}"
        )
    return seconds


def state_show(options: Options) -> list[tuple[str, Saved]]:
    """Every saved record, by symbol."""
    state = StateStore.open(options.state_path, options.target, lock=False)
    return sorted(state.records.items())


def state_set(options: Options, pairs: list[tuple[str, int]]) -> None:
    """Record IDs that a person found in Kayse (offline; the symbols must be in the manifest)."""
    manifest = load(options)
    with StateStore.open(options.state_path, options.target) as state:
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
    with StateStore.open(options.state_path, options.target) as state:
        chosen = list(symbols) + (state.unknown() if all_unknown else [])
        missing = [s for s in chosen if state.get(s) is None]
        if missing:
            raise UsageError(f"not in the state: {', '.join(missing)}")
        if not chosen:
            raise UsageError("name the symbols to forget, or give --unknown")
        state.release(chosen)
        return chosen


def _manifest_record(manifest: Manifest, symbol: str) -> Record:
    record = manifest.records.get(symbol)
    if record is None:
        raise UsageError(f"'{symbol}' is not a symbol of {manifest.path}")
    return record
