"""`kayse-pipeline apply`: run the plan, keep every ID, exit 0 only when everything is in place."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli import signals
from kayse_pipeline.cli.options import (
    Target,
    advice_on_interrupt,
    debug_log,
    options,
    report_options,
    run_options,
    target_option,
    warn_partial,
)
from kayse_pipeline.cli.output import echo_notes, json_doc, say, show, text
from kayse_pipeline.cli.output import markdown as md
from kayse_pipeline.cli.output.junit import write_junit
from kayse_pipeline.cli.output.progress import progress_bar
from kayse_pipeline.run import apply as runner


@click.command()
@report_options
@run_options
@click.option(
    "--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write a JUnit XML report."
)
@target_option
@click.pass_context
def apply(
    ctx: click.Context,
    target: Target,
    output: str,
    batch_size: int,
    max_wait: float,
    junit: Path | None,
    targets: tuple[str, ...],
) -> None:
    """Create and update what MANIFEST describes; never prompts.

    The first SIGINT or SIGTERM sends nothing new, gives the request in flight a few
    seconds, saves the state and exits 130 / 143; a second one stops waiting.
    """
    with signals.graceful_stop() as stop:
        opts = options(target, batch_size=batch_size, max_wait=max_wait, targets=targets, stop=stop)
        with advice_on_interrupt(opts), progress_bar(output) as progress:
            report, result = runner.apply(
                opts,
                progress=progress,
                on_wait=progress.waiting,
                log=debug_log(ctx),
                on_loaded=echo_notes,
            )
    junit_error = write_junit(junit, result) if junit is not None else None
    show(
        output,
        as_json=lambda: json_doc.apply_json(report, result),
        as_text=lambda: text.apply_text(report, result),
        as_markdown=lambda: md.apply_markdown(report, result, opts),
    )
    if opts.targets:
        warn_partial(report)
    if advice := text.apply_advice(opts, report, result):
        say(advice, err=True)
    if junit_error:
        say(f"error: {junit_error}", err=True)
    if (code := signals.exit_code(stop)) is not None:
        say(
            signals.stopped_summary(stop, (o.action for o in result.outcomes), opts.state_path),
            err=True,
        )
        ctx.exit(code)
    if not result.ok or junit_error:
        ctx.exit(1)
