"""The soak: a 200-lead recipe against ``sandbox serve`` answering ~10% 429/500/503, 5% lost.

Each seed is applied again and again, resolving unknown records the way a person does
(look in Kayse, then ``state set`` or ``state forget``), until apply exits 0. Nothing may
be created twice and no ID may be lost. ``benchmarks/soak.py`` runs many more seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.faults import SOAK_FAULTS, soak

LEADS = 200


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_soak_creates_every_record_exactly_once(tmp_path: Path, seed: int) -> None:
    result = soak(tmp_path, seed, leads=LEADS, batch_size=20, faults=SOAK_FAULTS)
    assert result.audit.created == 2 * LEADS + 2
    assert result.audit.duplicates == 0
    assert result.audit.lost_ids == 0
    assert result.audit.missing == 0 and result.audit.members_missing == 0
    assert result.final_requests == 0  # converged: a further apply sends nothing
    assert sum(result.faults.values()) > 0  # the faults were really met
