"""Text quoted from a server or a file, made safe for a terminal, a CI log and an XML report.

Every renderer passes what it prints through ``safe_text``: a server's error message, a
value from a manifest or a state file can hold ANSI escapes (which recolour, move the
cursor or retitle a terminal), a NUL or a carriage return (which hide what precedes
them), bidirectional overrides, lone surrogates (which cannot be encoded), or a line
that GitHub Actions would run as a workflow command (``::error::``, ``::add-mask::``,
``::stop-commands::``, the older ``##[...]``).
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and any other ESC sequence.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?")
# C0 controls but tab and newline, DEL, C1 controls, bidirectional controls, and the
# characters XML 1.0 cannot carry.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
# A workflow command is a line starting (after blanks) with "::" or "##[".
_WORKFLOW_COMMAND = re.compile(r"^([ \t]*)(::|##\[)", re.MULTILINE)


def safe_text(text: str) -> str:
    """``text`` without escapes and control characters, workflow commands defused.

    Tabs and line breaks stay; every line that would start a workflow command gets a
    space between its two first characters (``: :error::``), which GitHub does not run.
    """
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    return _WORKFLOW_COMMAND.sub(lambda m: f"{m[1]}{m[2][0]} {m[2][1:]}", text)
