"""`kayse-pipeline refresh`: read the saved records back and record what changed in Kayse."""

from __future__ import annotations

import click

from kayse_pipeline.cli import signals
from kayse_pipeline.cli.options import (
    Target,
    debug_log,
    max_reads_option,
    max_wait_option,
    options,
    report_options,
)
from kayse_pipeline.cli.output import markdown as md
from kayse_pipeline.cli.output import show
from kayse_pipeline.cli.output.json_doc import refresh_json
from kayse_pipeline.cli.output.progress import progress_bar
from kayse_pipeline.cli.output.text import refresh_text
from kayse_pipeline.run import refresh as lifecycle


@click.command()
@report_options
@max_wait_option
@max_reads_option
@click.pass_context
def refresh(
    ctx: click.Context,
    target: Target,
    output: str,
    max_wait: float,
    max_reads: int | None,
) -> None:
    """Find records of MANIFEST deleted or changed in Kayse, so that apply puts them back."""
    with signals.graceful_stop() as stop, progress_bar(output) as progress:
        opts = options(target, max_wait=max_wait, stop=stop)
        result = lifecycle.refresh(
            opts, max_reads=max_reads, on_wait=progress.waiting, log=debug_log(ctx)
        )
    show(
        output,
        as_json=lambda: refresh_json(result),
        as_text=lambda: refresh_text(result),
        as_markdown=lambda: md.refresh_markdown(result, opts),
    )
    if (code := signals.exit_code(stop)) is not None:
        click.echo(f"stopped by {stop.reason}: what was read so far is saved", err=True)
        ctx.exit(code)
    if not result.ok:
        ctx.exit(1)
