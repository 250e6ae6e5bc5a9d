"""The value of each plain and tagged YAML scalar: YAML 1.2 where YAML 1.1 surprises."""

from __future__ import annotations

from typing import Any

import pytest

from kayse_pipeline.manifest.yaml_io import load_yaml


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("plain", "plain"),
        ("'09:00'", "09:00"),
        ("09:00", "09:00"),
        ("17:00", "17:00"),  # YAML 1.1 would read 1020
        ("1:30:00", "1:30:00"),
        ("2026-04-01", "2026-04-01"),  # YAML 1.1 would read a date object
        ("2026-02-30", "2026-02-30"),  # ... and crash on this one
        ("2026-04-01 10:00:00", "2026-04-01 10:00:00"),
        ("yes", "yes"),  # YAML 1.1 would read true
        ("on", "on"),
        ("NO", "NO"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("''", ""),
        ("42", 42),
        ("-7", -7),
        ("1_000", 1000),
        ("0x1f", 31),
        ("0b101", 5),
        ("017", 15),  # pyyaml's YAML 1.1 octal
        ("1.5", 1.5),
        ("1e5", "1e5"),  # no dot: pyyaml reads a string, so do we
        (".inf", float("inf")),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("!!float '2'", 2.0),
        ("!!bool 'true'", True),
        ("!!null ''", None),
        ("'${X}'", "${X}"),
        ("+15551234567", 15551234567),
        ('"+15551234567"', "+15551234567"),
    ],
)
def test_scalars(text: str, value: Any) -> None:
    document = load_yaml(f"key: {text}\n", "f.yaml")
    assert document.problems == ()
    assert document.data == {"key": value}
    assert type(document.data["key"]) is type(value)
