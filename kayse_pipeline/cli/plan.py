"""`kayse-pipeline plan`: what apply would send, in order, with the request count."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli import render
from kayse_pipeline.cli import render_lifecycle as lifecycle_render
from kayse_pipeline.cli.options import (
    echo_json,
    max_reads_option,
    options,
    run_options,
    target_option,
    target_options,
)
from kayse_pipeline.cli.unknowns import unknown_advice
from kayse_pipeline.errors import UsageError
from kayse_pipeline.run import apply as runner
from kayse_pipeline.run import destroy as destroy_core
from kayse_pipeline.run import refresh as lifecycle
from kayse_pipeline.run.apply import Options


@click.command()
@target_options
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
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
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
    opts = options(
        manifest,
        state,
        api_url,
        sandbox,
        batch_size=batch_size,
        max_wait=max_wait,
        targets=targets,
    )
    if max_reads is not None and not refresh:
        raise UsageError("--max-reads goes with --refresh")
    if destroy and refresh:
        raise UsageError("--destroy and --refresh exclude each other: run refresh first")
    if destroy:
        changes = _destroy_plan(opts, output)
    elif refresh:
        changes = _refreshed_plan(ctx, opts, output, max_reads)
    else:
        report = runner.plan(opts)
        if output == "json":
            echo_json(render.plan_json(report))
        else:
            click.echo(render.plan_text(report))
        _advise_on_unknowns(opts, report)
        changes = report.plan.has_changes
    if detailed_exitcode and changes:
        ctx.exit(2)


def _refreshed_plan(ctx: click.Context, opts: Options, output: str, max_reads: int | None) -> bool:
    """Refresh, then show the plan; True when apply would send anything."""
    refreshed, report = lifecycle.refresh_and_plan(opts, max_reads=max_reads)
    if output == "json":
        reads = {"refresh": lifecycle_render.refresh_json(refreshed), "reads": refreshed.reads}
        echo_json(render.plan_json(report) | reads)
    else:
        click.echo(lifecycle_render.refresh_text(refreshed) + "\n")
        click.echo(render.plan_text(report))
    _advise_on_unknowns(opts, report)
    if not refreshed.ok:
        ctx.exit(1)  # a plan made on what could not be read is not one to act on
    return report.plan.has_changes


def _advise_on_unknowns(opts: Options, report: runner.PlanReport) -> None:
    unknown = [r.symbol for r in report.plan.records if r.action == "unknown"]
    if unknown:
        click.echo(unknown_advice(opts, report.manifest, unknown), err=True)


def _destroy_plan(opts: Options, output: str) -> bool:
    """Show what destroy would send; True when it would send anything."""
    plan = destroy_core.plan_destroy(opts)
    if output == "json":
        echo_json(lifecycle_render.destroy_plan_json(plan))
    else:
        click.echo(lifecycle_render.destroy_plan_text(plan))
    return plan.has_changes
