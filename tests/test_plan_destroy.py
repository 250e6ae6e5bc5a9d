"""The pure destroy planner: what destroy deletes, detaches and leaves behind, in which order."""

from __future__ import annotations

from pathlib import Path

from kayse_pipeline.advice import UNKNOWN_NOTE
from kayse_pipeline.plan.destroy import make_destroy_plan
from testing.planning import TARGET, manifest, save, saved_everything, state


def test_destroy_detaches_then_deletes_cases_then_contacts(tmp_path: Path) -> None:
    the_manifest, store = saved_everything(tmp_path)
    plan = make_destroy_plan(the_manifest, store, target=TARGET)
    assert [(d.symbol, d.action) for d in plan.records] == [
        ("calls", "left-behind"),
        ("q2", "left-behind"),
        ("case_a", "delete"),
        ("zoe", "delete"),
        ("amy", "delete"),
    ]
    assert [(s.endpoint, s.count, s.requests) for s in plan.steps] == [
        ("case_lists.detach", 1, 1),
        ("case_lists.remove", 1, 1),
        ("cases.bulk_delete", 1, 1),
        ("clients.delete", 2, 2),
    ]
    assert plan.count("delete") == 3 and plan.has_changes


def test_cases_go_delete_batch_per_request(tmp_path: Path) -> None:
    cases = "".join(
        f"  k{i}: {{case_number: K{i}, external_source_id: k{i}, client_ids: [amy]}}\n"
        for i in range(5)
    )
    text = (
        "version: 1\ndefaults:\n  contacts: {last_name: L, external_source: o}\n"
        "  cases: {status: active, type: pi, external_source: o}\n"
        "contacts:\n  amy: {first_name: Amy, external_source_id: a}\ncases:\n" + cases
    )
    the_manifest, store = manifest(text), state(tmp_path)
    for number, symbol in enumerate(the_manifest.records, start=1):
        save(store, the_manifest, symbol, number)
    plan = make_destroy_plan(the_manifest, store, target=TARGET, delete_batch=2)
    bulk = next(s for s in plan.steps if s.endpoint == "cases.bulk_delete")
    assert (bulk.count, bulk.requests) == (5, 3)


def test_an_unknown_record_is_not_deleted_and_says_how_to_resolve_it(tmp_path: Path) -> None:
    the_manifest, store = manifest(), state(tmp_path)
    store.mark_pending("contact", [("amy", "x")])
    plan = make_destroy_plan(the_manifest, store, target=TARGET)
    assert [(d.symbol, d.action, d.note) for d in plan.records] == [
        ("amy", "unknown", UNKNOWN_NOTE)
    ]
    assert not plan.has_changes


def test_a_target_takes_what_depends_on_it_and_only_its_memberships(tmp_path: Path) -> None:
    the_manifest, store = saved_everything(tmp_path)
    plan = make_destroy_plan(the_manifest, store, target=TARGET, targets=frozenset({"zoe"}))
    assert [(d.symbol, d.action) for d in plan.records] == [
        ("calls", "left-behind"),
        ("q2", "left-behind"),
        ("zoe", "delete"),
    ]
    assert [(d.list_symbol, d.field, d.ids) for d in plan.detaches] == [("q2", "client_ids", (2,))]
