"""Records with ``defaults`` merged under them, still unchecked, before they are frozen."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kayse_pipeline.manifest.yaml_io import NodePath
from kayse_pipeline.model import KIND_OF_SECTION, SECTION_OF_KIND, Kind


@dataclass(slots=True)
class Draft:
    """One record's merged values; ``inherited`` maps each field taken from defaults to its node."""

    kind: Kind
    symbol: str
    values: dict[str, Any]
    inherited: dict[str, NodePath]

    @property
    def at(self) -> NodePath:
        """The path of the record itself (its symbol's key)."""
        return (SECTION_OF_KIND[self.kind], self.symbol)

    def path(self, name: str) -> NodePath:
        """Where the value of field ``name`` is written: in the record or in ``defaults``."""
        return self.inherited.get(name) or (SECTION_OF_KIND[self.kind], self.symbol, name)


def collect_drafts(data: dict[str, Any]) -> list[Draft]:
    """Every record that is a mapping, in file order, with its kind's defaults merged under it."""
    all_defaults = data.get("defaults")
    drafts: list[Draft] = []
    for section, records in data.items():
        kind = KIND_OF_SECTION.get(section)
        if kind is None or not isinstance(records, dict):
            continue
        defaults = all_defaults.get(section) if isinstance(all_defaults, dict) else None
        if not isinstance(defaults, dict):
            defaults = {}
        for symbol, record in records.items():
            if not isinstance(record, dict):
                continue
            values = dict(record)
            inherited = merge_defaults(values, defaults, kind)
            drafts.append(Draft(kind, symbol, values, inherited))
    return drafts


def merge_defaults(
    values: dict[str, Any], defaults: Mapping[str, Any], kind: Kind
) -> dict[str, NodePath]:
    """Merge a kind's ``defaults`` under a record's values; return the fields they gave.

    A shallow merge per field: the record's own value wins, whole.
    """
    inherited: dict[str, NodePath] = {}
    for name, value in defaults.items():
        if name not in values:
            # A copy, so that no two records share one mutable default.
            values[name] = copy.deepcopy(value) if isinstance(value, dict | list) else value
            inherited[name] = ("defaults", SECTION_OF_KIND[kind], name)
    return inherited
