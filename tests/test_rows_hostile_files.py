"""Data files that point somewhere else: devices, FIFOs, huge files, paths out of the folder.

Issue 11, finding 11. Each is a clear message at the manifest's FILE:LINE:COL (or at the
data file's line for a line too long), exit 1, no request; the real CLI in a child
process with a memory cap and a deadline (a FIFO used to hang it, /dev/zero to fill RAM).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.cli import Run, kayse

posix_only = pytest.mark.skipif(os.name != "posix", reason="devices, FIFOs and links")

MANIFEST = """\
version: 1
rows:
  leads:
    file: {file}{extra}
    contact:
      symbol: "lead_{{id}}"
      first_name: "{{first}}"
      last_name: "{{last}}"
      external_source: other
      external_source_id: "x-{{id}}"
"""
CSV = "id,first,last\n1,Ann,Lee\n"
OUTSIDE = "; move it into that folder, or set allow_outside_folder: true on this row source"


def validate(folder: Path) -> Run:
    return kayse(["validate", "m.yaml"], cwd=folder, key=None, timeout=60, max_memory=2 << 30)


def link(name: str, to: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).symlink_to(to)


def nothing(folder: Path) -> None:
    pass


CASES: list[tuple[str, str, bool, Callable[[Path], None], str | None]] = [
    # id, file, allow_outside_folder, what is put in place, message at m.yaml:4:11 (None: valid)
    (
        "link-to-dev-zero",
        "zero.csv",
        False,
        link("zero.csv", "/dev/zero"),
        f"cannot read 'zero.csv': it is outside the manifest's folder{OUTSIDE}",
    ),
    (
        "dev-zero-allowed-outside",
        "zero.csv",
        True,
        link("zero.csv", "/dev/zero"),
        "cannot read 'zero.csv': it is a character device, not a regular file",
    ),
    (
        "dev-urandom-allowed-outside",
        "random.jsonl",
        True,
        link("random.jsonl", "/dev/urandom"),
        "cannot read 'random.jsonl': it is a character device, not a regular file",
    ),
    (
        "fifo",
        "pipe.csv",
        False,
        lambda folder: os.mkfifo(folder / "pipe.csv"),
        "cannot read 'pipe.csv': it is a FIFO (named pipe), not a regular file",
    ),
    (
        "a-folder",
        "dir.csv",
        False,
        lambda folder: (folder / "dir.csv").mkdir(),
        "cannot read 'dir.csv': it is a directory, not a regular file",
    ),
    (
        "parent-folder",
        "../outside/secret.csv",
        False,
        nothing,
        f"cannot read '../outside/secret.csv': it is outside the manifest's folder{OUTSIDE}",
    ),
    (
        "absolute-path",
        "{root}/outside/secret.csv",
        False,
        nothing,
        "cannot read '{root}/outside/secret.csv': it is outside the manifest's folder" + OUTSIDE,
    ),
    (
        "link-out-of-the-folder",
        "leads.csv",
        False,
        link("leads.csv", "../outside/secret.csv"),
        f"cannot read 'leads.csv': it is outside the manifest's folder{OUTSIDE}",
    ),
    ("link-inside-the-folder", "leads.csv", False, link("leads.csv", "data/real.csv"), None),
    ("outside-when-allowed", "../outside/secret.csv", True, nothing, None),
    (
        "larger-than-1-gib",
        "huge.csv",
        True,
        lambda folder: os.truncate(_touch(folder / "huge.csv"), (1 << 30) + 1),
        "cannot read 'huge.csv': it is larger than 1 GiB",
    ),
]


def _touch(path: Path) -> Path:
    path.write_text("")
    return path


@posix_only
@pytest.mark.parametrize(
    ("file", "allow", "plant", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_data_file_is_a_regular_file_inside_the_manifests_folder(
    tmp_path: Path,
    file: str,
    allow: bool,
    plant: Callable[[Path], None],
    message: str | None,
) -> None:
    recipe = tmp_path / "recipe"
    (recipe / "data").mkdir(parents=True)
    (recipe / "data" / "real.csv").write_text(CSV)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(CSV)
    plant(recipe)
    file = file.format(root=tmp_path)
    extra = "\n    allow_outside_folder: true" if allow else ""
    (recipe / "m.yaml").write_text(MANIFEST.format(file=file, extra=extra))
    done = validate(recipe)
    if message is None:
        assert done.code == 0, done.stderr
    else:
        expected = f"m.yaml:4:11: rows.leads.file: {message.format(root=tmp_path)}\n"
        assert (done.code, done.stderr) == (1, expected)


LONG = "x" * (1 << 20)
LINES: list[tuple[str, str, str, str]] = [
    ("csv-long-row", "leads.csv", f"id,first,last\n1,Ann,{LONG}\n", "leads.csv:2:1"),
    ("csv-long-header", "leads.csv", f"id,first,last{LONG}\n1,Ann,Lee\n", "leads.csv:1:1"),
    (
        "csv-no-line-break",
        "leads.csv",
        "id,first,last\n" + "y" * (3 << 20),
        "leads.csv:2:1",
    ),
    (
        "jsonl-long-row",
        "leads.jsonl",
        '{"id": "1", "first": "Ann", "last": "Lee"}\n'
        f'{{"id": "2", "first": "Bo", "last": "{LONG}"}}\n',
        "leads.jsonl:2:1",
    ),
]


@pytest.mark.parametrize(
    ("file", "text", "where"), [c[1:] for c in LINES], ids=[c[0] for c in LINES]
)
def test_a_line_longer_than_1_mib_is_a_problem_at_its_line(
    tmp_path: Path, file: str, text: str, where: str
) -> None:
    (tmp_path / file).write_text(text)
    (tmp_path / "m.yaml").write_text(MANIFEST.format(file=file, extra=""))
    done = validate(tmp_path)
    assert (done.code, done.stderr) == (1, f"{where}: line longer than 1 MiB\n")
