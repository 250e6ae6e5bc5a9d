"""Phones and emails as leads really write them: each with its E.164 / normalised value,
or its exact error or warning place (FILE:LINE:COL), in data rows and inline records."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap
from pathlib import Path
from random import Random

import email_validator
import pytest
from click.testing import CliRunner
from email_validator import EmailNotValidError, validate_email

from kayse_pipeline.cli.main import cli
from kayse_pipeline.manifest.load import load_manifest
from kayse_pipeline.manifest.values import SPECIAL_USE_DOMAINS, check_email

LETTERS = "not a phone number: it has letters (write a vanity number with its digits)"
NOT_VALID = (
    "possible, but not a valid number (a fictional 555 number, or an unassigned area code): "
    "sent in E.164 as it is"
)
EXTENSION = "has an extension, which a campaign cannot dial: sent without it"

# (as written, region, E.164 sent, warning or None)
ACCEPTED_PHONES: list[tuple[str, str, str, str | None]] = [
    ("(512) 555-0101", "US", "+15125550101", None),
    ("512.555.0102", "US", "+15125550102", None),
    ("512-555-0103", "US", "+15125550103", None),
    ("512 555 0104", "US", "+15125550104", None),
    ("+1 (512) 555-0105", "US", "+15125550105", None),
    ("1-512-555-0106", "US", "+15125550106", None),
    ("+1.512.555.0107", "US", "+15125550107", None),
    ("  (512)555-0108  ", "US", "+15125550108", None),
    ("15125550109", "US", "+15125550109", None),
    ("+15125550110", "US", "+15125550110", None),
    ("512-555-0111 x204", "US", "+15125550111", EXTENSION),
    ("(512) 555-0112 ext. 7", "US", "+15125550112", EXTENSION),
    ("512.555.0113 extension 12", "US", "+15125550113", EXTENSION),
    ("+44 20 7946 0958", "US", "+442079460958", None),
    ("011 44 20 7946 0018", "US", "+442079460018", None),
    ("+33 1 42 68 53 00", "US", "+33142685300", None),
    ("+49 (0)30 901820", "US", "+4930901820", None),
    ("+52 55 1234 5678", "US", "+525512345678", None),
    ("+61 2 9374 4000", "US", "+61293744000", None),
    ("+91 98765 43210", "US", "+919876543210", None),
    ("+15551234567", "US", "+15551234567", NOT_VALID),  # the seed guide's own, fictional
    ("555.010.0099", "US", "+15550100099", NOT_VALID),
    ("(123) 456-7890", "US", "+11234567890", NOT_VALID),  # no area code starts with 1
    ("020 7946 0958", "GB", "+442079460958", None),
    ("07700 900123", "GB", "+447700900123", NOT_VALID),  # Ofcom's range for drama
    ("030 901820", "DE", "+4930901820", None),
    ("+1 512 555 0114", "GB", "+15125550114", None),
]

# (as written, region, error)
REFUSED_PHONES: list[tuple[str, str, str]] = [
    ("555-CALL-NOW", "US", LETTERS),
    ("1-800-FLOWERS", "US", LETTERS),
    ("N/A", "US", LETTERS),
    ("call me after 5", "US", LETTERS),
    ("12345", "US", "not a possible phone number: too short"),
    ("555-0101", "US", "not a possible phone number: a local number without its area code"),
    ("+999 1234567", "US", "not a phone number: its country code is unknown"),
    ("+1 512 555 0101 5555 5555", "US", "not a possible phone number: too long"),
    ("0049 30 901820", "US", "not a possible phone number: too long"),  # 00 is no US prefix
    ("--", "US", "not a phone number"),
]

# (as written, sent)
ACCEPTED_EMAILS: list[tuple[str, str]] = [
    ("maria.garcia@example.com", "maria.garcia@example.com"),
    ("JOSE@Example.COM ", "JOSE@example.com"),
    ("  ana@EXAMPLE.org\t", "ana@example.org"),
    ("m.garcia+intake@Gmail.com", "m.garcia+intake@gmail.com"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("José@Exámple.com", "José@exámple.com"),
]

REFUSED_EMAILS: list[tuple[str, str]] = [
    ("ana.silva@@example", "the part after the @-sign contains invalid characters"),
    ("ann at example dot com", "an email address must have an @-sign"),
    ("john..doe@example.com", "an email address cannot have two periods in a row"),
    ("@example.com", "there must be something before the @-sign"),
    ("m@localhost", "the part after the @-sign is not valid; it should have a period"),
    (
        "Maria <m@example.com>",
        "a display name and angle brackets around the email address are not permitted here",
    ),
]

MANIFEST = """\
version: 1
account: {{phone_region: {region}}}
defaults:
  contacts: {{external_source: import}}
rows:
  leads:
    file: leads.csv
    contact:
      symbol: "lead_{{id}}"
      first_name: "{{first}}"
      last_name: Lead
      external_source_id: "crm-{{id}}"
      mobile: "{{phone}}"
      email: "{{email}}"
