"""``kayse-pipeline sandbox``: serve the built-in Kayse emulator, show or empty its records."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from kayse_pipeline.sandbox import (
    dump_sandbox,
    load_account_config,
    open_sandbox,
    reset_sandbox,
    resolve_dir,
    serve,
)
from kayse_pipeline.sandbox.ratelimit import RESET_STYLES, ResetStyle
from kayse_pipeline.sandbox.server import check_host

_DIR_HELP = "Sandbox folder (default: $KAYSE_SANDBOX_DIR, else ./.kayse-sandbox)."
_dir_option = click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=_DIR_HELP
)


@click.group("sandbox")
def sandbox() -> None:
    """The built-in Kayse emulator: serve it over HTTP, show or empty its records."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8750,
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option("--api-key", help="The key clients must send (default: $KAYSE_API_KEY, else new).")
@_dir_option
@click.option(
    "--rate-limit",
    metavar="N/SECONDS|off",
    help="Budget per key (default: $KAYSE_SANDBOX_RATE_LIMIT, else 500/3600).",
)
@click.option(
    "--faults",
    metavar="SPEC",
    help="e.g. 429=0.05,500=0.05,lost=0.05,slow=0.1,seed=7 (default: $KAYSE_SANDBOX_FAULTS).",
)
@click.option(
    "--account-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML with case_types / case_statuses and field changes (or a manifest's account block).",
)
@click.option(
    "--bulk-max",
    type=click.IntRange(1),
    default=500,
    show_default=True,
    help="Most items per bulk call.",
)
@click.option(
    "--reset-style",
    type=click.Choice(RESET_STYLES),
    default="epoch",
    show_default=True,
    help="X-RateLimit-Reset as the window's end in epoch seconds, or as seconds remaining.",
)
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host.")
def serve_command(
    host: str,
    port: int,
    api_key: str | None,
    directory: Path | None,
    rate_limit: str | None,
    faults: str | None,
    account_file: Path | None,
    bulk_max: int,
    reset_style: ResetStyle,
    allow_remote: bool,
) -> None:
    """Serve the emulator over HTTP until Ctrl-C; prints one line with its URL."""
    env_key = os.environ.get("KAYSE_API_KEY")
    if api_key:
        key, shown = api_key, "key from --api-key"
    elif env_key:
        key, shown = env_key, "key from KAYSE_API_KEY"
    else:
        key = secrets.token_urlsafe(24)
        shown = f"key: {key}"  # nobody else knows it: the one place it is shown
    check_host(host, allow_remote=allow_remote)  # before the folder is created
    account = load_account_config(account_file) if account_file else None
    core = open_sandbox(
        directory,
        account=account,
        api_key=key,
        rate_limit=rate_limit,
        faults=faults,
        bulk_max=bulk_max,
        reset_style=reset_style,
    )

    def ready(url: str) -> None:
        click.echo(f"kayse sandbox listening on {url} ({shown})")
        sys.stdout.flush()
        click.echo(
            f"records in {core.store.directory}; rate limit {core.rate_limit} "
            f"(reset as {core.rate_limit.reset_style}); "
            f"faults {core.faults}",
            err=True,
        )

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(core, host, port, allow_remote=allow_remote, on_ready=ready)
    except KeyboardInterrupt:
        click.echo("kayse sandbox stopped", err=True)
    finally:
        core.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the server as cleanly as Ctrl-C


@sandbox.command("dump")
@_dir_option
def dump_command(directory: Path | None) -> None:
    """Print every record as JSON: clients, cases, case_lists (with case_ids), campaigns."""
    click.echo(json.dumps(dump_sandbox(directory), indent=2))


@sandbox.command("reset")
@_dir_option
def reset_command(directory: Path | None) -> None:
    """Empty the sandbox: records, links and rate-limit counters."""
    path = resolve_dir(directory)
    done = reset_sandbox(path)
    click.echo(f"emptied the sandbox in {path}" if done else f"no sandbox in {path}")
