"""`kayse-pipeline refresh`: read the saved records back and record what changed in Kayse."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kayse_pipeline.cli import render
from kayse_pipeline.cli import render_lifecycle as lifecycle_render
from kayse_pipeline.cli.options import (
    echo_json,
    max_reads_option,
    max_wait_option,
    options,
    target_options,
)
from kayse_pipeline.run import refresh as lifecycle


@click.command()
@target_options
@max_wait_option
@max_reads_option
@click.pass_context
def refresh(
    ctx: click.Context,
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    max_wait: float,
    max_reads: int | None,
) -> None:
    """Find records of MANIFEST deleted or changed in Kayse, so that apply puts them back."""
    opts = options(manifest, state, api_url, sandbox, max_wait=max_wait)
    progress = render.ProgressReporter(tty=sys.stderr.isatty() and output != "json")
    log = (lambda line: click.echo(f"debug: {line}", err=True)) if ctx.obj.get("debug") else None
    try:
        result = lifecycle.refresh(opts, max_reads=max_reads, on_wait=progress.waiting, log=log)
    finally:
        progress.finish()
    if output == "json":
        echo_json(lifecycle_render.refresh_json(result))
    else:
        click.echo(lifecycle_render.refresh_text(result))
    if not result.ok:
        ctx.exit(1)
