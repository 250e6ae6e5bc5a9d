"""The one error tree of kayse-pipeline.

Every error that a user can cause is a ``KayseError``; the CLI prints its
message and exits 1. Messages never carry the API key or a lead's personal data.

    KayseError
     ├── ManifestError          invalid manifest or data rows (carries diagnostics)
     ├── UsageError             a bad combination of options or arguments
     ├── ConfigError            missing key, bad URL, bad environment
     ├── StateError             unreadable, corrupt or foreign state file
     │    ├── StateLockedError  another run holds the state's lock
     │    ├── TargetMismatchError  state belongs to another API
     │    └── ManifestMismatchError  state belongs to another manifest
     ├── ApiError               Kayse answered with an error status
     │    └── AuthError         401: the key is missing, wrong or disabled
     ├── TransportError         Kayse could not be reached, or the answer was not Kayse's
     │    └── OutcomeUnknownError  a write was sent and its outcome is not known
     ├── BudgetExhaustedError   the rate budget is spent and --max-wait is over
     ├── StopRequested          a signal asked the run to stop; nothing more was sent
     └── SandboxError           the built-in emulator cannot start or serve
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


class KayseError(Exception):
    """Base of every error that kayse-pipeline reports to its user."""


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at one place of a manifest or data file (1-based line and column)."""

    file: str
    line: int
    column: int
    message: str
    path: str = field(default="", compare=False)  # the node's path, when there is one

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ManifestError(KayseError):
    """The manifest, or a data file it reads, is invalid."""

    def __init__(self, diagnostics: list[Diagnostic], warnings: Iterable[Diagnostic] = ()) -> None:
        self.diagnostics = sorted(diagnostics)
        self.warnings = sorted(warnings)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(KayseError):
    """The command line asks for something that cannot be done."""


class ConfigError(KayseError):
    """The environment or configuration is missing something."""


class StateError(KayseError):
    """The state file cannot be read, trusted or written."""


class StateLockedError(StateError):
    """Another run holds the state file's lock."""


class TargetMismatchError(StateError):
    """The state file belongs to another API than the one asked for."""


class ManifestMismatchError(StateError):
    """The state file belongs to another manifest than the one given."""


class ApiError(KayseError):
    """Kayse answered with an error status."""

    def __init__(
        self, status: int, message: str, *, method: str = "", path: str = "", shaped: bool = True
    ) -> None:
        self.status = status
        self.api_message = message
        self.method = method
        self.path = path
        self.shaped = shaped  # the body was Kayse's {"error": ..., "message": ...}
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}HTTP {status}: {message}")

    @property
    def blames_endpoint(self) -> bool:
        """A 405, or a 404 not in Kayse's shape: the URL is wrong, not a record gone."""
        return self.status == 405 or (self.status == 404 and not self.shaped)


class AuthError(ApiError):
    """Kayse refused the API key (401)."""


class TransportError(KayseError):
    """Kayse could not be reached, or answered with something that is not Kayse's."""


class OutcomeUnknownError(TransportError):
    """A write was sent and it is not known whether Kayse acted on it."""


class BudgetExhaustedError(KayseError):
    """The rate-limit budget is spent and waiting for it would exceed --max-wait."""

    def __init__(self, message: str, *, reset_at: float) -> None:
        self.reset_at = reset_at
        super().__init__(message)


class StopRequested(KayseError):
    """A signal asked the run to stop: the request in hand was not sent (or not answered)."""


class SandboxError(KayseError):
    """The built-in Kayse emulator cannot start or serve."""
