"""The sandbox core: one request handler, shared by the in-process and the HTTP front doors."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from kayse_pipeline.errors import SandboxError
from kayse_pipeline.model import Account
from kayse_pipeline.sandbox.account import AccountConfig
from kayse_pipeline.sandbox.faults import OUTCOMES, Draw, FaultInjector, FaultSpec
from kayse_pipeline.sandbox.ratelimit import RateLimit, RateLimiter, RateState, ResetStyle
from kayse_pipeline.sandbox.records import Records
from kayse_pipeline.sandbox.routes import PREFIX, Context, Resolution, Route, resolve
from kayse_pipeline.sandbox.store import Store, database_path
from kayse_pipeline.sandbox.validation import JsonObject, Problem

DEFAULT_DIR: Final = ".kayse-sandbox"
DIR_ENV: Final = "KAYSE_SANDBOX_DIR"
FAULTS_ENV: Final = "KAYSE_SANDBOX_FAULTS"
RATE_LIMIT_ENV: Final = "KAYSE_SANDBOX_RATE_LIMIT"
KEY_HEADERS: Final = ("x-api-key", "x-public-api-key")
DEFAULT_BULK_MAX: Final = 500

_NOT_EXECUTED: Final = "injected fault: the request was not executed"


@dataclass(frozen=True)
class SandboxResponse:
    """One answer: ``lost`` means "commit, then say nothing"; ``delay`` is a slow answer's wait."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    lost: bool = False
    delay: float = 0.0

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)


@dataclass
class _Stats:
    by_status: Counter[str] = field(default_factory=Counter)
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_method: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def view(self) -> JsonObject:
        return {
            "requests": sum(self.by_status.values()),
            "by_status": dict(sorted(self.by_status.items())),
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
            "by_method": dict(sorted(self.by_method.items())),
            "faults": {name: self.faults[name] for name in (*OUTCOMES, "slow")},
        }


