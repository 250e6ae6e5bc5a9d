"""Plans made in memory: a small manifest of every kind and a state file in a folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kayse_pipeline.manifest.load import parse_manifest
from kayse_pipeline.model import Manifest
from kayse_pipeline.plan.apply import fingerprint
from kayse_pipeline.state import StateStore

TARGET = "https://public-api.kayse.ai/v1"
TEXT = textwrap.dedent("""
    version: 1
    defaults:
      contacts: {last_name: L, external_source: o}
      cases: {status: active, type: pi, external_source: o}
      campaigns: {runs: [{start_date: 2026-04-01, end_date: 2026-04-02, messaging_only: true}]}
    contacts:
      amy: {first_name: Amy, external_source_id: a}
      zoe: {first_name: Zoe, external_source_id: z}
    cases:
      case_a: {case_number: A, external_source_id: ca, client_ids: [amy]}
    lists:
      q2: {name: Q2, include_ids: [case_a], client_ids: [zoe]}
    campaigns:
      calls: {name: Calls, case_list_id: q2}
    """)


def manifest(text: str = TEXT) -> Manifest:
    """The manifest of ``text`` as if read from seed.yaml."""
    return parse_manifest(text.encode(), Path("seed.yaml"), env={})


def state(tmp_path: Path) -> StateStore:
    """An empty state in ``tmp_path``, read without the lock (as plan reads it)."""
    return StateStore.open(tmp_path / "seed.state.json", TARGET, lock=False)


def save(store: StateStore, the_manifest: Manifest, symbol: str, record_id: int) -> None:
    """Save ``symbol`` under ``record_id`` as apply would, with its current fingerprint."""
    record = the_manifest.records[symbol]
    store.save_ids(record.kind, [(symbol, record_id, fingerprint(record, store.salt))])


def saved_everything(tmp_path: Path) -> tuple[Manifest, StateStore]:
    """The manifest of ``TEXT`` with every record and membership saved (IDs 1 to 5)."""
    the_manifest, store = manifest(), state(tmp_path)
    for number, symbol in enumerate(["amy", "zoe", "case_a", "q2", "calls"], start=1):
        save(store, the_manifest, symbol, number)
    store.record_members("q2", "include_ids", add=[3])
    store.record_members("q2", "client_ids", add=[2])
    return the_manifest, store
