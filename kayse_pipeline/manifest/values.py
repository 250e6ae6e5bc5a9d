"""Phones and emails: checked, and normalised before anything compares or sends them.

- A phone (``phonenumbers``) with letters in it (a vanity number such as ``555-CALL-NOW``)
  or that is not a possible number (``12345``) is refused; a possible number that
  phonenumbers does not hold valid (a fictional 555 number, an unassigned area code) is
  accepted with a warning. Accepted numbers become E.164 (``+15125550101``); a number
  written without ``+`` takes the account's region. An extension cannot be dialled by a
  campaign: it is dropped, with a warning.
- An email (``email-validator``, syntax only, offline) loses its surrounding whitespace and
  has its domain lowercased; an address that is not valid is refused.

No message quotes the value: it is a lead's personal data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kayse_pipeline.manifest.schema import manifest_schema
from kayse_pipeline.model import Kind

ValueFormat = Literal["phone", "email"]
FORMATS: tuple[ValueFormat, ...] = ("phone", "email")

# Warning codes: warnings of one code are listed for the first few, then counted.
NOT_VALID = "phone-not-valid"
EXTENSION = "phone-extension"

_EXTENSION = re.compile(
    r"(?:;\s*ext=|\s*,|\s*#|\s*(?:e?xt(?:ension|n)?|x)\.?)\s*[0-9]{1,7}\s*#?\s*\Z", re.IGNORECASE
)

_SENTENCE = re.compile(r"\.\s+(\w)")


@dataclass(frozen=True, slots=True)
class Checked:
    """A value after its check: normalised, or refused with a reason, perhaps with a warning."""

    value: str  # the normalised value; the input as written when refused
    error: str | None = None
    warning: str | None = None
    code: str | None = None  # the warning's code


@functools.cache
def value_formats(kind: Kind) -> Mapping[str, ValueFormat]:
    """The fields of a kind that hold a phone or an email: the schema's ``$ref`` says which."""
    properties = manifest_schema()["$defs"].get(kind, {}).get("properties", {})
    found: dict[str, ValueFormat] = {}
    for name, prop in properties.items():
        for fmt in FORMATS:
            if prop.get("$ref") == f"#/$defs/{fmt}":
                found[name] = fmt
    return found


def check_value(fmt: ValueFormat, text: str, region: str) -> Checked:
    """Check and normalise one phone or email written as ``text``."""
    return check_phone(text, region) if fmt == "phone" else check_email(text)


def normalised(fmt: ValueFormat, value: Any, region: str) -> Any:
    """``value`` normalised when it is text that passes its check; else as it is."""
    if not isinstance(value, str):
        return value
    checked = check_value(fmt, value, region)
    return value if checked.error else checked.value


