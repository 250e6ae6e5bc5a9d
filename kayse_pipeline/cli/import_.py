"""`kayse-pipeline import`: adopt a record that already exists in Kayse under a manifest symbol."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli import render_lifecycle as lifecycle_render
from kayse_pipeline.cli.options import echo_json, options, target_options
from kayse_pipeline.run import refresh as lifecycle


@click.command("import")
@target_options
@click.argument("symbol")
@click.argument("record_id", metavar="ID", type=click.IntRange(min=1))
@click.pass_context
def import_(
    ctx: click.Context,
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    symbol: str,
    record_id: int,
) -> None:
    """Save Kayse record ID under SYMBOL, once Kayse shows it, so that apply updates it."""
    log = (lambda line: click.echo(f"debug: {line}", err=True)) if ctx.obj.get("debug") else None
    adopted = lifecycle.adopt(
        options(manifest, state, api_url, sandbox), symbol, record_id, log=log
    )
    if output == "json":
        echo_json(lifecycle_render.adopted_json(adopted))
    else:
        click.echo(lifecycle_render.adopted_text(adopted))
