"""Opening files that someone else may have put in place: no links, regular files, bounded reads.

A state file, its journal and a manifest's data files are read and written by a tool
that often runs in CI on a checkout anyone can push to. A symbolic link at one of these
paths must not make kayse-pipeline truncate or append to the file it points at, and a
device or a FIFO (``/dev/zero``, ``/dev/full``, a named pipe) must not make it read
forever or hang. Every open here refuses a final symbolic link (``O_NOFOLLOW`` where the
platform has it, ``lstat`` first where it does not) and anything but a regular file,
opened with ``O_NONBLOCK`` so that a FIFO cannot block the open itself.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
_EXTRA: int = _NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# What open() reports for a final symbolic link under O_NOFOLLOW (Linux, macOS; FreeBSD).
_LINK_ERRNOS = frozenset({errno.ELOOP, getattr(errno, "EMLINK", errno.ELOOP)})


class RefusedFile(Exception):
    """A path that is not a regular file (or is too large) for kayse-pipeline to read or write."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def describe_mode(mode: int) -> str:
    """What a file of this mode is, for a message: "a directory", "a FIFO (named pipe)", ..."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def human_size(size: int) -> str:
    """1073741824 -> "1 GiB"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def check_path(path: Path) -> bool:
    """True if a regular file is at ``path``, False if nothing is; else RefusedFile."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    if not stat.S_ISREG(mode):
        raise RefusedFile(f"is {describe_mode(mode)}, not a regular file")
    return True


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """A descriptor on the regular file at ``path``, never through a final symbolic link.

    Raises RefusedFile for a link, a directory, a device, a FIFO or a socket, and OSError
    (FileNotFoundError included) for what the system refuses.
    """
    if not _NOFOLLOW:
        check_path(path)  # no O_NOFOLLOW here: look first (a race remains, as on such systems)
    try:
        fd = os.open(path, flags | _NOFOLLOW | _EXTRA, mode)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS and _NOFOLLOW:
            raise RefusedFile(f"is {describe_mode(stat.S_IFLNK)}, not a regular file") from exc
        if exc.errno in (errno.ENXIO, errno.EISDIR):  # a FIFO without a reader, a directory
            check_path(path)
        raise
    try:
        st_mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(st_mode):
            raise RefusedFile(f"is {describe_mode(st_mode)}, not a regular file")
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: Path, limit: int) -> bytes | None:
    """The bytes of the regular file at ``path`` (None if there is none), at most ``limit``."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RefusedFile(f"is larger than {human_size(limit)}")
    return data


def create_new(path: Path) -> int:
    """A new regular file at ``path`` for writing; what was there (a link too) is removed first."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise RefusedFile("is a directory, not a regular file") from None
    except PermissionError:
        if os.path.isdir(path) and not os.path.islink(path):  # some systems say EPERM
            raise RefusedFile("is a directory, not a regular file") from None
        raise
    return open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
