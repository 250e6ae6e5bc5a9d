"""Output by format: ``text`` for people, ``json_doc``, ``junit``, ``progress`` on stderr.

Each format module turns a result of the library into a string or a document; only
``show`` and the commands print.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from kayse_pipeline.cli.output import colour
from kayse_pipeline.cli.output.notes import notes_text
from kayse_pipeline.model import Manifest


def echo_json(doc: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(doc, indent=2))


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
        click.echo(colour.marks(as_text()))


def echo_notes(manifest: Manifest) -> None:
    """Print the data rows that loading the manifest left out on stderr."""
    if noted := notes_text(manifest.notes):
        click.echo(noted, err=True)
