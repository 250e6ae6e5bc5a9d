"""`kayse-pipeline plan`: what apply would send, in order, with the request count."""

from __future__ import annotations

from dataclasses import replace

import click

from kayse_pipeline.cli import signals
from kayse_pipeline.cli.options import (
    Target,
    max_reads_option,
    options,
    report_options,
    run_options,
    target_option,
    warn_partial,
)
from kayse_pipeline.cli.output import echo_notes, json_doc, say, show, text
from kayse_pipeline.cli.output import markdown as md
from kayse_pipeline.errors import UsageError
from kayse_pipeline.run import apply as runner
from kayse_pipeline.run import destroy as destroy_core
from kayse_pipeline.run import refresh as lifecycle


@click.command()
@report_options
@run_options
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error.",
)
@target_option
@click.option("--refresh", is_flag=True, help="Read the saved records back first (see refresh).")
@max_reads_option
@click.option("--destroy", is_flag=True, help="Show what destroy would send instead.")
@click.pass_context
def plan(
    ctx: click.Context,
    target: Target,
    output: str,
    batch_size: int,
    max_wait: float,
    detailed_exitcode: bool,
    targets: tuple[str, ...],
    refresh: bool,
    max_reads: int | None,
    destroy: bool,
) -> None:
    """Show what `apply` would send for MANIFEST, in order, and how many requests."""
    opts = options(target, batch_size=batch_size, max_wait=max_wait, targets=targets)
    if max_reads is not None and not refresh:
        raise UsageError("--max-reads goes with --refresh")
    if destroy and refresh:
        raise UsageError("--destroy and --refresh exclude each other: run refresh first")
    read_ok = True
    if destroy:
        doomed = destroy_core.plan_destroy(opts)
        show(
            output,
            as_json=lambda: json_doc.destroy_plan_json(doomed),
            as_text=lambda: text.destroy_plan_text(doomed),
            as_markdown=lambda: md.destroy_plan_markdown(doomed),
        )
        changes = doomed.has_changes
    else:
        if refresh:
            with signals.graceful_stop() as stop:
                refreshed, report = lifecycle.refresh_and_plan(
                    replace(opts, stop=stop), max_reads=max_reads
                )
            if (code := signals.exit_code(stop)) is not None:
                click.echo(f"stopped by {stop.reason}: what was read so far is saved", err=True)
                ctx.exit(code)
            echo_notes(report.manifest)
            show(
                output,
                as_json=lambda: json_doc.refreshed_plan_json(refreshed, report),
                as_text=lambda: text.refreshed_plan_text(refreshed, report),
                as_markdown=lambda: md.plan_markdown(report, opts, refreshed),
            )
            read_ok = refreshed.ok  # a plan made on what could not be read is not one to act on
        else:
            report = runner.plan(opts)
            echo_notes(report.manifest)
            show(
                output,
                as_json=lambda: json_doc.plan_json(report),
                as_text=lambda: text.plan_text(report),
                as_markdown=lambda: md.plan_markdown(report, opts),
            )
        if opts.targets:
            warn_partial(report)
        if advice := text.plan_advice(opts, report):
            say(advice, err=True)
        changes = report.plan.has_changes
    if not read_ok:
        ctx.exit(1)
    if detailed_exitcode and changes:
        ctx.exit(2)
