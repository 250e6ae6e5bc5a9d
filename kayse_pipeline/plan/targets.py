"""``--target SYMBOL``: a record plus what it needs (apply) or what needs it (destroy)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from kayse_pipeline.errors import UsageError
from kayse_pipeline.graph import dependencies_of, dependents
from kayse_pipeline.manifest.diagnostics import did_you_mean
from kayse_pipeline.model import Manifest

Direction = Literal["dependencies", "dependents"]


def check_targets(manifest: Manifest, targets: Iterable[str]) -> frozenset[str]:
    """The targets, each of which must be a symbol of the manifest."""
    chosen = frozenset(targets)
    for symbol in sorted(chosen):
        if symbol not in manifest.records:
            hint = did_you_mean(symbol, manifest.records)
            raise UsageError(f"--target: '{symbol}' is not a symbol of {manifest.path}{hint}")
    return chosen


def expand_targets(
    manifest: Manifest, targets: Iterable[str], direction: Direction
) -> frozenset[str]:
    """The targets plus every record they depend on, or every record that depends on them."""
    chosen = check_targets(manifest, targets)
    reach = dependencies_of if direction == "dependencies" else dependents
    return chosen | reach(manifest, chosen)
