"""kayse-pipeline: declarative recipes that put leads into Kayse."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kayse-pipeline")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
