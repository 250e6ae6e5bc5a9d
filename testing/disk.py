"""A disk that fills up under chosen files: ``os.fsync`` answers ENOSPC for them (Linux only).

Real filesystems report a full disk at ``fsync`` too (delayed allocation, NFS), and the
state store fsyncs every write, so this is where a full disk is seen. Used in-process
with ``monkeypatch``, or in a CLI child: ``python -m testing.disk PATTERN -- ARGS...``.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import sys
from collections.abc import Callable
from typing import Any

_real_fsync = os.fsync


def fsync_filling(pattern: str) -> Callable[[Any], None]:
    """An ``os.fsync`` that fails with ENOSPC for files whose name matches ``pattern``."""

    def fsync(fd: Any) -> None:
        number = fd if isinstance(fd, int) else fd.fileno()
        try:
            name = os.path.basename(os.readlink(f"/proc/self/fd/{number}"))
        except OSError:
            name = ""
        if fnmatch.fnmatch(name, pattern):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        _real_fsync(fd)

    return fsync


def main(argv: list[str]) -> None:
    """Run the CLI with a disk that is full for files named like argv[0]."""
    pattern, _, args = argv[0], argv[1], argv[2:]
    os.fsync = fsync_filling(pattern)  # type: ignore[assignment]
    from kayse_pipeline.cli.main import main as cli_main

    sys.argv = ["kayse-pipeline", *args]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
