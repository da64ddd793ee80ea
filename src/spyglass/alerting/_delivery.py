"""What the HTTP senders (Slack, PagerDuty) share: templates, answers, truncation, secrets.

Alertmanager's notifiers lean on a few helpers of its ``notify`` package; these are Spyglass's
equivalents. ``Renderer`` renders a sender's fields and turns a template failure into a
``NotifyError`` that is not retried (the same text fails the same way again). ``check_status``
classifies an HTTP answer as Alertmanager's ``Retrier`` does: 2xx succeeds, 5xx and an
integration's own extra codes are retried, the rest fail for good. ``post_json`` sends one
request and never lets a transport error, or the URL it went to, escape: Slack's webhook URLs
and PagerDuty's keys are secrets, so no message built here names a URL, and ``redact_in_logs``
keeps a secret URL out of the lines the HTTP libraries log.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from spyglass.alerting._client import http_client
from spyglass.alerting._http import HTTPConfig
from spyglass.alerting._notify import NotifyError
from spyglass.core.errors import TemplateError
from spyglass.core.template import Data, TemplateSet

# Alertmanager's notify.truncationMarker: one rune, three bytes in UTF-8.
TRUNCATION_MARKER = "…"
# What an error message quotes of a response body, at most: enough to read Slack's or
# PagerDuty's reason, never a whole HTML error page.
_BODY_QUOTE = 512


class Renderer:
    """Renders one notification's templated fields; the first failure stops the delivery."""

    def __init__(self, templates: TemplateSet, data: Data, integration: str) -> None:
        self._templates = templates
        self._data = data
        self._integration = integration

    def __call__(self, text: str) -> str:
        """``text`` rendered with the notification's data (``""`` stays ``""``)."""
        return self._render(text, html=False)

    def html(self, text: str) -> str:
        """``text`` rendered as HTML: every value escaped for where it lands."""
        return self._render(text, html=True)

    def _render(self, text: str, *, html: bool) -> str:
        try:
            return self._templates.render(text, self._data, html=html)
        except TemplateError as exc:
            raise NotifyError(
                f"{self._integration}: template: {exc}", retry=False, reason="other"
            ) from None