def check_phone(text: str, region: str) -> Checked:
    """A phone number, E.164 when accepted."""
    phonenumbers = _phonenumbers()
    number_part = _EXTENSION.sub("", text)
    if any(char.isalpha() for char in number_part):
        return Checked(
            text, "not a phone number: it has letters (write a vanity number with its digits)"
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return Checked(text, _parse_problem(exc.error_type))
    valid = _is_valid(number, region)
    if not valid:  # a valid number is a possible one
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
            return Checked(text, _possible_problem(reason))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not valid:
        return Checked(
            e164,
            warning="possible, but not a valid number (a fictional 555 number, or an "
            "unassigned area code): sent in E.164 as it is",
            code=NOT_VALID,
        )
    if number.extension:
        return Checked(
            e164,
            warning="has an extension, which a campaign cannot dial: sent without it",
            code=EXTENSION,
        )
    return Checked(e164)


def _is_valid(number: Any, region: str) -> bool:
    """``phonenumbers.is_valid_number``, asking the account's region first.

    A number valid for its region is valid; only the others need the search through every
    region of their country code (25 share +1), which costs most of the check.
    """
    phonenumbers = _phonenumbers()
    own = number.country_code == phonenumbers.country_code_for_region(region)
    if own and phonenumbers.is_valid_number_for_region(number, region):
        return True
    return bool(phonenumbers.is_valid_number(number))


def check_email(text: str) -> Checked:
    """An email address, trimmed and with its domain lowercased when accepted."""
    address = text.strip()
    local, at, domain = address.rpartition("@")
    if at and len(address) <= _MAX_ADDRESS and address.isascii() and _DOT_ATOM.match(local):
        # An ASCII dot-atom before the @ is what email-validator accepts as it is; the
        # domain, which most leads share, is checked by it once.
        checked = _email_domain(domain)
        if checked is not None and len(local) <= _MAX_LOCAL:
            return Checked(f"{local}@{checked}")
    validate, invalid = _email_validator()
    try:
        result = validate(address, check_deliverability=False)
    except invalid as exc:
        return Checked(text, f"not a valid email address: {_email_reason(str(exc))}")
    value: str = result.normalized
    return Checked(value)


# RFC 5322 atext, as email-validator reads an unquoted ASCII local part; its length bounds.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_MAX_LOCAL, _MAX_ADDRESS = 64, 254


# A hostname of ASCII letters, digits and inner hyphens, two labels or more, ending with a
# letter, with no "--" (Punycode and its look-alikes): email-validator takes it as it is,
# lowercased, unless it is a special-use name (its SPECIAL_USE_DOMAIN_NAMES, which the
# tests keep within this set). Such a domain needs no import of email-validator, whose
# expressions cost about 25 ms to compile at each start: `validate` in a pre-commit hook.
_PLAIN_DOMAIN = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z0-9][a-z0-9-]{0,61})?[a-z]\Z"
)
SPECIAL_USE_DOMAINS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_MAX_DOMAIN = 253


@functools.lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str | None:
    """A domain as email-validator normalises it, or None when it refuses it."""
    lowered = domain.lower()  # only used once isascii() holds: "\u212a".lower() is "k"
    if (
        domain.isascii()
        and len(lowered) <= _MAX_DOMAIN
        and "--" not in lowered
        and _PLAIN_DOMAIN.match(lowered)
        and not any(lowered == d or lowered.endswith(f".{d}") for d in SPECIAL_USE_DOMAINS)
    ):
        return lowered
    validate, invalid = _email_validator()
    try:
        result = validate(f"postmaster@{domain}", check_deliverability=False)
    except invalid:
        return None  # the whole address is checked again, for the message
    normalized: str = result.domain
    return normalized


def _parse_problem(error_type: int) -> str:
    phonenumbers = _phonenumbers()
    kinds = phonenumbers.NumberParseException
    if error_type == kinds.INVALID_COUNTRY_CODE:
        return "not a phone number: its country code is unknown"
    if error_type in (kinds.TOO_SHORT_NSN, kinds.TOO_SHORT_AFTER_IDD):
        return "not a possible phone number: too short"
    if error_type == kinds.TOO_LONG:
        return "not a possible phone number: too long"
    return "not a phone number"


def _possible_problem(reason: int) -> str:
    results = _phonenumbers().ValidationResult
    if reason == results.IS_POSSIBLE_LOCAL_ONLY:
        return "not a possible phone number: a local number without its area code"
    if reason == results.INVALID_COUNTRY_CODE:
        return "not a phone number: its country code is unknown"
    if reason == results.TOO_SHORT:
        return "not a possible phone number: too short"
    if reason == results.TOO_LONG:
        return "not a possible phone number: too long"
    return "not a possible phone number: no number of its region has that many digits"


def _email_reason(message: str) -> str:
    """email-validator's reason without the characters it quotes from the address."""
    cut = min((i for i in (message.find(":"), message.find("(")) if i > 0), default=len(message))
    reason = _SENTENCE.sub(lambda match: "; " + match[1].lower(), message[:cut].strip().rstrip("."))
    return reason[:1].lower() + reason[1:]


# The libraries load on the first check: commands that check nothing do not pay for them.
@functools.cache
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


@functools.cache
def _email_validator() -> tuple[Callable[..., Any], type[Exception]]:
    from email_validator import EmailNotValidError, validate_email

    return validate_email, EmailNotValidError


def is_region(code: str) -> bool:
    """Whether phonenumbers knows ``code`` as a region with phone numbers."""
    return code in _phonenumbers().SUPPORTED_REGIONS
