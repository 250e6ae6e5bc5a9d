"""The README's field reference is the schema's: generated, and checked to be unchanged."""

from __future__ import annotations

from testing.field_reference import README, current, render


def test_the_readme_lists_every_field_as_the_schema_says() -> None:
    text = README.read_text(encoding="utf-8")
    assert current(text) == render(), "run `python -m testing.field_reference` and commit"


def test_every_field_of_every_record_kind_is_in_the_table() -> None:
    table = render()
    for field in ("mobile", "case_number", "prune", "agent_id", "business_hours", "include_ids"):
        assert f"| `{field}` |" in table
    assert "| `mobile` | phone (sent in E.164) | no |" in table
    assert "| `case_list_id` | a list's symbol, or an existing ID | yes |" in table