def truncate_runes(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters with a trailing ``…``, as Alertmanager cuts titles.

    Returns the text and whether it was cut.
    """
    if len(text) <= limit:
        return text, False
    if limit <= 3:
        return text[:limit], True
    return text[: limit - 1] + TRUNCATION_MARKER, True


def failure_reason(status: int) -> str:
    """Alertmanager's ``reason`` label for a failed HTTP status."""
    if status in (401, 403):
        return "authError"
    if status == 429:
        return "rateLimited"
    if 400 <= status < 500:
        return "clientError"
    if 500 <= status < 600:
        return "serverError"
    return "other"


def check_status(
    integration: str,
    response: httpx.Response,
    *,
    retry_codes: Collection[int] = (),
    details: Callable[[int, bytes], str] | None = None,
) -> None:
    """Raise ``NotifyError`` for a non-2xx answer: retried on 5xx and ``retry_codes``.

    The message quotes ``details(status, body)`` when given (an integration's own reading of
    its error body), else the start of the body.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    what = details(status, response.content) if details else body_text(response.content)
    message = f"{integration}: unexpected status code {status}"
    if what:
        message += f": {what}"
    raise NotifyError(
        message,
        retry=500 <= status < 600 or status in retry_codes,
        reason=failure_reason(status),
    )


def body_text(body: bytes) -> str:
    """The start of a response body, decoded leniently, for an error message."""
    text = body[:_BODY_QUOTE].decode("utf-8", errors="replace")
    return text + ("…" if len(body) > _BODY_QUOTE else "")


def open_client(
    config: HTTPConfig | None,
    *,
    timeout_s: float,
    transport: httpx.AsyncBaseTransport | None,
    integration: str,
) -> httpx.AsyncClient:
    """``http_client`` for one delivery; a TLS file that cannot be read fails without retry."""
    try:
        return http_client(config, timeout_s=timeout_s, transport=transport)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise NotifyError(f"{integration}: tls_config: {reason}", retry=False) from None


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: Any,
    *,
    headers: Mapping[str, str],
    integration: str,
) -> httpx.Response:
    """POST ``payload`` as JSON; a transport failure is a retryable ``NotifyError``.

    The message names the kind of failure (``ConnectError``, ``ReadTimeout``) and never the URL.
    """
    try:
        body = go_json(payload).encode() + b"\n"
    except ValueError as exc:
        raise NotifyError(f"{integration}: encode message: {exc}", retry=False) from None
    request_headers = {**headers, "Content-Type": "application/json"}
    try:
        return await client.post(url, content=body, headers=request_headers)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise NotifyError(f"{integration}: invalid URL", retry=False) from None
    except httpx.TimeoutException as exc:
        raise NotifyError(
            f"{integration}: request timed out ({type(exc).__name__})",
            retry=True,
            reason="contextDeadlineExceeded",
        ) from None
    except httpx.HTTPError as exc:
        raise NotifyError(
            f"{integration}: request failed ({type(exc).__name__})", retry=True
        ) from None
    except (ValueError, OSError) as exc:
        # httpx lets a few malformed URLs through as ValueError, and proxies as OSError.
        raise NotifyError(
            f"{integration}: request failed ({type(exc).__name__})", retry=True
        ) from None


# Go's encoding/json escapes these even inside strings (HTML safety); outside strings JSON has none
# of them, so replacing them in the whole text is exact.
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_json(payload: Any) -> str:
    """``payload`` as Go's ``json.Marshal`` writes it: compact, UTF-8, ``<>&`` escaped.

    Dict order is kept (Alertmanager's structs have a field order; its maps are given sorted).
    Raises ``ValueError`` for what Go cannot encode either (NaN, infinities).
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_GO_ESCAPES)


REDACTED = "<redacted>"
# The libraries that log request URLs: httpx (INFO, every request), urllib3 (DEBUG, under
# Apprise) and Apprise itself. A filter on a logger sees the records logged on it.
_URL_LOGGERS = ("httpx", "urllib3.connectionpool", "apprise")


class _SecretFilter(logging.Filter):
    """Replaces known secrets in the records of the libraries that log URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        # Longest first, so a secret containing a shorter one is replaced whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


_secret_filter = _SecretFilter()


def redact_in_logs(url: str) -> None:
    """Keep ``url``'s credentials (see ``url_secrets``) out of every line httpx, urllib3 and
    Apprise log from now on."""
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _secret_filter not in logger.filters:
            logger.addFilter(_secret_filter)
    _secret_filter.secrets |= url_secrets(url)


def url_secrets(url: str) -> set[str]:
    """The parts of a URL that may be credentials, as written and URL-decoded.

    Services put tokens anywhere: user and password, the host position (Apprise's
    ``tgram://TOKEN/``), path segments (Slack's webhooks) and query values. Everything but the
    scheme, the dotted host name and a port counts; redacting a path word too costs nothing.
    """
    scheme, _, rest = url.partition("://")
    found = {url}
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    for piece in re.split(r"[/:@?&=#,;+\s]+", rest):
        if not piece or piece == scheme or (piece.isdigit() and len(piece) <= 5):
            continue
        if "." in piece and piece.lower() == host:
            continue
        for variant in (piece, unquote(piece)):
            if len(variant) >= 3:
                found.add(variant)
    return found


def read_secret(path: str, what: str, integration: str) -> str:
    """A secret read from ``path`` now (rotations apply without a reload), whitespace trimmed.

    An unreadable file fails without retry and names the file, never its content.
    """
    try:
        return Path(path).read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise NotifyError(
            f"{integration}: unable to read {what} {path}: {reason}", retry=False
        ) from None


__all__ = [
    "REDACTED",
    "TRUNCATION_MARKER",
    "Renderer",
    "body_text",
    "check_status",
    "failure_reason",
    "go_json",
    "open_client",
    "post_json",
    "read_secret",
    "redact_in_logs",
    "truncate_runes",
    "url_secrets",
]
