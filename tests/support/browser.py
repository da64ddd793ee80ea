"""Debian's chromium, driven by Playwright, for the web UI's tests.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (Debian's package,
which scripts/test installs), headless and without the background traffic a browser makes on
its own. A missing chromium skips the tests locally and fails them in CI (``need_tool``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.required import need_tool

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless chromium (a Playwright ``Browser``), closed at the end."""
    executable = need_tool(
        "chromium",
        "install Debian's chromium package (scripts/test does it when run as root)",
        also=("/usr/bin/chromium",),
    )
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only browser tests need it

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class ConsoleLog:
    """What pages printed to their console as errors or threw (CSP violations included)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._allowed: list[str] = []

    def allow(self, text: str) -> None:
        """Do not count console errors containing ``text`` (an error the test provokes)."""
        self._allowed.append(text)

    def watch(self, page: Any) -> Any:
        """Record ``page``'s console errors and uncaught exceptions; returns the page."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(a in message.text for a in self._allowed):
            self.errors.append(f"console: {message.text} at {message.location}")


def screenshot(page: Any, folder: Path, name: str) -> Path:
    """The whole page as ``folder/name.png``, for a person to look at."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


__all__ = ["CHROMIUM_FLAGS", "ConsoleLog", "chromium", "screenshot"]