"""


def write(tmp_path: Path, region: str, rows: list[tuple[str, str]]) -> Path:
    """A manifest and its leads.csv of (phone, email) rows, lead n on line n + 1."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "first", "phone", "email"])
    for n, (phone, email) in enumerate(rows, start=1):
        writer.writerow([n, "Ana", phone, email])
    (tmp_path / "leads.csv").write_text(out.getvalue(), encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST.format(region=region), encoding="utf-8")
    return path


def validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "m.yaml"])
    return result.exit_code, result.stderr.splitlines()


@pytest.mark.parametrize("region", sorted({r for _, r, _, _ in ACCEPTED_PHONES}))
def test_accepted_phones_are_sent_in_e164(tmp_path: Path, region: str) -> None:
    table = [(written, e164) for written, r, e164, _ in ACCEPTED_PHONES if r == region]
    manifest = load_manifest(write(tmp_path, region, [(w, "") for w, _ in table]), env={})
    for n, (written, e164) in enumerate(table, start=1):
        assert manifest.records[f"lead_{n}"].fields["mobile"] == e164, written
    assert manifest.notes.normalised == sum(1 for w, e in table if w != e)


def test_possible_but_not_valid_numbers_and_extensions_are_warnings_at_their_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = [(w, warning) for w, r, _, warning in ACCEPTED_PHONES if r == "US"]
    write(tmp_path, "US", [(w, "") for w, _ in table])
    code, stderr = validate(tmp_path, monkeypatch)
    assert code == 0
    assert stderr == [
        f"leads.csv:{n + 1}:3: warning: contacts.lead_{n}.mobile: {warning}"
        for n, (_, warning) in enumerate(table, start=1)
        if warning is not None
    ]


@pytest.mark.parametrize("region", sorted({r for _, r, _ in REFUSED_PHONES}))
def test_refused_phones_are_errors_at_their_cell_without_the_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, region: str
) -> None:
    table = [(written, error) for written, r, error in REFUSED_PHONES if r == region]
    write(tmp_path, region, [(w, "") for w, _ in table])
    code, stderr = validate(tmp_path, monkeypatch)
    assert code == 1
    assert stderr == [
        f"leads.csv:{n + 1}:3: contacts.lead_{n}.mobile: {error}"
        for n, (_, error) in enumerate(table, start=1)
    ]
    for written, _ in table:
        digits = "".join(c for c in written if c.isdigit())
        assert len(digits) < 4 or digits not in "\n".join(stderr)


def test_emails_are_trimmed_and_their_domain_lowercased(tmp_path: Path) -> None:
    path = write(tmp_path, "US", [("", written) for written, _ in ACCEPTED_EMAILS])
    manifest = load_manifest(path, env={})
    for n, (written, sent) in enumerate(ACCEPTED_EMAILS, start=1):
        assert manifest.records[f"lead_{n}"].fields["email"] == sent, written


def test_invalid_emails_are_errors_at_their_cell_without_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "US", [("", written) for written, _ in REFUSED_EMAILS])
    code, stderr = validate(tmp_path, monkeypatch)
    assert code == 1
    assert stderr == [
        f"leads.csv:{n + 1}:4: contacts.lead_{n}.email: not a valid email address: {reason}"
        for n, (_, reason) in enumerate(REFUSED_EMAILS, start=1)
    ]
    shown = "\n".join(stderr)
    for written, _ in REFUSED_EMAILS:
        local = written.split("@")[0]
        assert written not in shown and (len(local) < 4 or local not in shown)


def test_inline_records_and_defaults_are_checked_at_their_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "m.yaml").write_text(
        textwrap.dedent("""\
            version: 1
            account: {phone_region: US}
            defaults:
              contacts: {external_source: other, email: "Intake@Example.COM"}
            contacts:
              ana:
                first_name: Ana
                last_name: Lee
                external_source_id: c1
                mobile: "555-CALL-NOW"
              ben: {first_name: Ben, last_name: Ode, external_source_id: c2, mobile: "12345"}
              cy: {first_name: Cy, last_name: Dee, external_source_id: c3, email: "cy@@x"}
        """)
    )
    code, stderr = validate(tmp_path, monkeypatch)
    assert code == 1
    assert stderr == [
        f"m.yaml:10:13: contacts.ana.mobile: {LETTERS}",
        "m.yaml:11:74: contacts.ben.mobile: not a possible phone number: too short",
        "m.yaml:12:71: contacts.cy.email: not a valid email address: "
        "the part after the @-sign contains invalid characters",
    ]


