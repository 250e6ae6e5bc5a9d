"""The in-process front door: an httpx transport that hands requests to a core, no socket."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from kayse_pipeline.sandbox.core import KEY_HEADERS, SandboxCore


class SandboxTransport(httpx.BaseTransport):
    """Answers httpx requests from a ``SandboxCore``, as the HTTP server would."""

    def __init__(
        self,
        core: SandboxCore,
        *,
        require_key: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if require_key and core.api_key is None:
            raise ValueError("require_key needs a core that has an api_key")
        self.core = core
        self.require_key = require_key
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request; a "lost" answer raises after the write was committed."""
        headers = dict(request.headers)
        sent_key = any(name in headers for name in KEY_HEADERS)
        if not self.require_key and self.core.api_key is not None and not sent_key:
            # In-process use needs no key: a request without one gets the core's own.
            headers["x-api-key"] = self.core.api_key
        answer = self.core.handle(
            request.method,
            request.url.path,
            dict(request.url.params),
            headers,
            request.read(),
        )
        if answer.delay:
            self._sleep(answer.delay)
        if answer.lost:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            answer.status, headers=dict(answer.headers), content=answer.body, request=request
        )
