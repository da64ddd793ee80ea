"""Spyglass: the whole observability stack in one Python process.

Layers (DESIGN.md), top to bottom: ``cli`` → ``server`` → domains (``promql``) → ``ingest`` →
``storage`` → ``core``. ``sdk`` stands apart and imports nothing from the rest.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spyglass")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
