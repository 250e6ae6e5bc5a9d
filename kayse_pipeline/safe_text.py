"""Text from a server or a file, made safe to show: one rule for every output.

What a server answers or a file holds can carry ANSI escapes (which recolour, move the
cursor or retitle a terminal), a NUL or a carriage return (which hide what precedes
them), bidirectional overrides and invisible format characters, lone surrogates (which
cannot be encoded), or a line that GitHub Actions would run as a workflow command
(``::error::``, ``::add-mask::``, ``::stop-commands::``, the older ``##[...]``).
``safe_text`` removes or defuses all of them, for a terminal, a CI log, a JSON or XML
report; ``safe_line`` makes of the same text one bounded line, for a message, a table
cell or a check's finding.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and any other ESC sequence.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?")
# C0 controls but tab and newline, DEL, C1 controls; Unicode's format characters (soft
# hyphen, bidirectional controls, zero-width spaces, word joiners, the byte-order mark,
# interlinear annotations, tags), but for the two joiners (U+200C, U+200D) that emoji and
# several scripts need; line and paragraph separators; the characters XML 1.0 cannot carry.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\ufffe\uffff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
# A workflow command is a line starting (after blanks) with "::" or "##[".
_WORKFLOW_COMMAND = re.compile(r"^([ \t]*)(::|##\[)", re.MULTILINE)


def safe_text(text: str) -> str:
    """``text`` without escapes and control characters, workflow commands defused.

    Tabs and line breaks stay; every line that would start a workflow command gets a
    space between its two first characters (``: :error::``), which GitHub does not run.
    """
    return _shown(text, one_line=False)


def safe_line(value: object, limit: int | None = None) -> str:
    """``value`` as ``safe_text`` shows it, on one line of at most ``limit`` characters.

    A line break, a tab or a control character is a word break here: each becomes a
    space, and every run of blanks one space. A longer text is cut, the cut marked ``…``.
    """
    text = str(value)
    if limit is not None:
        text = text[: limit * 4]  # bounds the work: what lies beyond is never shown
    shown = _shown(text, one_line=True)
    if limit is not None and len(shown) > limit:
        return shown[: limit - 1] + "\u2026"
    return shown


def _shown(text: str, *, one_line: bool) -> str:
    text = _ESCAPES.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    # On one line, a control is a word break (it may have stood for one); elsewhere, nothing.
    text = " ".join(_CONTROLS.sub(" ", text).split()) if one_line else _CONTROLS.sub("", text)
    return _WORKFLOW_COMMAND.sub(lambda m: f"{m[1]}{m[2][0]} {m[2][1:]}", text)
