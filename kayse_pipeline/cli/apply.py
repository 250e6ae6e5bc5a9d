"""`kayse-pipeline apply`: run the plan, keep every ID, exit 0 only when everything is in place."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kayse_pipeline.cli import render
from kayse_pipeline.cli.options import (
    echo_json,
    options,
    run_options,
    target_option,
    target_options,
)
from kayse_pipeline.cli.unknowns import advice_from_state, unknown_advice
from kayse_pipeline.run import apply as runner
from kayse_pipeline.run.executor import ApplyResult

LIST_RECORDS_UP_TO = 200  # a longer apply prints counts, not a line per record


@click.command()
@target_options
@run_options
@click.option(
    "--junit", type=click.Path(path_type=Path, dir_okay=False), help="Write a JUnit XML report."
)
@target_option
@click.pass_context
def apply(
    ctx: click.Context,
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    batch_size: int,
    max_wait: float,
    junit: Path | None,
    targets: tuple[str, ...],
) -> None:
    """Create and update what MANIFEST describes; never prompts."""
    opts = options(
        manifest,
        state,
        api_url,
        sandbox,
        batch_size=batch_size,
        max_wait=max_wait,
        targets=targets,
    )
    progress = render.ProgressReporter(tty=sys.stderr.isatty() and output != "json")
    log = (lambda line: click.echo(f"debug: {line}", err=True)) if ctx.obj.get("debug") else None
    try:
        report, result = runner.apply(opts, reporter=progress, on_wait=progress.waiting, log=log)
    except KeyboardInterrupt:
        progress.finish()
        if advice := advice_from_state(opts):  # the create that was in flight, if any
            click.echo(advice, err=True)
        raise
    finally:
        progress.finish()
    junit_error = _write_junit(junit, result) if junit is not None else None
    if output == "json":
        echo_json(render.apply_json(report, result))
    elif not report.plan.has_changes:
        click.echo(
            f"Nothing to do: {len(result.outcomes)} record(s) already in place, 0 requests sent."
        )
    else:
        click.echo(
            render.apply_text(result, list_records=len(result.outcomes) <= LIST_RECORDS_UP_TO)
        )
    unknown = [o.symbol for o in result.outcomes if o.action == "unknown"]
    if unknown:
        click.echo(unknown_advice(opts, report.manifest, unknown), err=True)
    if junit_error:
        click.echo(f"error: {junit_error}", err=True)
    if not result.ok or junit_error:
        ctx.exit(1)


def _write_junit(path: Path, result: ApplyResult) -> str | None:
    """Write the report; a failure is reported after the run's own output, which is saved."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render.junit_xml(result))
    except OSError as exc:
        return f"cannot write the JUnit report {path}: {exc.strerror}"
    return None
