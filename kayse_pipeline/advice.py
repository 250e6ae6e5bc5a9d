"""Advice to people, worded once: the ``state set`` / ``state forget`` commands, the key.

Kayse has no lookup by external ID and no idempotency key, so only a person who looks in
Kayse can say whether a record whose create's outcome is unknown exists; these commands
record the answer.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

PROGRAM = "kayse-pipeline"
NO_KEY = "KAYSE_API_KEY is not set"
CREATE_KEY = "create a key in Kayse (Company Settings > API Keys) and export KAYSE_API_KEY"
UNKNOWN_NOTE = (
    "outcome of an earlier create is unknown: check Kayse, then `state set` or `state forget` it"
)


def state_command(verb: str, manifest: str | None = "MANIFEST", flags: Sequence[str] = ()) -> str:
    """``kayse-pipeline state VERB MANIFEST [FLAGS]``, quoted for a shell."""
    words = [PROGRAM, "state", verb]
    if manifest is not None:
        words += [manifest, *flags]
    return shlex.join(words)


def resolve_unknown(kind: str, count: int, symbols: str) -> str:
    """What to do about records whose create may or may not have happened."""
    return (
        f"Not known whether Kayse created {count} {kind}(s) ({symbols}). "
        f"Check in Kayse, then record each ID with `{state_command('set')} SYMBOL ID`, "
        f"or release it to be created again with `{state_command('forget')} SYMBOL`"
    )


def update_consequence(kind: str) -> str:
    """What the next apply does with a record that differs from the manifest."""
    if kind == "campaign":
        return "Kayse documents no campaign update, so apply reports it"
    return "the next apply updates it"
