"""kayse-pipeline: declarative recipes that put leads into Kayse.

The Python API is what each command calls, minus the printing::

    from kayse_pipeline import Options, apply

    report, result = apply(Options(manifest=Path("seed.yaml"), sandbox=True))

Its functions load on first use (module ``__getattr__``), so that importing the package,
and with it ``kayse-pipeline --help``, stays cheap. Every error is a ``KayseError``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from kayse_pipeline.errors import (
    ApiError,
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    KayseError,
    ManifestError,
    OutcomeUnknownError,
    SandboxError,
    StateError,
    StateLockedError,
    TargetMismatchError,
    TransportError,
    UsageError,
)

__version__ = "0.2.0"  # the one place of the version: hatchling reads it for the package

# name -> module that defines it
_LAZY = {
    "Options": "kayse_pipeline.run.session",
    "load_manifest": "kayse_pipeline.manifest.load",
    "plan": "kayse_pipeline.run.apply",
    "apply": "kayse_pipeline.run.apply",
    "refresh": "kayse_pipeline.run.refresh",
    "adopt": "kayse_pipeline.run.refresh",
    "destroy": "kayse_pipeline.run.destroy",
}

if TYPE_CHECKING:
    from kayse_pipeline.manifest.load import load_manifest
    from kayse_pipeline.run.apply import apply, plan
    from kayse_pipeline.run.destroy import destroy
    from kayse_pipeline.run.refresh import adopt, refresh
    from kayse_pipeline.run.session import Options


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


class _Package(types.ModuleType):
    """Keeps ``kayse_pipeline.plan`` the API function once the ``plan`` subpackage is imported.

    Importing a submodule sets it as an attribute of its package; the subpackage stays
    reachable as ``kayse_pipeline.plan.apply`` etc. through imports (``sys.modules``).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "ApiError",
    "AuthError",
    "BudgetExhaustedError",
    "ConfigError",
    "KayseError",
    "ManifestError",
    "Options",
    "OutcomeUnknownError",
    "SandboxError",
    "StateError",
    "StateLockedError",
    "TargetMismatchError",
    "TransportError",
    "UsageError",
    "__version__",
    "adopt",
    "apply",
    "destroy",
    "load_manifest",
    "plan",
    "refresh",
]
