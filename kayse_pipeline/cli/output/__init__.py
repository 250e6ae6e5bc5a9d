"""Output by format: ``text`` for people, ``json_doc``, ``junit``, ``progress`` on stderr.

Each format module turns a result of the library into a string or a document; only
``show``, ``say`` and the commands print. Every text meant for a person goes through
``say`` (JUnit through ``safe_text``): what a server or a file said never reaches a
terminal, a CI log or a report raw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

from kayse_pipeline.cli.output import colour
from kayse_pipeline.cli.output.notes import notes_text
from kayse_pipeline.errors import Diagnostic
from kayse_pipeline.model import Manifest
from kayse_pipeline.safe_text import safe_text


def echo_json(doc: Any) -> None:
    """Print one JSON document on stdout, every string in it made safe (``jq -r`` prints them)."""
    click.echo(json.dumps(_safe_strings(doc), indent=2))


def _safe_strings(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {key: _safe_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_safe_strings(item) for item in value]
    return value


def show(
    output: str,
    *,
    as_json: Callable[[], Any],
    as_text: Callable[[], str],
    as_markdown: Callable[[], str] | None = None,
) -> None:
    """Print a result on stdout in the format asked for; only that format is built."""
    if output == "json":
        echo_json(as_json())
    elif output == "markdown" and as_markdown is not None:
        click.echo(as_markdown(), nl=False)
    else:
        say(as_text(), style=colour.marks)


def echo_notes(manifest: Manifest) -> None:
    """Print the data rows that loading the manifest left out on stderr."""
    if noted := notes_text(manifest.notes):
        say(noted, err=True)


def say(text: str, *, err: bool = False, style: Callable[[str], str] | None = None) -> None:
    """Print text for a person: made safe first (``safe_text``), then coloured by ``style``."""
    shown = safe_text(text)
    click.echo(style(shown) if style is not None else shown, err=err)


def print_warnings(warnings: Sequence[Diagnostic]) -> None:
    """Each warning on stderr as ``FILE:LINE:COL: warning: message``."""
    for warning in warnings:
        say(warning_line(warning), err=True, style=colour.warning)


def warning_line(warning: Diagnostic) -> str:
    """``FILE:LINE:COL: warning: message``, or ``warning: message`` when it has no place."""
    if not warning.file:
        return f"warning: {warning.message}"
    return f"{warning.file}:{warning.line}:{warning.column}: warning: {warning.message}"
