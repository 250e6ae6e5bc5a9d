"""Building blocks for GitHub-flavoured Markdown reports: escaping, tables, details, a size bound.

Every text that came from a file or a server goes through ``escape`` (or ``code``), so that
it can neither break the layout, inject HTML nor ping people with ``@name``; it is first
made safe by the one rule of ``kayse_pipeline.safe_text`` (as one line, but in a code
block). A report is a list of ``Section`` values that ``assemble`` fits under a size
bound by replacing whole sections with their summaries, never by cutting a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kayse_pipeline.safe_text import safe_line, safe_text

COMMENT_LIMIT = 60_000
"""Characters a report may take: GitHub refuses pull-request comments over 65,536."""

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "@": "&#64;"}


def escape(text: str) -> str:
    """Untrusted text as literal Markdown: no markup, no HTML, no mention, one line."""
    cleaned = _SPECIAL.sub(r"\\\1", safe_line(text))
    return "".join(_HTML.get(char, char) for char in cleaned)


def code(text: str) -> str:
    """Untrusted text as inline code (HTML ``<code>`` so that no backtick can end it early)."""
    return f"<code>{html(text).replace('|', '&#124;')}</code>"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, right: int = 0) -> list[str]:
    """A table; cells are trusted Markdown (escape them first). The last ``right`` align right."""
    align = ["---"] * (len(header) - right) + ["--:"] * right
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def details(summary: str, body: Sequence[str]) -> list[str]:
    """A collapsed section; ``summary`` is plain text (HTML-escaped), ``body`` Markdown lines."""
    return ["<details>", f"<summary>{html(summary)}</summary>", "", *body, "", "</details>"]


def html(text: str) -> str:
    """Untrusted text inside HTML, where Markdown is not read: entities only, one line."""
    return "".join(_HTML.get(char, char) for char in safe_line(text))


def bullet_list(items: Sequence[str], *, budget: int, more: str) -> list[str]:
    """As many whole ``- item`` lines as fit in ``budget`` characters, then a count of the rest.

    ``more`` is a format string with ``{n}`` for the number left out.
    """
    lines: list[str] = []
    used = 0
    for n, item in enumerate(items):
        line = f"- {item}"
        if used + len(line) + 1 > budget:
            lines.append(f"- {more.format(n=len(items) - n)}")
            break
        lines.append(line)
        used += len(line) + 1
    return lines


@dataclass(frozen=True)
class Section:
    """Whole lines of a report, and what stands for them when the report is too long."""

    lines: tuple[str, ...]
    summary: tuple[str, ...] = ()
    # Sections with a lower priority are summarised first.
    priority: int = 0

    @classmethod
    def of(cls, lines: Iterable[str], summary: Iterable[str] = (), priority: int = 0) -> Section:
        return cls(tuple(lines), tuple(summary), priority)

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def assemble(sections: Sequence[Section], *, limit: int = COMMENT_LIMIT) -> str:
    """Join the sections, summarising the least important ones until the text fits ``limit``."""
    chosen = list(sections)
    order = sorted(range(len(chosen)), key=lambda i: (chosen[i].priority, -chosen[i].size))
    for index in order:
        if _size(chosen) <= limit:
            break
        section = chosen[index]
        chosen[index] = Section(section.summary, section.summary, section.priority)
    text = "\n".join(line for section in chosen for line in (*section.lines, ""))
    if len(text) > limit:  # only a caller's bug can get here: the summaries alone are too long
        raise ValueError(f"a report of {len(text)} characters does not fit in {limit}")
    return text.rstrip("\n") + "\n"


def _size(sections: Sequence[Section]) -> int:
    return sum(section.size + 1 for section in sections)


def code_block(lines: Iterable[str], language: str = "") -> list[str]:
    """A fenced block of untrusted lines: the fence is longer than any backtick run inside."""
    body = [part for line in lines for part in safe_text(line).split("\n")]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *body, fence]
