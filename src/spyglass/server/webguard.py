"""ASGI middleware applying the web config to every request: basic auth and response headers.

As Prometheus' exporter-toolkit does, everything on the HTTP listener is protected once
``basic_auth_users`` is set: the web UI, every API, ``/metrics`` and ``/-/healthy``/``/-/ready``
alike. A request without valid credentials gets ``401 Unauthorized`` with
``WWW-Authenticate: Basic``; an unknown user is checked against a fixed hash, so timing does not
tell which user names exist. The configured ``http_server_config.headers`` are set on every
response, replacing the application's own value of the same header (the user asked for it).

bcrypt is slow on purpose (0.2 to 0.5 s per check at cost 10 on a small machine). As the
toolkit does, the outcome of each (user, hash, password) is cached, so a client sending the same
credentials pays once; the cache holds SHA-256 digests, never a password, and is bounded. Checks
run one at a time in a worker thread, so they never stall the event loop and a flood of wrong
passwords uses one core at most.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections import OrderedDict
from typing import Any

import bcrypt
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spyglass.core.config import WebConfig
from spyglass.server.webconfig import WebConfigSource

# bcrypt of "fakepassword" (cost 10): what an unknown user's password is checked against.
FAKE_HASH = "$2b$10$52.wzvtUzNGQmd.nKOeY1OV.I3ARFT0279BOYZqmWD2mLnnhqGCV6"
CACHE_ENTRIES = 1_000


class CredentialCache:
    """Outcomes of bcrypt checks by digest of (user, hash, password), oldest evicted first."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self._items: OrderedDict[bytes, bool] = OrderedDict()
        self._lock = asyncio.Lock()
        self.checks = 0  # bcrypt comparisons actually run

    async def verify(self, user: str, hashed: str, password: str, known: bool) -> bool:
        """Whether ``password`` matches ``hashed`` (and the user is ``known``)."""
        key = hashlib.sha256(
            b"\0".join(part.encode("utf-8", "surrogateescape") for part in (user, hashed, password))
        ).digest()
        found = self._items.get(key)
        if found is None:
            async with self._lock:  # one bcrypt at a time, as the toolkit's mutex
                found = self._items.get(key)
                if found is None:
                    ok = await asyncio.to_thread(_bcrypt_ok, hashed, password)
                    self.checks += 1
                    found = ok and known
                    self._items[key] = found
                    if len(self._items) > self.size:
                        self._items.popitem(last=False)
        return found and known


def _bcrypt_ok(hashed: str, password: str) -> bool:
    try:
        return bool(bcrypt.checkpw(password.encode("utf-8", "surrogateescape"), hashed.encode()))
    except ValueError:  # a password over bcrypt's 72 bytes, or a hash bcrypt refuses
        return False


def basic_credentials(header: str) -> tuple[str, str] | None:
    """User and password of an ``Authorization: Basic`` header, as Go's ``Request.BasicAuth``
    reads it (scheme case-insensitive, standard base64, split at the first colon)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


class WebGuard:
    """Wraps ``app``: every HTTP request passes the web config of ``source`` first."""

    def __init__(self, app: ASGIApp, source: WebConfigSource) -> None:
        self.app = app
        self.source = source
        self.cache = CredentialCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        config = self.source.refresh()
        send = _with_headers(send, config)
        if config.basic_auth_users and not await self._authorized(scope, config):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _unauthorized(send)
            return
        await self.app(scope, receive, send)

    async def _authorized(self, scope: Scope, config: WebConfig) -> bool:
        header = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        creds = basic_credentials(header) if header else None
        if creds is None:
            return False
        user, password = creds
        hashed = config.basic_auth_users.get(user)
        known = hashed is not None
        return await self.cache.verify(user, hashed or FAKE_HASH, password, known)


def _with_headers(send: Send, config: WebConfig) -> Send:
    if not config.headers:
        return send
    names = {name.lower().encode("latin-1") for name, _ in config.headers}
    extra = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in config.headers]

    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in names]
            message = {**message, "headers": [*kept, *extra]}
        await send(message)

    return sender


async def _unauthorized(send: Send) -> None:
    # Go's http.Error: plain text, the status text and a newline, nosniff.
    body = b"Unauthorized\n"
    headers: list[Any] = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"x-content-type-options", b"nosniff"),
        (b"www-authenticate", b"Basic"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["CACHE_ENTRIES", "FAKE_HASH", "CredentialCache", "WebGuard", "basic_credentials"]
