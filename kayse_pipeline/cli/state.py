"""`kayse-pipeline state show|set|forget`: read and correct the state, offline."""

from __future__ import annotations

from pathlib import Path

import click

from kayse_pipeline.cli.options import echo_json, options, target_options
from kayse_pipeline.errors import UsageError
from kayse_pipeline.run import apply as runner


@click.group()
def state() -> None:
    """Read or correct the saved IDs of a manifest (offline)."""


@state.command("show")
@target_options
def show(
    manifest: Path, state: Path | None, api_url: str | None, sandbox: bool, output: str
) -> None:
    """Symbol, kind and ID of every saved record."""
    rows = runner.state_show(options(manifest, state, api_url, sandbox))
    if output == "json":
        echo_json(
            {
                "records": [
                    {"symbol": s, "kind": r.kind, "id": r.id, "status": r.status} for s, r in rows
                ]
            }
        )
        return
    if not rows:
        click.echo("The state holds no records.")
    for symbol, saved in rows:
        shown = str(saved.id) if saved.status == "ok" else "unknown"
        click.echo(f"{symbol:32} {saved.kind:8} {shown}")


@state.command("set")
@target_options
@click.argument("pairs", nargs=-1, required=True)
def set_(
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    pairs: tuple[str, ...],
) -> None:
    """Record the ID a record has in Kayse: SYMBOL ID [SYMBOL ID ...]."""
    if len(pairs) % 2:
        raise UsageError("state set takes pairs: SYMBOL ID [SYMBOL ID ...]")
    parsed: list[tuple[str, int]] = []
    for symbol, raw in zip(pairs[::2], pairs[1::2], strict=True):
        if not raw.isdigit():
            raise UsageError(f"'{raw}' is not a Kayse ID (IDs are positive integers)")
        parsed.append((symbol, int(raw)))
    runner.state_set(options(manifest, state, api_url, sandbox), parsed)
    for symbol, record_id in parsed:
        click.echo(f"{symbol}: saved ID {record_id}")


@state.command("forget")
@target_options
@click.argument("symbols", nargs=-1)
@click.option(
    "--unknown", "all_unknown", is_flag=True, help="Forget every record whose outcome is unknown."
)
def forget(
    manifest: Path,
    state: Path | None,
    api_url: str | None,
    sandbox: bool,
    output: str,
    symbols: tuple[str, ...],
    all_unknown: bool,
) -> None:
    """Drop SYMBOLS from the state so that the next apply creates them again."""
    forgotten = runner.state_forget(
        options(manifest, state, api_url, sandbox), list(symbols), all_unknown=all_unknown
    )
    click.echo(f"forgotten: {', '.join(forgotten)} (the next apply creates them)")
