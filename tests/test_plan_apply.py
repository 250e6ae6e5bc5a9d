"""The pure planner: (manifest, state) -> plan, without a request or a process."""

from __future__ import annotations

from pathlib import Path

import pytest

from kayse_pipeline.errors import UsageError
from kayse_pipeline.plan.apply import fingerprint, make_plan
from testing.planning import TEXT, manifest, save, saved_everything, state


def test_an_empty_state_plans_every_create_in_the_seed_guides_order(tmp_path: Path) -> None:
    plan = make_plan(manifest(), state(tmp_path))
    assert [(r.symbol, r.action) for r in plan.records] == [
        ("amy", "create"),
        ("zoe", "create"),
        ("case_a", "create"),
        ("q2", "create"),
        ("calls", "create"),
    ]
    assert [(s.endpoint, s.count, s.requests) for s in plan.steps] == [
        ("clients.bulk", 2, 1),
        ("cases.create", 1, 1),
        ("case_lists.create", 1, 1),
        ("case_lists.attach", 1, 1),
        ("case_lists.append", 1, 1),
        ("campaigns.create", 1, 1),
    ]
    assert plan.requests == 6
    assert plan.has_changes


def test_saved_records_that_match_are_no_ops_and_cost_nothing(tmp_path: Path) -> None:
    the_manifest, store = saved_everything(tmp_path)
    plan = make_plan(the_manifest, store)
    assert {r.action for r in plan.records} == {"no-op"}
    assert plan.steps == ()
    assert not plan.has_changes


def test_a_changed_record_is_updated_and_a_changed_campaign_is_blocked(tmp_path: Path) -> None:
    the_manifest, store = manifest(), state(tmp_path)
    for number, symbol in enumerate(["amy", "zoe", "case_a", "q2", "calls"], start=1):
        save(store, the_manifest, symbol, number)
    changed = manifest(
        TEXT.replace("first_name: Amy", "first_name: Amelia").replace(
            "name: Calls", "name: Calls again"
        )
    )
    plan = make_plan(changed, store)
    by_symbol = {r.symbol: r for r in plan.records}
    assert by_symbol["amy"].action == "update"
    assert by_symbol["calls"].action == "update" and by_symbol["calls"].blocked
    assert [(s.endpoint, s.symbols) for s in plan.steps if s.action == "update"] == [
        ("clients.replace", ("amy",))
    ]


def test_an_unknown_create_is_neither_sent_again_nor_planned_around(tmp_path: Path) -> None:
    the_manifest, store = manifest(), state(tmp_path)
    amy = the_manifest.records["amy"]
    store.mark_pending("contact", [("amy", fingerprint(amy, store.salt))])
    plan = make_plan(the_manifest, store)
    amy_plan = next(r for r in plan.records if r.symbol == "amy")
    assert amy_plan.action == "unknown"
    assert amy_plan.note is not None and "state forget" in amy_plan.note
    assert all("amy" not in s.symbols for s in plan.steps)


def test_batches_follow_the_batch_size_and_a_list_update_goes_in_bulk(tmp_path: Path) -> None:
    contacts = "".join(f"  c{i}: {{first_name: C, external_source_id: c{i}}}\n" for i in range(5))
    text = "version: 1\ndefaults:\n  contacts: {last_name: L, external_source: o}\n"
    plan = make_plan(manifest(text + "contacts:\n" + contacts), state(tmp_path), batch_size=2)
    assert [(s.endpoint, s.count, s.requests) for s in plan.steps] == [("clients.bulk", 5, 3)]


def test_targets_keep_what_a_record_depends_on_and_drop_orphans(tmp_path: Path) -> None:
    plan = make_plan(manifest(), state(tmp_path), targets=frozenset({"case_a"}))
    assert [r.symbol for r in plan.records] == ["amy", "case_a"]
    assert plan.orphans == ()


def test_a_saved_symbol_the_manifest_lost_is_an_orphan_left_alone(tmp_path: Path) -> None:
    store = state(tmp_path)
    store.save_ids("contact", [("gone", 9, "x")])
    plan = make_plan(manifest(), store)
    assert [symbol for symbol, _ in plan.orphans] == ["gone"]
    assert all("gone" not in s.symbols for s in plan.steps)


def test_a_batch_size_below_one_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--batch-size must be at least 1"):
        make_plan(manifest(), state(tmp_path), batch_size=0)
