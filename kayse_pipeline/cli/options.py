"""Options shared by every command that reads or writes a state."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kayse_pipeline.api.endpoints import DEFAULT_BATCH_SIZE
from kayse_pipeline.api.pacing import DEFAULT_MAX_WAIT
from kayse_pipeline.bounds import MAX_ID, parse_id
from kayse_pipeline.cli.output import colour, print_warnings, say
from kayse_pipeline.cli.output.text import target_warnings, unknown_advice
from kayse_pipeline.cli.variables import given, var_options
from kayse_pipeline.errors import KayseError, UsageError

if TYPE_CHECKING:  # the run stage loads only for the commands that run something
    from kayse_pipeline.api.stop import Stop
    from kayse_pipeline.run.apply import PlanReport
    from kayse_pipeline.run.session import Options

F = TypeVar("F", bound=Callable[..., Any])
_OTHER_MANIFEST = "kayse_pipeline.other_manifest"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    ctx.meta[_OTHER_MANIFEST] = bool(value)


def warn_partial(report: PlanReport) -> None:
    """Say what a ``--target`` plan leaves out of the manifest, on stderr."""
    from kayse_pipeline.plan.targets import left_out

    planned = (r.symbol for r in report.plan.records)
    for line in target_warnings(left_out(report.manifest, planned), report.manifest):
        say(line, err=True, style=colour.warning)


@dataclass(frozen=True)
class Target:
    """MANIFEST, --state, --api-url and --sandbox: which state of which manifest, against what."""

    manifest: Path
    state: Path | None
    api_url: str | None
    sandbox: bool


_STATE_OPTION = click.option(
    "--state",
    "state",
    type=click.Path(path_type=Path, dir_okay=False),
    help="State file (default: beside the manifest, named after it).",
)
_API_URL_OPTION = click.option(
    "--api-url",
    help="Kayse API base URL (default: $KAYSE_API_URL, else https://public-api.kayse.ai/v1).",
)
_SANDBOX_OPTION = click.option(
    "--sandbox", is_flag=True, help="Use the built-in Kayse emulator (no key, no network)."
)


def doctor_options(func: F) -> F:
    """[MANIFEST], --state, --api-url, --sandbox, --output text|json|markdown and --var."""
    decorators = [
        click.argument("manifest", required=False, type=click.Path(path_type=Path, dir_okay=False)),
        _STATE_OPTION,
        _API_URL_OPTION,
        _SANDBOX_OPTION,
        click.option(
            "--output",
            type=click.Choice(["text", "json", "markdown"]),
            default="text",
            show_default=True,
            help="json: one JSON document on stdout; markdown: for a CI job summary.",
        ),
        var_options,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def target_options(func: F) -> F:
    """MANIFEST, --state, --api-url, --sandbox, --output and --var, as every state command
    takes them; the command gets the first four as one ``target: Target``."""
    return _target_options(func, ["text", "json"])


def report_options(func: F) -> F:
    """``target_options`` for plan, apply, refresh, destroy: --output also takes markdown."""
    return _target_options(func, ["text", "json", "markdown"])


def _target_options(func: F, formats: list[str]) -> F:
    @functools.wraps(func)
    def with_target(
        *args: Any,
        manifest: Path,
        state: Path | None,
        api_url: str | None,
        sandbox: bool,
        **kw: Any,
    ) -> Any:
        return func(*args, target=Target(manifest, state, api_url, sandbox), **kw)

    decorators = [
        click.argument("manifest", type=click.Path(path_type=Path, dir_okay=False)),
        _STATE_OPTION,
        _API_URL_OPTION,
        _SANDBOX_OPTION,
        click.option(
            "--output",
            type=click.Choice(formats),
            default="text",
            show_default=True,
            help="json: one JSON document on stdout"
            + ("; markdown: a pull-request or job-summary report." if len(formats) > 2 else "."),
        ),
        var_options,
        click.option(
            "--allow-other-manifest",
            is_flag=True,
            expose_value=False,
            callback=_remember,
            help="Use a state saved for another manifest (renamed or moved); it then "
            "belongs to this one.",
        ),
    ]
    command: Any = with_target
    for decorator in reversed(decorators):
        command = decorator(command)
    return cast(F, command)


class Seconds(click.ParamType):  # type: ignore[type-arg]
    """A finite number of seconds, 0 or more (``nan`` and ``inf`` are refused)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            number = value
        else:
            try:
                number = float(str(value))
            except ValueError:
                number = math.nan
        if not math.isfinite(number) or number < 0:
            self.fail(f"{value!r} is not a finite number of seconds, 0 or more", param, ctx)
        return number


