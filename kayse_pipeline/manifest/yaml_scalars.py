"""The value of a plain YAML scalar: YAML 1.2 where YAML 1.1 surprises (yaml_io.py reads the rest).

``yes``/``no``/``on``/``off`` stay strings; ``17:00`` stays the string ``"17:00"`` (no
base-60 numbers); a date or timestamp stays its text. Other numbers read as in pyyaml
(``0x1f``, ``1_000``, ``017`` octal, ``1.5``); an integer of more than
``MAX_INTEGER_DIGITS`` digits is refused.
"""

from __future__ import annotations

import re
from typing import Any

NULLS = frozenset({"", "~", "null", "Null", "NULL"})
BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
MAYBE_NOT_STR = frozenset("~nNtTfF0123456789+-.")
# Python refuses to read decimal integers of more than 4,300 digits; no manifest needs 20.
MAX_INTEGER_DIGITS = 30
# pyyaml's YAML 1.1 number forms, without the base-60 ones (17:00 stays a string).
_INT_FORM = re.compile(r"[-+]?(?:0b[0-1_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+)\Z")
_FLOAT_FORM = re.compile(
    r"(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)


def read_plain(value: str) -> Any:
    """The value of a plain scalar: null, true/false, a number, or else its text (dates too)."""
    if value in NULLS:
        return None
    if value in BOOLS:
        return BOOLS[value]
    if _INT_FORM.match(value):
        return read_int(value)
    if _FLOAT_FORM.match(value):
        return read_float(value)
    return value


class NumberTooLong(ValueError):
    """An integer with more digits than ``MAX_INTEGER_DIGITS``."""


def read_int(text: str) -> int:
    digits = text.replace("_", "")
    if len(digits.lstrip("+-")) > MAX_INTEGER_DIGITS + 2:  # "0x" and "0b" prefixes
        raise NumberTooLong(
            f"a number of {len(digits.lstrip('+-'))} digits is too long (at most "
            f"{MAX_INTEGER_DIGITS})"
        )
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if len(digits) > 1 and digits[0] == "0":
        return sign * int(digits, 8)  # YAML 1.1 octal, as pyyaml reads it
    return sign * int(digits)


def read_float(text: str) -> float:
    digits = text.replace("_", "").lower()
    if digits.endswith(".inf"):
        return float("-inf") if digits[0] == "-" else float("inf")
    return float("nan") if digits == ".nan" else float(digits)
