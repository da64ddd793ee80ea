"""``apprise_configs`` (Spyglass's extension): any channel the Apprise library knows.

Alertmanager has notifiers for a dozen services; Apprise reaches a hundred more (Telegram, ntfy,
Matrix, Gotify, Signal, plain JSON or form posts...) from one URL each. An entry's ``title`` and
``body`` are rendered like every notifier's fields and sent to each of its ``urls``; the
delivery fails (and is retried) when any URL fails, naming which by position and scheme.

Apprise URLs carry their credentials (``tgram://<bot token>/<chat>``), so they are treated as
secrets: messages here never quote one, and the log filter of ``_delivery`` replaces every part
of a configured URL that could be a credential in Apprise's and urllib3's log lines. Apprise is
imported when the first Apprise sender is built, so a config without ``apprise_configs`` never
pays for it.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass
from typing import Any

from spyglass.alerting._delivery import Renderer, redact_in_logs
from spyglass.alerting._notify import SENDER_BUILDERS, Notification, NotifyError, SenderEnv
from spyglass.alerting._receivers import AppriseConfig

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0


def _describe(url: str) -> str:
    """A URL as messages may show it: its scheme only."""
    return url.partition("://")[0] + "://…"


def _apprise() -> Any:
    # Apprise's plugins import the stdlib's imghdr (for PGPy) on Pythons that still have it,
    # which warns that imghdr is deprecated: nothing a Spyglass user can act on. Reading one URL
    # loads every plugin, here, once.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise  # noqa: PLC0415 - deferred: a tenth of a second and a hundred plugins

        apprise.Apprise.instantiate("json://localhost/")

    return apprise


@dataclass(frozen=True)
class AppriseSender:
    """Sends a notification's title and body to every Apprise URL of the entry."""

    config: AppriseConfig
    env: SenderEnv
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def kind(self) -> str:
        """``apprise``."""
        return "apprise"

    @property
    def send_resolved(self) -> bool:
        """The config's ``send_resolved``."""
        return self.config.send_resolved

    def render(self, notification: Notification) -> tuple[str, str]:
        """The rendered ``(title, body)``."""
        render = Renderer(self.env.templates, notification.template_data(), "apprise")
        return render(self.config.title), render(self.config.body)

    async def send(self, notification: Notification) -> None:
        """Notify every URL; ``NotifyError`` (retried) names the URLs that failed."""
        title, body = self.render(notification)
        if not body.strip():
            raise NotifyError("apprise: the rendered body is empty", retry=False)
        apprise = _apprise()
        urls = self.config.urls

        async def one(url: str) -> bool:
            target = apprise.Apprise()
            if not target.add(url):
                return False
            try:
                return bool(await target.async_notify(body=body, title=title))
            except Exception:  # noqa: BLE001 - a plugin's own failure is a failed delivery
                return False

        try:
            async with asyncio.timeout(self.timeout_s):
                results = await asyncio.gather(*(one(u) for u in urls))
        except TimeoutError:
            raise NotifyError(
                f"apprise: delivery timed out after {self.timeout_s:g}s",
                retry=True,
                reason="contextDeadlineExceeded",
            ) from None
        failed = [
            f"#{i + 1} ({_describe(url)})"
            for i, (url, ok) in enumerate(zip(urls, results, strict=True))
            if not ok
        ]
        if failed:
            raise NotifyError(
                f"apprise: delivery failed to {len(failed)} of {len(urls)} URLs: "
                + ", ".join(failed),
                retry=True,
            )


def build_apprise(config: AppriseConfig, env: SenderEnv) -> AppriseSender:
    """The sender of one ``apprise_configs`` entry; a URL Apprise cannot read fails here."""
    apprise = _apprise()
    for i, url in enumerate(config.urls):
        redact_in_logs(url)
        if apprise.Apprise.instantiate(url) is None:
            raise NotifyError(
                f"apprise: URL #{i + 1} ({_describe(url)}) is not one Apprise can send to",
                retry=False,
            )
    return AppriseSender(config, env)


SENDER_BUILDERS["apprise_configs"] = build_apprise

__all__ = ["AppriseSender", "build_apprise"]
