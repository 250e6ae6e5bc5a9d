"""``--target SYMBOL``: a record plus what it needs (apply) or what needs it (destroy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kayse_pipeline.errors import UsageError
from kayse_pipeline.graph import dependencies_of, dependents
from kayse_pipeline.manifest.diagnostics import did_you_mean
from kayse_pipeline.model import KIND_ORDER, Kind, Manifest

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


@dataclass(frozen=True)
class LeftOut:
    """What a ``--target`` plan leaves out of the manifest."""

    records: tuple[tuple[Kind, str], ...]  # (kind, symbol), in the manifest's order
    off_lists: tuple[tuple[str, tuple[str, ...]], ...]  # an untargeted list, its planned members
    total: int  # records in the manifest


def left_out(manifest: Manifest, planned: Iterable[str]) -> LeftOut:
    """The records a partial plan does not touch, and the planned members of untargeted lists."""
    chosen = set(planned)
    records = tuple(
        (kind, record.symbol)
        for kind in KIND_ORDER
        for record in manifest.of_kind(kind)
        if record.symbol not in chosen
    )
    off_lists = []
    for record in manifest.of_kind("list"):
        if record.symbol in chosen:
            continue
        members = [s for s in record.referenced_symbols() if s in chosen]
        if members:
            off_lists.append((record.symbol, tuple(dict.fromkeys(members))))
    return LeftOut(records, tuple(off_lists), len(manifest.records))
