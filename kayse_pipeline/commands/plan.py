"""`kayse-pipeline plan`: what apply would send, in order, with the request count."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline import render, runner
from kayse_pipeline.commands._options import echo_json, options, run_options, target_options


@click.command()
@target_options
@run_options
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error.",
)
@click.pass_context
def plan(
    ctx: click.Context,
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    batch_size: int,
    max_wait: float,
    detailed_exitcode: bool,
) -> None:
    """Show what `apply` would send for MANIFEST, in order, and how many requests."""
    report = runner.plan(
        options(manifest, state, api_url, sandbox, batch_size=batch_size, max_wait=max_wait)
    )
    if output == "json":
        echo_json(render.plan_json(report))
    else:
        click.echo(render.plan_text(report))
    if detailed_exitcode and report.plan.has_changes:
        ctx.exit(2)
