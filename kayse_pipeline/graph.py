"""References between records -> the order of creation, dependents, and cycles.

The graph's edges run from a record to the symbols it references, list membership
included: a list's members must exist before they are attached to it. Integer
references (existing Kayse IDs) and symbols that the manifest does not define are
not part of the graph.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping

from kayse_pipeline.errors import Diagnostic, ManifestError
from kayse_pipeline.model import KIND_ORDER, Manifest, Record

Graph = dict[str, set[str]]
"""symbol -> the symbols it references."""


def reference_graph(records: Mapping[str, Record], *, membership: bool = True) -> Graph:
    """Each record's edges to the records it references (list members only with ``membership``)."""
    graph: Graph = {}
    for symbol, record in records.items():
        targets = record.referenced_symbols() if membership else record.dependencies()
        graph[symbol] = {target for target in targets if target in records}
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, starting at its smallest symbol, or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        # graphlib lists each node before its dependent; a reference runs the other way.
        nodes: list[str] = list(reversed(exc.args[1][:-1]))
        first = nodes.index(min(nodes))
        nodes = nodes[first:] + nodes[:first]
        return [*nodes, nodes[0]]
    return None


def cycle_message(cycle: list[str]) -> str:
    """How a cycle is reported to the user."""
    return "references form a cycle: " + " -> ".join(cycle)


def creation_order(manifest: Manifest) -> list[str]:
    """Every symbol in the order of creation: by the seed guide's kinds, then by symbol.

    The order comes from the references and the kinds, never from the order in the
    file; among records that are ready at the same time, contacts come before cases,
    cases before lists, lists before campaigns, and then symbols alphabetically.
    """
    rank = {kind: index for index, kind in enumerate(KIND_ORDER)}
    ranked: list[tuple[int, str]] = []
    for symbol in manifest.records:
        own = rank[manifest.kind_of(symbol) or "contact"]
        for target in manifest.references(symbol):
            kind = manifest.kind_of(target)
            if kind is not None and rank[kind] >= own:
                return _sorted_by_graph(manifest)
        ranked.append((own, symbol))
    # Every reference points at an earlier kind (as a valid manifest's always do): the
    # topological order below is then exactly this one, found without building the graph.
    ranked.sort()
    return [symbol for _, symbol in ranked]


def _sorted_by_graph(manifest: Manifest) -> list[str]:
    """creation_order for any reference graph, ordered or not (a cycle is an error)."""
    graph = reference_graph(manifest.records)
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        _raise_cycle(manifest, graph)
    rank = {kind: index for index, kind in enumerate(KIND_ORDER)}
    records = manifest.records
    ready = [(rank[records[s].kind], s) for s in sorter.get_ready()]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, symbol = heapq.heappop(ready)
        order.append(symbol)
        sorter.done(symbol)
        for follower in sorter.get_ready():
            heapq.heappush(ready, (rank[records[follower].kind], follower))
    return order


def dependents(manifest: Manifest, symbols: Iterable[str]) -> set[str]:
    """Every record that depends on any of ``symbols``, transitively (lists by their members too).

    A given symbol is in the result only if it depends on another given symbol;
    symbols that the manifest does not define have no dependents.
    """
    reverse: Graph = {}
    for symbol, targets in reference_graph(manifest.records).items():
        for target in targets:
            reverse.setdefault(target, set()).add(symbol)
    return _reach(reverse, symbols)


def dependencies_of(manifest: Manifest, symbols: Iterable[str]) -> set[str]:
    """Every record that any of ``symbols`` depends on, transitively (list members included)."""
    return _reach(reference_graph(manifest.records), symbols)


def _reach(graph: Mapping[str, set[str]], start: Iterable[str]) -> set[str]:
    found: set[str] = set()
    stack = [s for origin in start for s in graph.get(origin, ())]
    while stack:
        symbol = stack.pop()
        if symbol not in found:
            found.add(symbol)
            stack.extend(graph.get(symbol, ()))
    return found


def _raise_cycle(manifest: Manifest, graph: Graph) -> None:
    cycle = find_cycle(graph) or sorted(graph)[:1]
    position = manifest.records[cycle[0]].position
    raise ManifestError(
        [Diagnostic(position.file, position.line, position.column, cycle_message(cycle))]
    )
