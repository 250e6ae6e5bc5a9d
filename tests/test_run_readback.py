"""When a record read back from Kayse has drifted from the manifest: the comparison rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kayse_pipeline.manifest.load import parse_manifest
from kayse_pipeline.run.readback import Desired
from testing.cli import SEED_MANIFEST

MANIFEST = parse_manifest(SEED_MANIFEST.encode(), Path("seed.yaml"), {})
IDS = {"maria": 11, "garcia_auto": 22, "q2_pi": 33, "q2_outreach": 44}
RUN = {"start_date": "2026-04-01", "end_date": "2026-04-30", "start_time": "09:00"}


class Saved:
    """IDs as a state would give them; symbols missing from ``ids`` have none yet."""

    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids

    def id_of(self, symbol: str) -> int | None:
        return self.ids.get(symbol)


def kayse_case(**changes: Any) -> dict[str, Any]:
    """The seed case as Kayse shows it, with extra fields the manifest does not set."""
    return {
        "id": 22,
        "case_number": "PI-2026-042",
        "name": "Garcia - Auto Accident",
        "status": "active",
        "type": "personal_injury",
        "external_source": "other",
        "external_source_id": "crm_case_555",
        "client_ids": [11],
        "court_name": None,
        "origin": "public_api",
    } | changes


@pytest.mark.parametrize(
    ("symbol", "actual", "ids", "differences"),
    [
        ("garcia_auto", kayse_case(), IDS, []),
        ("garcia_auto", kayse_case(court_name="Edited in the app"), IDS, []),  # not the manifest's
        ("garcia_auto", kayse_case(name="Garcia (edited)"), IDS, ["name"]),
        ("garcia_auto", kayse_case(client_ids=[11, 99]), IDS, ["client_ids"]),
        ("garcia_auto", kayse_case(client_ids=[]), IDS, ["client_ids"]),
        ("garcia_auto", kayse_case(), {"garcia_auto": 22}, ["client_ids"]),  # maria has no ID
        ("garcia_auto", {"id": 22, "status": "active"}, IDS, []),  # fields not shown: not judged
        ("maria", {"case_ids": [22], "email": "maria.garcia@example.com"}, IDS, []),
        ("maria", {"case_ids": [], "email": None}, IDS, ["case_ids", "email"]),
        ("maria", {"case_ids": []}, {"maria": 11}, []),  # its case does not exist yet
        ("q2_pi", {"id": 33, "name": "Q2 Personal Injury Outreach", "case_count": 1}, IDS, []),
        ("q2_outreach", {"case_list_id": 33, "runs": [RUN | {"end_time": "17:00"}]}, IDS, []),
        ("q2_outreach", {"case_list_id": 34}, IDS, ["case_list_id"]),
        ("q2_outreach", {"runs": [RUN | {"end_time": "18:00"}]}, IDS, ["runs"]),
        ("q2_outreach", {"runs": [RUN | {"end_time": "17:00"}, RUN]}, IDS, ["runs"]),
        ("q2_outreach", {"runs": [RUN | {"end_time": "17:00", "extra": 1}]}, IDS, []),
    ],
)
def test_differences(
    symbol: str, actual: dict[str, Any], ids: dict[str, int], differences: list[str]
) -> None:
    record = MANIFEST.records[symbol]
    assert Desired(MANIFEST).differences(record, Saved(ids), actual) == differences


def test_booleans_are_not_numbers() -> None:
    text = SEED_MANIFEST.replace("    name: Garcia - Auto Accident\n", "    is_obo: true\n")
    manifest = parse_manifest(text.encode(), Path("seed.yaml"), {})
    record = manifest.records["garcia_auto"]
    assert Desired(manifest).differences(record, Saved(IDS), {"is_obo": 1}) == ["is_obo"]
    assert Desired(manifest).differences(record, Saved(IDS), {"is_obo": True}) == []
