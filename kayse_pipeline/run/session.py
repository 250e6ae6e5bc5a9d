"""One run's session: options, the manifest, the state and the client, opened in that order.

Every command that touches a state goes through ``session``: load the manifest, open
the state (locked unless only read), and open a client for the target only when asked.
``doctor`` goes through ``checkup``: the manifest only when one is given, its state only
if it can be read, and a client that sends even without a key (the key is what it checks).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kayse_pipeline.advice import CREATE_KEY, NO_KEY
from kayse_pipeline.api.client import DEFAULT_DEADLINE, KayseClient, Trace
from kayse_pipeline.api.endpoints import DEFAULT_BATCH_SIZE
from kayse_pipeline.api.pacing import DEFAULT_MAX_WAIT, Pacer, WaitCallback
from kayse_pipeline.api.settings import DEFAULT_API_URL, check_api_url
from kayse_pipeline.api.stop import Stop
from kayse_pipeline.errors import ConfigError, Diagnostic, StateLockedError, UsageError
from kayse_pipeline.manifest.env import API_KEY_VARIABLE
from kayse_pipeline.manifest.load import read_manifest
from kayse_pipeline.manifest.variables import Given
from kayse_pipeline.model import Manifest
from kayse_pipeline.state import (
    SANDBOX_TARGET,
    StateStore,
    default_state_path,
    normalize_target,
)
from kayse_pipeline.state_lock import lock_holder

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
    other_manifest: bool = False  # --allow-other-manifest: the state now belongs to this one
    stop: Stop | None = field(default=None, compare=False)  # set by a signal at the CLI's edge

    @property
    def target(self) -> str:
        if self.sandbox:
            if self.api_url:
                raise UsageError("--sandbox and --api-url exclude each other")
            return SANDBOX_TARGET
        url = self.api_url or self.env.get("KAYSE_API_URL") or DEFAULT_API_URL
        return normalize_target(check_api_url(url))

    @property
    def api_key(self) -> str:
        """$KAYSE_API_KEY of the run's env, as given ("" when unset)."""
        return self.env.get(API_KEY_VARIABLE, "")

    @property
    def state_path(self) -> Path:
        return self.state or default_state_path(self.manifest, sandbox=self.sandbox)

    @property
    def sandbox_dir(self) -> Path:
        """The in-process sandbox's folder: $KAYSE_SANDBOX_DIR, else beside the state file.

        Beside the state, not in the working directory, so that a run from another folder
        meets the same records as the state remembers.
        """
        from kayse_pipeline.sandbox.core import DEFAULT_DIR, DIR_ENV

        chosen = self.env.get(DIR_ENV)  # the run's env, not os.environ
        if chosen:
            return Path(chosen).expanduser()
        # The state's folder: the manifest's, unless --state puts the state elsewhere.
        return (self.state or self.manifest).parent / DEFAULT_DIR

    def read_state(self) -> StateStore:
        """The state, read without its lock for a plan; refused while an apply writes it
        (the plan would call the requests in flight unknown)."""
        refuse_while_running(self.state_path)
        return self.open_state(lock=False)

    def open_state(self, *, lock: bool = True, offline: bool = False) -> StateStore:
        """The state of this manifest and target; ``offline`` commands take the saved target.

        An offline command (``state show|set|forget``) sends nothing, so it needs no
        ``--api-url``: it checks the target only when ``--api-url`` or ``--sandbox`` says one.
        """
        return StateStore.open(
            self.state_path,
            self.target,
            lock=lock,
            manifest=self.manifest,
            other_manifest=self.other_manifest,
            follow_target=offline and not (self.sandbox or self.api_url),
        )


def load(options: Options, *, warn: bool = True) -> Manifest:
    """The manifest, its warnings told to ``options.warn`` (unless ``warn`` is false)."""
    loaded = read_manifest(options.manifest, options.env, given=options.given.values)
    if warn and options.warn is not None:
        unused = options.given.unused(loaded.variables, [str(options.manifest)])
        if loaded.warnings or unused:
            options.warn([*loaded.warnings, *unused])
    return loaded.manifest


