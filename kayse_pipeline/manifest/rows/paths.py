"""The data files of a row source: one file, or every file a glob matches, in name order."""

from __future__ import annotations

import glob
import os
from pathlib import Path, PurePath

from kayse_pipeline.manifest.diagnostics import DiagnosticLog, show
from kayse_pipeline.manifest.yaml_io import NodePath

GLOB_CHARACTERS = frozenset("*?[")


def is_glob(file: str) -> bool:
    """Whether a row source's ``file`` is a pattern (``intake/*.csv``) rather than one file."""
    return not GLOB_CHARACTERS.isdisjoint(file)


def data_files(
    folder: Path, display: PurePath, file: str, at: NodePath, reporter: DiagnosticLog
) -> list[tuple[Path, str]]:
    """Each data file of a source and how messages name it, in name order.

    ``file`` is relative to the manifest's ``folder`` (shown as ``display``). A glob that
    matches nothing is reported at ``at``, and gives no file.
    """
    if not is_glob(file):
        return [(folder / file, str(display / file))]
    pattern = os.path.join(glob.escape(str(folder)), file)
    matches = sorted(glob.glob(pattern))
    if not matches:
        reporter.report(at, f"no file matches {show(file)}")
    found: list[tuple[Path, str]] = []
    for match in matches:
        path = Path(match)
        try:
            shown = str(display / path.relative_to(folder))
        except ValueError:  # an absolute pattern, or one that leaves the folder
            shown = str(path)
        found.append((path, shown))
    return found