def test_defaults_are_normalised_once_and_inherited_normalised(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        textwrap.dedent("""\
            version: 1
            defaults:
              contacts: {external_source: other, mobile: "(512) 555-0100"}
            contacts:
              ana: {first_name: Ana, last_name: Lee, external_source_id: c1}
              ben: {first_name: Ben, last_name: Ode, external_source_id: c2, mobile: 512.555.0199}
        """)
    )
    manifest = load_manifest(tmp_path / "m.yaml", env={})
    assert manifest.records["ana"].fields["mobile"] == "+15125550100"
    assert manifest.records["ben"].fields["mobile"] == "+15125550199"
    assert manifest.notes.normalised == 2  # the default once, ben's own once


def test_ten_thousand_warnings_stay_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "US", [(f"+1555{n:07d}", f"lead{n}@example.com") for n in range(10_000)])
    code, stderr = validate(tmp_path, monkeypatch)
    assert code == 0
    assert stderr == [
        *(
            f"leads.csv:{n + 1}:3: warning: contacts.lead_{n}.mobile: {NOT_VALID}"
            for n in (1, 2, 3, 4, 5)
        ),
        "leads.csv:7:3: warning: … and 9,995 more phone numbers that are possible but not valid, "
        "the first of them here (not listed)",
    ]


@pytest.mark.parametrize(
    ("region", "error"),
    [
        ("ZZ", "account.phone_region: 'ZZ' is not a region with phone numbers "
               "(an ISO 3166 code such as US, CA, GB)"),
        ("us", "account.phone_region: must be an ISO 3166 region code in capitals, such as US, "
               "not 'us'"),
    ],
)  # fmt: skip
def test_phone_region_is_an_iso_code_phonenumbers_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, region: str, error: str
) -> None:
    write(tmp_path, region, [("+15125550101", "")])
    code, stderr = validate(tmp_path, monkeypatch)
    assert (code, stderr) == (1, [f"m.yaml:2:25: {error}"])


def _library(address: str) -> str | None:
    """What email-validator alone makes of an address: its normalised form, or None."""
    try:
        return str(validate_email(address.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        return None


EDGE_EMAILS = [
    *(written for written, _ in ACCEPTED_EMAILS + REFUSED_EMAILS),
    "a.@example.com", ".a@example.com", "a..b@example.com", "a@example", "a@-x.com",
    "a@x-.com", "a@xn--80ak6aa92e.com", "a@ab--cd.com", "a@x.test", "a@localhost",
    "a@123.com", "a@x.123", "a@[192.0.2.1]", "A+B@EXAMPLE.COM", "a!#$%&'*+/=?^_`{|}~-@x.org",
    "a@x..org", "a@.x.org", "a@x.org.", "a b@x.org", "a@x_y.org", "a@" + "x" * 63 + ".org",
    "a@" + "x" * 64 + ".org", "x" * 64 + "@x.org", "x" * 65 + "@x.org",
    "a@" + ".".join(["x" * 60] * 4) + ".org", "a@" + ".".join(["x" * 61] * 4) + ".org",
    "é@x.org", "a@exämple.org", "a@EXAMPLE.ORG", '"a"@x.org', "a@x.invalid", "a@x.onion",
]  # fmt: skip


@pytest.mark.parametrize("address", EDGE_EMAILS)
def test_the_fast_path_for_emails_agrees_with_email_validator(address: str) -> None:
    checked = check_email(address)
    assert (checked.value if checked.error is None else None) == _library(address)


def test_plain_domains_are_read_without_email_validator_and_as_it_reads_them() -> None:
    """Domains drawn from letters, digits, hyphens and dots, near every length bound: where
    the check answers without email-validator, the library gives the same answer."""
    random = Random(20261130)
    alphabet = "abcXYZ019-."
    accepted = 0
    for _ in range(4000):
        labels = [
            "".join(random.choice(alphabet) for _ in range(random.choice((1, 2, 5, 62, 63, 64))))
            for _ in range(random.randint(1, 4))
        ]
        domain = ".".join(labels) + random.choice(("", ".com", ".c0m", ".x1", ".test", ".Org"))
        address = f"lead@{domain}"
        checked = check_email(address)
        assert (checked.value if checked.error is None else None) == _library(address), domain
        accepted += checked.error is None
    assert accepted > 400  # both answers are met often


def test_plain_domains_do_not_load_email_validator() -> None:
    code = (
        "import sys\n"
        "from kayse_pipeline.manifest.values import check_email\n"
        "for a in ('Ann@Example.COM', 'b@mail.law-firm.co.uk', 'c@x1.io'):\n"
        "    print(check_email(a).value)\n"
        "print('email_validator' in sys.modules)\n"
        "print(check_email('d@bücher.example').value)\n"
        "print('email_validator' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == [
        "Ann@example.com", "b@mail.law-firm.co.uk", "c@x1.io", "False",
        "d@bücher.example", "True",
    ]  # fmt: skip


def test_the_special_use_names_include_every_one_email_validator_refuses() -> None:
    assert set(email_validator.SPECIAL_USE_DOMAIN_NAMES) <= SPECIAL_USE_DOMAINS
