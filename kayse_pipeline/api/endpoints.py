"""The one endpoint table: every call the tool makes, with its method, path, safety and bulk key.

The planner (to name and count requests), the executor and destroy (to send them), the
client (to retry them safely) and read-back (to read records) all look calls up here.
This module is data: it imports nothing of the project but the model's names of kinds.

Safety classes decide what may be repeated: reads and idempotent writes are retried on
429, 5xx, timeouts and dropped connections; a create is repeated only when Kayse
certainly did not act on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kayse_pipeline.model import Kind

DEFAULT_BATCH_SIZE = 100  # records per bulk request (and IDs per membership request)

Safety = Literal["read", "idempotent", "create"]
WriteAction = Literal["create", "update"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One documented call: method, path template, whether repeating it is harmless, and
    the body key that carries its records or IDs (and, for a bulk create, its answer's)."""

    method: str
    path: str
    safety: Safety
    bulk_key: str | None = None


ENDPOINTS: Mapping[str, Endpoint] = {
    "clients.create": Endpoint("POST", "/clients", "create"),
    "clients.bulk": Endpoint("POST", "/clients/bulk", "create", "clients"),
    "clients.get": Endpoint("GET", "/clients/{id}", "read"),
    "clients.replace": Endpoint("PUT", "/clients/{id}", "idempotent"),
    "clients.delete": Endpoint("DELETE", "/clients/{id}", "idempotent"),
    "cases.create": Endpoint("POST", "/cases", "create"),
    "cases.bulk": Endpoint("POST", "/cases/bulk", "create", "cases"),
    "cases.get": Endpoint("GET", "/cases/{id}", "read"),
    "cases.replace": Endpoint("PUT", "/cases/{id}", "idempotent"),
    "cases.delete": Endpoint("DELETE", "/cases/{id}", "idempotent"),
    "cases.bulk_delete": Endpoint("POST", "/cases/bulk_delete", "idempotent", "ids"),
    "case_lists.list": Endpoint("GET", "/case_lists", "read"),
    "case_lists.create": Endpoint("POST", "/case_lists", "create"),
    "case_lists.bulk": Endpoint("POST", "/case_lists/bulk", "create", "lists"),
    "case_lists.attach": Endpoint("PATCH", "/case_lists/{id}/attach", "idempotent", "include_ids"),
    "case_lists.detach": Endpoint("PATCH", "/case_lists/{id}/detach", "idempotent", "include_ids"),
    "case_lists.append": Endpoint(
        "POST", "/case_lists/{id}/clients/append", "idempotent", "client_ids"
    ),
    "case_lists.remove": Endpoint(
        "POST", "/case_lists/{id}/clients/remove", "idempotent", "client_ids"
    ),
    "campaigns.create": Endpoint("POST", "/campaigns", "create"),
    "campaigns.list": Endpoint("GET", "/campaigns", "read"),
    "metadata.objects": Endpoint("GET", "/metadata/objects", "read"),
}
# The resource each kind of record lives under: its calls are named RESOURCE.VERB above.
RESOURCES: Mapping[Kind, str] = {
    "contact": "clients",
    "case": "cases",
    "list": "case_lists",
    "campaign": "campaigns",
}


def write_call(kind: Kind, action: WriteAction, count: int) -> str:
    """The call that creates or updates ``count`` records of a kind (at most one batch).

    Single-versus-bulk is chosen here only: one record goes alone, unless its kind has no
    single call for it (a list is updated through its bulk call); a kind without a bulk
    call (campaigns) always goes one record per request.
    """
    single = f"{RESOURCES[kind]}.{'create' if action == 'create' else 'replace'}"
    bulk = f"{RESOURCES[kind]}.bulk"
    if bulk not in ENDPOINTS:
        return single
    if count > 1 or single not in ENDPOINTS:
        return bulk
    return single


def per_request(kind: Kind, batch_size: int) -> int:
    """How many records of a kind one create or update request carries."""
    return batch_size if f"{RESOURCES[kind]}.bulk" in ENDPOINTS else 1


def bulk_key(name: str) -> str:
    """The body key of a call that carries many records or IDs."""
    key = ENDPOINTS[name].bulk_key
    if key is None:
        raise KeyError(f"{name} carries a single record")
    return key


def read_call(kind: Kind) -> str:
    """The call that reads one record of a kind by ID."""
    return f"{RESOURCES[kind]}.get"


def membership_call(op: str) -> str:
    """The call behind a membership change of a list: attach, detach, append or remove."""
    name = f"case_lists.{op}"
    if name not in ENDPOINTS:
        raise KeyError(f"no membership call '{op}'")
    return name
