"""`kayse-pipeline destroy`: delete what the recipe created or adopted, and nothing else."""

from __future__ import annotations

import sys

import click

from kayse_pipeline.cli import signals
from kayse_pipeline.cli.options import (
    Target,
    debug_log,
    options,
    report_options,
    run_options,
    target_option,
)
from kayse_pipeline.cli.output import markdown as md
from kayse_pipeline.cli.output import say, show
from kayse_pipeline.cli.output.json_doc import destroy_json
from kayse_pipeline.cli.output.progress import progress_bar
from kayse_pipeline.cli.output.text import destroy_plan_text, destroy_text
from kayse_pipeline.errors import UsageError
from kayse_pipeline.plan.destroy import DestroyPlan
from kayse_pipeline.run import destroy as core


@click.command()
@report_options
@run_options
@target_option
@click.option("--yes", is_flag=True, help="Do not ask; needed where there is no terminal.")
@click.pass_context
def destroy(
    ctx: click.Context,
    target: Target,
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
    # bulk_delete takes up to 500 IDs: --batch-size only lowers that when given.
    explicit = ctx.get_parameter_source("batch_size") == click.core.ParameterSource.COMMANDLINE
    with signals.graceful_stop() as stop, progress_bar(output) as progress:
        opts = options(target, batch_size=batch_size, max_wait=max_wait, targets=targets, stop=stop)
        plan, result = core.destroy(
            opts,
            confirm=None if yes else _confirm,
            delete_batch=batch_size if explicit else None,
            on_wait=progress.waiting,
            log=debug_log(ctx),
        )
    if result.cancelled:
        click.echo("Destroy cancelled: nothing was sent.", err=True)
        ctx.exit(1)
    show(
        output,
        as_json=lambda: destroy_json(plan, result),
        as_text=lambda: destroy_text(result),
        as_markdown=lambda: md.destroy_markdown(plan, result),
    )
    if (code := signals.exit_code(stop)) is not None:
        click.echo(
            signals.stopped_summary(stop, (o.action for o in result.outcomes), opts.state_path),
            err=True,
        )
        ctx.exit(code)
    if not result.ok:
        ctx.exit(1)


def _confirm(plan: DestroyPlan) -> bool:
    """Ask on a terminal; anywhere else, refuse before anything is sent."""
    if not sys.stdin.isatty():
        raise UsageError(
            f"destroy would delete {plan.count('delete')} record(s) in Kayse: run it on a "
            "terminal to confirm, or pass --yes; nothing was sent"
        )
    say(destroy_plan_text(plan), err=True)
    with signals.default_interrupts():  # Ctrl-C at the prompt leaves it, as in any prompt
        return click.confirm("Delete these records from Kayse?", default=False, err=True)
