"""What Kayse answered to a create: the ID of each record, in request order, or an unknown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kayse_pipeline.bounds import is_id
from kayse_pipeline.errors import OutcomeUnknownError
from kayse_pipeline.model import Kind


def ids_from(
    kind: Kind, answer: Any, bodies: Sequence[Mapping[str, Any]], key: str | None
) -> list[int]:
    """The IDs Kayse returned, in request order; an answer we cannot map is an unknown outcome.

    ``key`` is the bulk call's key of the records in its answer; None for a single create.
    """
    count = len(bodies)
    items: Any
    if count == 1 and isinstance(answer, dict) and "id" in answer:
        items = [answer]
    elif key is not None and isinstance(answer, dict) and isinstance(answer.get(key), list):
        items = answer[key]
    else:
        items = None
    ok = isinstance(items, list) and len(items) == count
    ids: list[int] = []
    if ok and items is not None:
        for item, body in zip(items, bodies, strict=True):
            record_id = item.get("id") if isinstance(item, dict) else None
            echoed = item.get("external_source_id") if isinstance(item, dict) else None
            if not is_id(record_id) or (
                echoed is not None and echoed != body.get("external_source_id", echoed)
            ):
                ok = False
                break
            ids.append(record_id)
    if ok and len(set(ids)) != len(ids):
        raise OutcomeUnknownError(
            f"Kayse accepted a {kind} create but gave one ID to more than one record"
        )
    if not ok:
        raise OutcomeUnknownError(
            f"Kayse accepted a {kind} create but its answer does not say which ID each record got"
        )
    return ids