@contextmanager
def open_client(
    options: Options,
    manifest: Manifest | None = None,
    *,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
    need_key: bool = True,
) -> Iterator[KayseClient]:
    """A client for the target: the in-process sandbox, or Kayse (or another URL) with the key.

    Without ``need_key`` (nothing will be sent, or doctor) a missing key is not an error.
    """
    pacer = Pacer(max_wait=options.max_wait, on_wait=on_wait, stop=options.stop)
    trace = Trace(log=log)
    transport: httpx.BaseTransport | None = None
    closing = ExitStack()
    if options.sandbox:
        # The emulator loads only when asked for.
        from kayse_pipeline.sandbox import SandboxTransport, open_sandbox

        account = manifest.account if manifest is not None else None
        core = closing.enter_context(open_sandbox(options.sandbox_dir, account=account))
        transport = SandboxTransport(core)
        base_url, key = "http://sandbox.invalid/v1", None
    else:
        base_url = options.target
        key = options.api_key
        if not key and need_key:
            raise ConfigError(
                f"{NO_KEY}: {CREATE_KEY}, or try the recipe on the built-in emulator with --sandbox"
            )
    deadline = request_deadline(options.env)
    with closing:
        client = KayseClient(
            base_url,
            key,
            transport=transport,
            pacer=pacer,
            trace=trace,
            deadline=deadline,
            stop=options.stop,
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


@dataclass
class Session:
    """The manifest and state of one run, and its client once asked for."""

    options: Options
    manifest: Manifest
    state: StateStore
    on_wait: WaitCallback | None
    log: Callable[[str], None] | None
    _closing: ExitStack

    def client(self, *, sends: bool = True) -> KayseClient:
        """A client for the target, closed with the session; ``sends=False``: key not needed."""
        return self._closing.enter_context(
            open_client(
                self.options, self.manifest, on_wait=self.on_wait, log=self.log, need_key=sends
            )
        )


@contextmanager
def session(
    options: Options,
    *,
    lock: bool = True,
    offline: bool = False,
    on_wait: WaitCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator[Session]:
    """Load the manifest, open its state (locked unless ``lock`` is false), then the run.

    Without ``lock`` nor ``offline`` it is a plan: refused while an apply writes the state.

    ``offline``: a command that sends nothing takes the state's own target (Options.open_state).
    """
    manifest = load(options)
    if lock or offline:
        state = options.open_state(lock=lock, offline=offline)
    else:  # a plan
        state = options.read_state()
    with ExitStack() as closing:
        if lock:
            closing.enter_context(state)  # compacts the journal and drops the lock at the end
        with ExitStack() as clients:  # closed before the state
            yield Session(options, manifest, state, on_wait, log, clients)


@dataclass(frozen=True)
class Checkup:
    """What ``doctor`` looks with: the manifest if one is given, and a client that sends
    even without a key (a missing key is one of the things it reports)."""

    options: Options
    manifest: Manifest | None
    client: KayseClient

    def state(self) -> StateStore:
        """The manifest's state, read without its lock; raises what ``plan`` would (an apply
        running, another target or manifest, a damaged file), so doctor can say so and go on."""
        return self.options.read_state()


@contextmanager
def checkup(
    options: Options, *, with_manifest: bool, log: Callable[[str], None] | None = None
) -> Iterator[Checkup]:
    """Load the manifest if asked (an invalid one raises before anything is sent), then open
    a client; the state is opened by ``Checkup.state``, when a plan is wanted."""
    manifest = load(options) if with_manifest else None
    with open_client(options, manifest, log=log, need_key=False) as client:
        yield Checkup(options, manifest, client)


def refuse_while_running(path: Path) -> None:
    """A plan made while another run writes the state would call its requests in flight
    unknown: say that an apply is running, and which, instead."""
    holder = lock_holder(path)
    if holder is not None:
        raise StateLockedError(
            f"an apply is running on {path} ({holder}); its records in flight are not "
            "unknown: plan again when it has finished"
        )
