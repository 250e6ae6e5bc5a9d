"""What to tell a person about records whose create may or may not have happened in Kayse.

Kayse has no lookup by external ID and no idempotency key, so only a person who looks
in Kayse can say whether such a record exists. This module names every one of them and
spells out the exact commands that record the answer, with the options of the run.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from kayse_pipeline.errors import KayseError
from kayse_pipeline.model import Kind, Manifest, Record
from kayse_pipeline.run.apply import Options, load, state_show

PROGRAM = "kayse-pipeline"
# Fields that find a record in Kayse; never a contact's or a case's name (a person's name).
CLUES: Mapping[Kind, tuple[str, ...]] = {
    "contact": ("external_source_id",),
    "case": ("external_source_id", "case_number"),
    "list": ("external_source_id", "name"),
    "campaign": ("name",),
}


def state_command(options: Options, verb: str) -> str:
    """``kayse-pipeline state VERB MANIFEST`` with the options that select the same state."""
    words = [PROGRAM, "state", verb, str(options.manifest)]
    if options.state is not None:
        words += ["--state", str(options.state)]
    if options.sandbox:
        words.append("--sandbox")
    elif options.api_url:
        words += ["--api-url", options.api_url]
    return shlex.join(words)


def unknown_advice(options: Options, manifest: Manifest, symbols: Sequence[str]) -> str:
    """Every unknown record, how to find it in Kayse, and the commands that resolve it."""
    where = (
        f"the sandbox (`{PROGRAM} sandbox dump` shows its records)" if options.sandbox else "Kayse"
    )
    lines = [
        f"{len(symbols)} record(s) may or may not have been created in Kayse; no apply "
        "creates them again until you say which:"
    ]
    for symbol in symbols:
        record = manifest.records.get(symbol)
        kind = record.kind if record is not None else "symbol"
        lines.append(f"  {kind} {symbol}{_clue(record)}")
    forget = state_command(options, "forget")
    lines += [
        f"Look each one up in {where}. If it is there, record its ID:",
        f"  {state_command(options, 'set')} SYMBOL ID [SYMBOL ID ...]",
        "If it is not, release it so that the next apply creates it:",
        f"  {forget} SYMBOL [SYMBOL ...]",
        f"  (once none of them is there: {forget} --unknown)",
    ]
    return "\n".join(lines)


def _clue(record: Record | None) -> str:
    """What identifies the record in Kayse without any personal data: an external ID or name."""
    if record is None:
        return ""
    for key in CLUES[record.kind]:
        value = record.fields.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return f" ({key} {value})"
    return ""


def advice_from_state(options: Options) -> str | None:
    """The advice for every record the saved state holds as unknown (after an interrupted run)."""
    try:
        unknown = [s for s, saved in state_show(options) if saved.status == "unknown"]
        return unknown_advice(options, load(options), unknown) if unknown else None
    except KayseError:
        return None  # the error that stopped the run is the one to report
