"""The body a record sends: its fields, with every symbol replaced by the ID Kayse gave it.

Apply sends this body and refresh compares Kayse's answer with the same body, so refresh
never reports a drift that apply would not correct.
"""

from __future__ import annotations

from typing import Any, Protocol

from kayse_pipeline.model import MEMBERSHIP_FIELDS, SINGLE_REFERENCE_FIELDS, Manifest, Record


class IdSource(Protocol):
    """Where saved IDs come from (the state store)."""

    def id_of(self, symbol: str) -> int | None: ...


class Bodies:
    """Builds the body of each record of one manifest."""

    def __init__(self, manifest: Manifest) -> None:
        # contact symbol -> cases of the manifest that name it in client_ids: Kayse links a
        # contact to its cases through the contact's case_ids, so the contact sends them.
        self._case_links: dict[str, list[str]] = {}
        for case in manifest.of_kind("case"):
            for ref in case.refs.get("client_ids", ()):
                if isinstance(ref, str):
                    self._case_links.setdefault(ref, []).append(case.symbol)

    def body(self, record: Record, ids: IdSource) -> dict[str, Any]:
        """The body of ``record``; a symbol without a saved ID stays None.

        Apply never sends such a body (a record waits for what it references); for
        refresh None matches nothing.
        """
        body = dict(record.fields)
        for name, refs in record.refs.items():
            if record.kind == "list" and name in MEMBERSHIP_FIELDS:
                continue  # sent by the membership calls, after the list exists
            resolved = [ref if isinstance(ref, int) else ids.id_of(ref) for ref in refs]
            body[name] = resolved[0] if name in SINGLE_REFERENCE_FIELDS else resolved
        if record.kind == "contact":
            own = list(body.get("case_ids", []))
            linked = [ids.id_of(case) for case in self._case_links.get(record.symbol, ())]
            body["case_ids"] = own + [i for i in linked if i is not None and i not in own]
        return body
