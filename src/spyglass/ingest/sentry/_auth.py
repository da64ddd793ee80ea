"""Who is sending: the public key of a Sentry DSN, from wherever an SDK puts it.

A DSN ``https://<public key>@<host>/<project id>`` reaches the server as an ``X-Sentry-Auth``
header (``Sentry sentry_key=<key>, sentry_version=7, sentry_client=sentry.python/2.0``), the same
text in ``Authorization`` (some SDKs), ``sentry_key`` in the query string (browser SDKs), or the
envelope header's ``dsn``. The project id is in the URL path.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from spyglass.core.errors import BadInput


def auth_fields(header: str) -> dict[str, str]:
    """The ``key=value`` pairs of a ``Sentry ...`` auth header (empty for any other scheme)."""
    text = header.strip()
    if not text.lower().startswith("sentry "):
        return {}
    fields: dict[str, str] = {}
    for part in text[len("sentry ") :].split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def dsn_key(dsn: str) -> str:
    """The public key of a DSN (``""`` when it has none)."""
    try:
        return urlsplit(dsn).username or ""
    except ValueError:
        return ""


def public_key(headers: Mapping[str, str], query: Mapping[str, str], envelope_dsn: str = "") -> str:
    """The sender's public key; ``BadInput`` (Sentry: 401) when the request carries none."""
    for name in ("x-sentry-auth", "authorization"):
        key = auth_fields(headers.get(name, "")).get("sentry_key", "")
        if key:
            return key
    key = query.get("sentry_key", "") or dsn_key(envelope_dsn)
    if key:
        return key
    raise BadInput("missing authorization information")


def project_id(text: str) -> int:
    """The project id of the URL path (``/api/<id>/envelope/``); Sentry's ids are positive."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) <= 0:
        raise BadInput(f"invalid project id {text!r}")
    return int(text)


__all__ = ["auth_fields", "dsn_key", "project_id", "public_key"]
