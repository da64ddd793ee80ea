"""The installed Spyglass server's version, read from its distribution's metadata.

``spyglass`` is a namespace package shared by two distributions, the server (``spyglass``) and
the SDK (``spyglass-sdk``), so there is no ``spyglass/__init__.py`` to hold a version: the
command line, the server's build info and the scrape client's User-Agent read it here.
"""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "spyglass"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["DISTRIBUTION", "__version__"]
