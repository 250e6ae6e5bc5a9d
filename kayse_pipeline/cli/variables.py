"""``--var NAME=VALUE`` and ``--var-file FILE``: values for ``${NAME}``, ahead of the environment.

Kept apart from ``options`` (the state commands' options) so that ``validate`` loads only these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kayse_pipeline.manifest.variables import Given, given_values

F = TypeVar("F", bound=Callable[..., Any])
_VARS, _VAR_FILES = "kayse_pipeline.vars", "kayse_pipeline.var_files"


def _keep(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        ctx.meta[key] = tuple(value)

    return callback


def var_options(func: F) -> F:
    """--var NAME=VALUE and --var-file FILE: ``${NAME}`` values ahead of the environment."""
    func = click.option(
        "--var-file",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_keep(_VAR_FILES),
        help="YAML mapping or .env file of values for ${NAME}; repeatable, later files win.",
    )(func)
    return click.option(
        "--var",
        multiple=True,
        metavar="NAME=VALUE",
        expose_value=False,
        callback=_keep(_VARS),
        help="A value for ${NAME} in the manifest, ahead of the environment; repeatable.",
    )(func)


def given() -> Given:
    """The --var and --var-file values of the current command (the key is refused)."""
    meta = click.get_current_context().meta
    return given_values(meta.get(_VAR_FILES, ()), meta.get(_VARS, ()))
