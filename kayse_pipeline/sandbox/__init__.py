"""The built-in Kayse emulator ("the sandbox"): one core, two front doors.

``SandboxCore`` answers (method, path, query, headers, body) from records kept in SQLite;
``SandboxTransport`` puts it behind an ``httpx.Client`` with no socket (``--sandbox``);
``serve`` / ``SandboxServer`` put it behind HTTP (``kayse-pipeline sandbox serve``).
Where the Kayse docs are silent, the README's "API assumptions" says what the sandbox does.
"""

from kayse_pipeline.sandbox.account import AccountConfig, load_account_config, load_account_file
from kayse_pipeline.sandbox.core import (
    SandboxCore,
    SandboxResponse,
    dump_sandbox,
    open_sandbox,
    reset_sandbox,
    resolve_dir,
)
from kayse_pipeline.sandbox.faults import FaultSpec
from kayse_pipeline.sandbox.ratelimit import RateLimit
from kayse_pipeline.sandbox.server import SandboxServer, serve
from kayse_pipeline.sandbox.transport import SandboxTransport

__all__ = [
    "AccountConfig",
    "FaultSpec",
    "RateLimit",
    "SandboxCore",
    "SandboxResponse",
    "SandboxServer",
    "SandboxTransport",
    "dump_sandbox",
    "load_account_config",
    "load_account_file",
    "open_sandbox",
    "reset_sandbox",
    "resolve_dir",
    "serve",
]