class SandboxCore:
    """A Kayse emulator as a pure function of (method, path, query, headers, body)."""

    def __init__(
        self,
        store: Store,
        *,
        account: Account | AccountConfig | None = None,
        api_key: str | None = None,
        rate_limit: RateLimit | None = None,
        faults: FaultSpec | None = None,
        bulk_max: int = DEFAULT_BULK_MAX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if bulk_max < 1:
            raise SandboxError("the bulk limit must be at least 1")
        self.store = store
        self.account = AccountConfig.of(account)
        self.api_key = api_key  # None: every request is let in (in-process use)
        self.rate_limit = rate_limit or RateLimit()
        self.bulk_max = bulk_max
        self._records = Records(store)
        self._limiter = RateLimiter(store, self.rate_limit, clock)
        self._injector = FaultInjector(faults or FaultSpec())
        self._stats = _Stats()
        self._lock = threading.RLock()  # admin routes call back into the core under it
        # The budget is counted per key; a key is a secret, so only a digest of it is stored.
        digest = hashlib.sha256(api_key.encode()).hexdigest()[:16] if api_key else "open"
        self._bucket = f"key:{digest}"

    @property
    def faults(self) -> FaultSpec:
        """The fault spec in force."""
        return self._injector.spec

    def set_faults(self, spec: str) -> str:
        """Replace the fault spec (and restart its random sequence); returns it normalized."""
        parsed = FaultSpec.parse(spec)
        with self._lock:
            self._injector = FaultInjector(parsed)
        return str(parsed)

    def stats(self) -> JsonObject:
        """Requests by status and endpoint, and faults injected, since this core started."""
        return self._stats.view()

    def dump(self) -> dict[str, list[JsonObject]]:
        """Every record, as the API shows it."""
        with self._lock, self.store.transaction():  # one consistent snapshot
            return self._records.dump()

    def reset(self) -> None:
        """Empty the sandbox: records, links and rate-limit windows."""
        with self._lock:
            self.store.reset()

    def close(self) -> None:
        """Close the database, after the request in progress (if any)."""
        with self._lock:
            self.store.close()

    def __enter__(self) -> SandboxCore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> SandboxResponse:
        """Answer one request; writes are committed before this returns, even when ``lost``."""
        method = method.upper()
        lowered = {name.lower(): value for name, value in headers.items()}
        resolution = resolve(method, path)
        ctx = Context(
            self._records, self.account, self, self.bulk_max, resolution.record_id, query, body
        )
        with self._lock:
            if not self._authorized(lowered):
                message = "missing or wrong API key: send it in the X-API-KEY header"
                error = _error("unauthorized", message)
                return self._answer(401, error, resolution, rate=self._peek())  # not counted
            if resolution.route is not None and resolution.route.admin:
                status, payload = self._run(resolution.route, ctx)
                return self._answer(status, payload, None, rate=self._peek())
            draw = self._injector.draw()
            try:
                with self.store.transaction():
                    status, payload, rate = self._counted(resolution, ctx, draw)
            except sqlite3.Error:
                message = "the sandbox's database is busy or unreadable; retry later"
                return self._answer(503, _error("service unavailable", message), resolution)
            return self._answer(status, payload, resolution, rate=rate, draw=draw)

    def _counted(
        self, resolution: Resolution, ctx: Context, draw: Draw
    ) -> tuple[int, Any, RateState | None]:
        """Rate limit, injected faults, then the route; inside the request's transaction."""
        if draw.outcome == "429":
            # Like a real 429, an injected one is not counted against the budget.
            rate = self._limiter.peek(self._bucket)
            message = "too many requests (injected fault); retry after 1 second"
            return 429, _error("too many requests", message), rate
        rate = self._limiter.take(self._bucket)
        if rate is not None and not rate.allowed:
            message = (
                f"the rate limit of {rate.limit} requests per {self.rate_limit.window:g} s "
                f"is spent; retry after {rate.retry_after} s"
            )
            return 429, _error("too many requests", message), rate
        if draw.outcome == "500":
            return 500, _error("internal server error", _NOT_EXECUTED), rate
        if draw.outcome == "503":
            return 503, _error("service unavailable", _NOT_EXECUTED), rate
        if resolution.route is None:
            if resolution.allowed:
                message = f"wrong method for this endpoint; use {', '.join(resolution.allowed)}"
                return 405, _error("method not allowed", message), rate
            return 404, _error("not found", "no endpoint at this path"), rate
        status, payload = self._run(resolution.route, ctx)
        return status, payload, rate

    def _run(self, route: Route, ctx: Context) -> tuple[int, Any]:
        """Call a handler; whatever it wrote is undone when it fails."""
        try:
            with self.store.savepoint():
                return route.status, route.handler(ctx)
        except Problem as problem:
            return problem.status, problem.body
        except SandboxError as exc:  # a bad fault spec sent to the admin route
            return 400, _error("bad request", str(exc))
        except Exception as exc:  # a sandbox bug must not take the server down
            return 500, _error("internal server error", f"sandbox failure ({type(exc).__name__})")

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        if self.api_key is None:
            return True
        sent = next((headers[h] for h in KEY_HEADERS if h in headers), "")
        return hmac.compare_digest(sent.encode(), self.api_key.encode())

    def _peek(self) -> RateState | None:
        try:
            return self._limiter.peek(self._bucket)
        except sqlite3.Error:
            return None

    def _answer(
        self,
        status: int,
        payload: Any,
        resolution: Resolution | None,
        *,
        rate: RateState | None = None,
        draw: Draw | None = None,
    ) -> SandboxResponse:
        """Build the response, with rate-limit headers, and count it (admin routes are not)."""
        headers = {"Content-Type": "application/json"}
        if rate is not None:
            headers.update(rate.headers())
        if status == 429:
            retry = rate.retry_after if rate is not None and not rate.allowed else 1
            headers["Retry-After"] = str(retry)
        if status == 405 and resolution is not None:
            headers["Allow"] = ", ".join(resolution.allowed)
        draw = draw or Draw()
        if resolution is not None:
            route = resolution.route
            endpoint = f"{route.method} {PREFIX}{route.template}" if route else "unmatched"
            self._stats.by_endpoint[endpoint] += 1
            self._stats.by_method[resolution.method] += 1
            self._stats.by_status["lost" if draw.outcome == "lost" else str(status)] += 1
            if draw.outcome is not None:
                self._stats.faults[draw.outcome] += 1
            if draw.delay:
                self._stats.faults["slow"] += 1
        body = json.dumps(payload).encode()
        return SandboxResponse(status, headers, body, draw.outcome == "lost", draw.delay)


def _error(label: str, message: str) -> JsonObject:
    return {"error": label, "message": message}


def resolve_dir(directory: str | Path | None = None) -> Path:
    """The sandbox folder: the argument, else $KAYSE_SANDBOX_DIR, else ./.kayse-sandbox."""
    chosen = directory or os.environ.get(DIR_ENV) or DEFAULT_DIR
    return Path(chosen).expanduser()


def open_sandbox(
    directory: str | Path | None = None,
    *,
    account: Account | AccountConfig | None = None,
    api_key: str | None = None,
    rate_limit: RateLimit | str | None = None,
    faults: FaultSpec | str | None = None,
    bulk_max: int = DEFAULT_BULK_MAX,
    clock: Callable[[], float] = time.time,
    reset_style: ResetStyle | None = None,
) -> SandboxCore:
    """A core on the sandbox folder (created when missing).

    Rate limit and faults left as None come from $KAYSE_SANDBOX_RATE_LIMIT and
    $KAYSE_SANDBOX_FAULTS, else 500 per hour and no faults.
    """
    if rate_limit is None:
        rate_limit = os.environ.get(RATE_LIMIT_ENV) or RateLimit()
    if faults is None:
        faults = os.environ.get(FAULTS_ENV) or FaultSpec()
    # Parsed before the folder is created: a bad option leaves nothing behind.
    rate = RateLimit.parse(rate_limit) if isinstance(rate_limit, str) else rate_limit
    if reset_style is not None:
        rate = dataclasses.replace(rate, reset_style=reset_style)
    spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
    return SandboxCore(
        Store(resolve_dir(directory)),
        account=account,
        api_key=api_key,
        rate_limit=rate,
        faults=spec,
        bulk_max=bulk_max,
        clock=clock,
    )


def dump_sandbox(directory: str | Path | None = None) -> dict[str, list[JsonObject]]:
    """Every record in a sandbox folder; empty lists when there is no sandbox there."""
    path = resolve_dir(directory)
    if not database_path(path).exists():
        return {"clients": [], "cases": [], "case_lists": [], "campaigns": []}
    store = Store(path)
    try:
        with store.transaction():  # one consistent snapshot, even while a server writes
            return Records(store).dump()
    finally:
        store.close()


def reset_sandbox(directory: str | Path | None = None) -> bool:
    """Empty a sandbox folder; False when there was no sandbox there."""
    path = resolve_dir(directory)
    if not database_path(path).exists():
        return False
    store = Store(path, check_format=False)  # a sandbox of another format can be emptied too
    try:
        store.reset()
    finally:
        store.close()
    return True
