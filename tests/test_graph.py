"""Order of creation, dependents and dependencies, from references only."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import MappingProxyType

import pytest

from kayse_pipeline.errors import ManifestError
from kayse_pipeline.graph import (
    creation_order,
    dependencies_of,
    dependents,
    find_cycle,
    reference_graph,
)
from kayse_pipeline.manifest.load import parse_manifest
from kayse_pipeline.model import Account, Kind, Manifest, Position, Record

# Written backwards on purpose: campaigns first, contacts last.
TEXT = textwrap.dedent("""
    version: 1
    defaults:
      contacts: {last_name: L, external_source: o}
      cases: {status: active, type: pi, external_source: o}
      campaigns: {runs: [{start_date: 2026-04-01, end_date: 2026-04-02, messaging_only: true}]}
    campaigns:
      calls: {name: Calls, case_list_id: q2}
      old_list_calls: {name: Old, case_list_id: 10}
    lists:
      q2: {name: Q2, include_ids: [case_b], client_ids: [zoe]}
      empty: {name: Empty}
    cases:
      case_b: {case_number: B, external_source_id: b, client_ids: [amy]}
      case_a: {case_number: A, external_source_id: a, client_ids: [zoe, 77]}
      lonely: {case_number: C, external_source_id: c}
    contacts:
      zoe: {first_name: Zoe, external_source_id: z}
      amy: {first_name: Amy, external_source_id: a}
""").lstrip()


@pytest.fixture
def manifest() -> Manifest:
    return parse_manifest(TEXT.encode(), Path("g.yaml"))


def test_creation_order_follows_kinds_then_symbols_never_the_file(manifest: Manifest) -> None:
    assert next(iter(manifest.records)) == "calls"  # the file order
    assert creation_order(manifest) == [
        "amy",
        "zoe",
        "case_a",
        "case_b",
        "lonely",
        "empty",
        "q2",
        "calls",
        "old_list_calls",
    ]


def test_creation_order_does_not_depend_on_the_order_in_the_file(manifest: Manifest) -> None:
    lines = TEXT.splitlines()
    swapped = "\n".join(lines[:5] + lines[15:] + lines[5:15]) + "\n"
    other = parse_manifest(swapped.encode(), Path("g.yaml"))
    assert list(other.records) != list(manifest.records)
    assert creation_order(other) == creation_order(manifest)


def test_reference_graph(manifest: Manifest) -> None:
    assert reference_graph(manifest.records) == {
        "calls": {"q2"},
        "old_list_calls": set(),
        "q2": {"case_b", "zoe"},
        "empty": set(),
        "case_b": {"amy"},
        "case_a": {"zoe"},
        "lonely": set(),
        "zoe": set(),
        "amy": set(),
    }
    without_membership = reference_graph(manifest.records, membership=False)
    assert without_membership["q2"] == set()


def test_dependents_include_lists_by_membership_and_their_campaigns(manifest: Manifest) -> None:
    assert dependents(manifest, ["amy"]) == {"case_b", "q2", "calls"}
    assert dependents(manifest, ["zoe"]) == {"case_a", "q2", "calls"}
    assert dependents(manifest, ["case_a"]) == set()
    assert dependents(manifest, ["q2"]) == {"calls"}
    assert dependents(manifest, ["amy", "case_b"]) == {"case_b", "q2", "calls"}
    assert dependents(manifest, ["not_in_manifest"]) == set()


def test_dependencies_of(manifest: Manifest) -> None:
    assert dependencies_of(manifest, ["calls"]) == {"q2", "case_b", "zoe", "amy"}
    assert dependencies_of(manifest, ["case_a", "lonely"]) == {"zoe"}
    assert dependencies_of(manifest, ["old_list_calls"]) == set()


def test_find_cycle_reads_along_the_references() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"b": {"c"}, "c": {"a"}, "a": {"b"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"x"}}) == ["x", "x"]


def _record(kind: Kind, symbol: str, line: int, refs: dict[str, tuple[str, ...]]) -> Record:
    return Record(
        kind=kind,
        symbol=symbol,
        fields=MappingProxyType({}),
        refs=MappingProxyType(refs),
        position=Position("hand.yaml", line, 3),
    )


def test_creation_order_refuses_a_cycle_in_a_hand_built_manifest() -> None:
    records = {
        "c1": _record("case", "c1", 4, {"client_ids": ("l1",)}),
        "l1": _record("list", "l1", 9, {"exclude_ids": ("c1",)}),
    }
    manifest = Manifest(Path("hand.yaml"), Account(), MappingProxyType(records))
    with pytest.raises(ManifestError) as caught:
        creation_order(manifest)
    assert str(caught.value) == "hand.yaml:4:3: references form a cycle: c1 -> l1 -> c1"
