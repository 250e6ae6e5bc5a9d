"""Colour on a terminal only: never in a pipe, a file or a CI log, nor with ``NO_COLOR``.

Plans mark each line with ``+`` (create), ``~`` (update), ``-`` (delete), ``?``
(unknown) or ``!`` (left alone); those lines, errors and warnings are coloured on a
terminal, unless ``NO_COLOR`` is set (https://no-color.org) or ``TERM`` is ``dumb``.
"""

from __future__ import annotations

import os
import re
import sys

import click

MARK_COLOURS = {"+": "green", "~": "yellow", "-": "red", "?": "magenta", "!": "yellow"}
_MARKED = re.compile(r" {2}([-+~?!]) ")


def enabled(*, err: bool = False) -> bool:
    """Whether stdout (stderr with ``err``) is a terminal that may be coloured."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    stream = sys.stderr if err else sys.stdout
    return stream.isatty()


def marks(text: str) -> str:
    """``text`` with each marked plan line in its mark's colour, on a terminal."""
    if not enabled():
        return text
    lines = []
    for line in text.split("\n"):
        found = _MARKED.match(line)
        lines.append(click.style(line, fg=MARK_COLOURS[found.group(1)]) if found else line)
    return "\n".join(lines)


def error(text: str) -> str:
    """An error message for stderr: red on a terminal."""
    return click.style(text, fg="red") if enabled(err=True) else text


def warning(text: str) -> str:
    """A warning for stderr: yellow on a terminal."""
    return click.style(text, fg="yellow") if enabled(err=True) else text
