"""`kayse-pipeline destroy`: delete what the recipe created or adopted, and nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kayse_pipeline.cli import render
from kayse_pipeline.cli import render_lifecycle as lifecycle_render
from kayse_pipeline.cli.options import (
    echo_json,
    options,
    run_options,
    target_option,
    target_options,
)
from kayse_pipeline.errors import UsageError
from kayse_pipeline.run import destroy as core


@click.command()
@target_options
@run_options
@target_option
@click.option("--yes", is_flag=True, help="Do not ask; needed where there is no terminal.")
@click.pass_context
def destroy(
    ctx: click.Context,
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    batch_size: int,
    max_wait: float,
    targets: tuple[str, ...],
    yes: bool,
) -> None:
    """Delete the contacts and cases of MANIFEST's state; report lists and campaigns left behind.

    Asks first on a terminal; elsewhere needs --yes. Cases go 500 per bulk_delete request
    (fewer when --batch-size says so).
    """
    opts = options(
        manifest,
        state,
        api_url,
        sandbox,
        batch_size=batch_size,
        max_wait=max_wait,
        targets=targets,
    )
    # bulk_delete takes up to 500 IDs: --batch-size only lowers that when given.
    explicit = ctx.get_parameter_source("batch_size") == click.core.ParameterSource.COMMANDLINE
    delete_batch = min(batch_size, core.BULK_DELETE_MAX) if explicit else core.BULK_DELETE_MAX
    progress = render.ProgressReporter(tty=sys.stderr.isatty() and output != "json")
    log = (lambda line: click.echo(f"debug: {line}", err=True)) if ctx.obj.get("debug") else None
    try:
        plan, result = core.destroy(
            opts,
            confirm=None if yes else _confirm,
            delete_batch=delete_batch,
            on_wait=progress.waiting,
            log=log,
        )
    finally:
        progress.finish()
    if result.cancelled:
        click.echo("Destroy cancelled: nothing was sent.", err=True)
        ctx.exit(1)
    if output == "json":
        echo_json(lifecycle_render.destroy_json(plan, result))
    else:
        click.echo(lifecycle_render.destroy_text(result))
    if not result.ok:
        ctx.exit(1)


def _confirm(plan: core.DestroyPlan) -> bool:
    """Ask on a terminal; anywhere else, refuse before anything is sent."""
    if not sys.stdin.isatty():
        raise UsageError(
            f"destroy would delete {plan.count('delete')} record(s) in Kayse: run it on a "
            "terminal to confirm, or pass --yes; nothing was sent"
        )
    click.echo(lifecycle_render.destroy_plan_text(plan), err=True)
    return click.confirm("Delete these records from Kayse?", default=False, err=True)
