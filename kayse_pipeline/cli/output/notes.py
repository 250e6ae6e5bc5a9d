"""What loading a manifest noted besides errors and warnings: skipped rows, normalised values.

Skipped rows go to stderr as ``FILE:LINE: skipped: reason`` (a place and a reason, never a
lead's value); their count and the number of normalised values go into each command's
summary, every skipped row into its JSON document.
"""

from __future__ import annotations

from typing import Any

from kayse_pipeline.model import LoadNotes, Note

SKIPPED_LISTED = 100  # past this many skipped rows, text output counts the rest


def skipped_line(note: Note) -> str:
    return f"{note.file}:{note.line}: skipped: {note.message}"


def notes_text(notes: LoadNotes) -> str | None:
    """The skipped rows, one per line, for stderr; None when there are none."""
    skipped = notes.skipped_rows
    lines = [skipped_line(note) for note in skipped[:SKIPPED_LISTED]]
    if len(skipped) > SKIPPED_LISTED:
        lines.append(
            f"… and {len(skipped) - SKIPPED_LISTED} more skipped row(s) "
            "(--output json lists them all)"
        )
    return "\n".join(lines) if lines else None


def notes_summary(notes: LoadNotes, prefix: str = "Leads: ") -> str | None:
    """``Leads: 2 bad row(s) skipped (on_bad_row: skip), 14 ... normalised ...``, or None."""
    parts = []
    if notes.skipped_rows:
        parts.append(f"{len(notes.skipped_rows)} bad row(s) skipped (on_bad_row: skip)")
    if notes.normalised:
        parts.append(
            f"{notes.normalised} phone or email value(s) normalised (E.164, trimmed, "
            "lowercase domain)"
        )
    return prefix + ", ".join(parts) if parts else None


def notes_json(notes: LoadNotes) -> dict[str, Any]:
    """The keys a plan's or a run's JSON document gets: every skipped row, the count."""
    return {
        "skipped_rows": [
            {"file": n.file, "line": n.line, "reason": n.message} for n in notes.skipped_rows
        ],
        "normalised_values": notes.normalised,
    }
