"""`kayse-pipeline import`: adopt a record that already exists in Kayse under a manifest symbol."""

from __future__ import annotations

import click

from kayse_pipeline.bounds import MAX_ID
from kayse_pipeline.cli.options import Target, debug_log, options, target_options
from kayse_pipeline.cli.output import show
from kayse_pipeline.cli.output.json_doc import adopted_json
from kayse_pipeline.cli.output.text import adopted_text
from kayse_pipeline.run import refresh as lifecycle


@click.command("import")
@target_options
@click.argument("symbol")
@click.argument("record_id", metavar="ID", type=click.IntRange(min=1, max=MAX_ID))
@click.pass_context
def import_(
    ctx: click.Context,
    target: Target,
    output: str,
    symbol: str,
    record_id: int,
) -> None:
    """Save Kayse record ID under SYMBOL, once Kayse shows it, so that apply updates it."""
    opts = options(target)
    adopted = lifecycle.adopt(opts, symbol, record_id, log=debug_log(ctx))
    show(output, as_json=lambda: adopted_json(adopted), as_text=lambda: adopted_text(adopted))