def max_wait_option(func: F) -> F:
    """--max-wait, for commands that send requests."""
    return click.option(
        "--max-wait",
        type=Seconds(),
        default=DEFAULT_MAX_WAIT,
        show_default=True,
        help="Longest wait, in seconds, for the rate-limit budget to reset before stopping.",
    )(func)


def max_reads_option(func: F) -> F:
    """--max-reads N, for commands that read records back."""
    return click.option(
        "--max-reads",
        type=click.IntRange(min=1),
        help="Spend at most N requests of the rate budget on reading records back.",
    )(func)


def batch_size_option(func: F) -> F:
    """--batch-size, for commands that send or count bulk requests."""
    return click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=DEFAULT_BATCH_SIZE,
        show_default=True,
        help="Records per bulk request (and IDs per attach / append request).",
    )(func)


def run_options(func: F) -> F:
    """--batch-size and --max-wait, for commands that send requests."""
    return batch_size_option(max_wait_option(func))


def target_option(func: F) -> F:
    """--target SYMBOL, repeatable: act on those records only (and what they bring along)."""
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="SYMBOL",
        help="Only this record and what it depends on (destroy: what depends on it); repeatable.",
    )(func)


def options(
    target: Target,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_wait: float = DEFAULT_MAX_WAIT,
    targets: tuple[str, ...] = (),
    stop: Stop | None = None,
) -> Options:
    from kayse_pipeline.run.session import Options

    ctx = click.get_current_context(silent=True)
    return Options(
        manifest=target.manifest,
        state=target.state,
        api_url=target.api_url,
        sandbox=target.sandbox,
        batch_size=batch_size,
        max_wait=max_wait,
        env=dict(os.environ),
        targets=frozenset(targets) if targets else None,
        given=given(),
        warn=print_warnings,
        other_manifest=bool(ctx and ctx.meta.get(_OTHER_MANIFEST)),
        stop=stop,
    )


def debug_log(ctx: click.Context) -> Callable[[str], None] | None:
    """Where the redacted request trace goes under --debug: stderr."""
    if not ctx.obj.get("debug"):
        return None
    return lambda line: say(f"debug: {line}", err=True)


def id_pairs(words: Sequence[str]) -> list[tuple[str, int]]:
    """``SYMBOL ID [SYMBOL ID ...]`` as pairs."""
    if len(words) % 2:
        raise UsageError("state set takes pairs: SYMBOL ID [SYMBOL ID ...]")
    pairs: list[tuple[str, int]] = []
    for symbol, raw in zip(words[::2], words[1::2], strict=True):
        record_id = parse_id(raw)
        if record_id is None:
            shown = raw if len(raw) <= 24 else f"{raw[:20]}... ({len(raw)} characters)"
            raise UsageError(
                f"'{shown}' is not a Kayse ID (IDs are positive integers up to {MAX_ID})"
            )
        pairs.append((symbol, record_id))
    return pairs


@contextmanager
def advice_on_interrupt(options: Options) -> Iterator[None]:
    """On Ctrl-C, name the create that was in flight (if any) and how to resolve it."""
    try:
        yield
    except KeyboardInterrupt:
        if advice := _advice_from_state(options):
            say(advice, err=True)
        raise


def _advice_from_state(options: Options) -> str | None:
    """The advice for every record the saved state holds as unknown (after an interrupted run)."""
    from kayse_pipeline.run.apply import state_show
    from kayse_pipeline.run.session import load

    try:
        unknown = [s for s, saved in state_show(options) if saved.status == "unknown"]
        return unknown_advice(options, load(options, warn=False), unknown) if unknown else None
    except KayseError:
        return None  # the error that stopped the run is the one to report
