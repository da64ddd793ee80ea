"""The HTTP side of a scrape: client per scrape config, request headers, body limits, errors.

Requests look like Prometheus': the ``Accept`` header lists the configured ``scrape_protocols``
with falling weights (OpenMetrics first by default), ``X-Prometheus-Scrape-Timeout-Seconds``
carries the timeout, credentials files are re-read on every scrape so rotated secrets apply.
Error texts follow Prometheus' (``server returned HTTP status 500 Internal Server Error``,
``Get "<url>": context deadline exceeded``) since users search for them.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote_plus

import httpx

from spyglass.core.config import Authorization, BasicAuth, OAuth2, ScrapeConfig, TLSConfig
from spyglass.core.version import __version__
from spyglass.ingest.scrape._target import Target

_PROTOCOL_TYPES = {
    "OpenMetricsText1.0.0": "application/openmetrics-text;version=1.0.0",
    "OpenMetricsText0.0.1": "application/openmetrics-text;version=0.0.1",
    "PrometheusText1.0.0": "text/plain;version=1.0.0",
    "PrometheusText0.0.4": "text/plain;version=0.0.4",
    "PrometheusProto": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
    "encoding=delimited",
}
# Spyglass parses the text formats only; protobuf is never asked for.
_SUPPORTED = (
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
)
USER_AGENT = f"Spyglass/{__version__}"
_MIME_CHARS = r"[!#$%&'*+.^_`|~0-9a-z-]+"
_MEDIA_TYPE = re.compile(rf"^{_MIME_CHARS}/{_MIME_CHARS}$")
_PARSEABLE = ("application/openmetrics-text", "text/plain")


class ScrapeFailed(Exception):
    """A scrape did not produce a page; the message is what ``lastError`` shows."""


def accept_header(protocols: tuple[str, ...], escaping: str = "allow-utf-8") -> str:
    """Prometheus' ``Accept`` header for the configured protocols, best first."""
    weight = len(_PROTOCOL_TYPES) + 1
    parts = []
    for proto in protocols:
        if proto not in _SUPPORTED:
            continue
        value = _PROTOCOL_TYPES[proto]
        if proto in ("PrometheusText1.0.0", "OpenMetricsText1.0.0"):
            value += f";escaping={escaping}"
        parts.append(f"{value};q=0.{weight}")
        weight -= 1
    parts.append(f"*/*;q=0.{weight}")
    return ",".join(parts)


def timeout_header(ms: int) -> str:
    """Seconds as Go's ``strconv.FormatFloat(s, 'f', -1, 64)`` prints them (``10``, ``0.5``)."""
    text = repr(ms / 1000)
    return text.removesuffix(".0")


def content_type_for(header: str | None, fallback_protocol: str = "") -> str:
    """The Content-Type to parse a page as, following Prometheus 3's rules.

    A blank, unparseable or unsupported Content-Type fails the scrape unless the scrape config
    names a ``fallback_scrape_protocol``, which is then used instead.
    """
    fallback = _PROTOCOL_TYPES.get(fallback_protocol, "")
    if fallback_protocol == "PrometheusProto":
        fallback = ""  # cannot parse protobuf pages
    text = (header or "").strip()
    if not text:
        if not fallback:
            raise ScrapeFailed(
                "non-compliant scrape target sending blank Content-Type and no "
                "fallback_scrape_protocol specified for target"
            )
        return fallback
    media = text.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.match(media):
        if not fallback:
            raise ScrapeFailed(
                f'cannot parse Content-Type "{text}" and no fallback_scrape_protocol for target'
            )
        return fallback
    if media in _PARSEABLE:
        return text
    if not fallback:
        raise ScrapeFailed(
            f'received unsupported Content-Type "{text}" and no '
            "fallback_scrape_protocol specified for target"
        )
    return fallback


class HTTPClientSettings(Protocol):
    """What prometheus.yml's HTTP client settings give a client: scrape configs and
    Alertmanager configs both carry them."""

    @property
    def tls_config(self) -> TLSConfig: ...
    @property
    def follow_redirects(self) -> bool: ...
    @property
    def proxy_url(self) -> str: ...
    @property
    def proxy_from_environment(self) -> bool: ...
    @property
    def basic_auth(self) -> BasicAuth | None: ...
    @property
    def authorization(self) -> Authorization | None: ...
    @property
    def http_headers(self) -> tuple[tuple[str, tuple[str, ...]], ...]: ...
    @property
    def http_header_files(self) -> tuple[tuple[str, tuple[str, ...]], ...]: ...


def make_client(
    config: HTTPClientSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` carrying the config's TLS, proxy and redirect settings.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``).
    """
    tls = config.tls_config
    ctx = ssl.create_default_context(cafile=tls.ca_file or None)
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.cert_file:
        ctx.load_cert_chain(tls.cert_file, tls.key_file or None)
    return httpx.AsyncClient(
        verify=ctx,
        follow_redirects=config.follow_redirects,
        proxy=config.proxy_url or None,
        trust_env=config.proxy_from_environment,  # false by default, as in Prometheus
        transport=transport,
    )


def _read_secret(path: str, what: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ScrapeFailed(f"unable to read {what} {path}: {exc.strerror}") from None


def request_headers(config: ScrapeConfig, timeout_ms: int) -> dict[str, str]:
    """Headers of one scrape request, credentials included."""
    headers = {
        "Accept": accept_header(config.scrape_protocols, config.metric_name_escaping_scheme),
        "Accept-Encoding": "gzip" if config.enable_compression else "identity",
        "User-Agent": USER_AGENT,
        "X-Prometheus-Scrape-Timeout-Seconds": timeout_header(timeout_ms),
    }
    headers.update(auth_headers(config))
    return headers


def auth_headers(config: HTTPClientSettings) -> dict[str, str]:
    """The configured ``http_headers`` and credentials (files re-read on every call, so rotated
    secrets apply); raises ``ScrapeFailed`` when a file cannot be read."""
    headers: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    for name, values in config.http_headers:
        extra.setdefault(name, []).extend(values)
    for name, files in config.http_header_files:  # re-read every scrape, like credentials
        extra.setdefault(name, []).extend(_read_secret(f, f"header {name} file") for f in files)
    headers.update({name: ", ".join(values) for name, values in extra.items() if values})
    if config.basic_auth is not None:
        ba = config.basic_auth
        user = (
            _read_secret(ba.username_file, "basic auth username file")
            if ba.username_file
            else ba.username
        )
        password = (
            _read_secret(ba.password_file, "basic auth password file")
            if ba.password_file
            else ba.password
        )
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif config.authorization is not None:
        az = config.authorization
        creds = (
            _read_secret(az.credentials_file, "authorization credentials file")
            if az.credentials_file
            else az.credentials
        )
        headers["Authorization"] = f"{az.type} {creds}"
    return headers


class OAuth2Token:
    """An OAuth 2 client-credentials token for one scrape pool, fetched and renewed as needed.

    Like Go's x/oauth2 (which Prometheus uses): client id and secret go in a Basic header,
    the token counts as expired 10 s before ``expires_in`` runs out.
    """

    def __init__(self, config: OAuth2, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client
        self._header = ""
        self._expires_at = 0.0  # monotonic; 0 = never
        self._lock = asyncio.Lock()

    async def header(self) -> str:
        """The ``Authorization`` header value, fetching a token first when needed."""
        async with self._lock:
            if not self._header or (self._expires_at and time.monotonic() >= self._expires_at):
                await self._refresh()
            return self._header

    async def _refresh(self) -> None:
        cfg = self.config
        secret = (
            _read_secret(cfg.client_secret_file, "oauth2 client secret file")
            if cfg.client_secret_file
            else cfg.client_secret
        )
        form = {"grant_type": "client_credentials", **dict(cfg.endpoint_params)}
        if cfg.scopes:
            form["scope"] = " ".join(cfg.scopes)
        try:
            resp = await self.client.post(
                cfg.token_url, data=form, auth=(quote_plus(cfg.client_id), quote_plus(secret))
            )
        except httpx.HTTPError as exc:
            raise ScrapeFailed(f'oauth2: Post "{cfg.token_url}": {exc}') from None
        if resp.status_code != 200:
            raise ScrapeFailed(
                f"oauth2: cannot fetch token: {resp.status_code} {resp.reason_phrase}"
            )
        try:
            body = resp.json()
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise ScrapeFailed("oauth2: server response missing access_token") from None
        kind = str(body.get("token_type") or "Bearer")
        kind = {"bearer": "Bearer", "mac": "MAC", "basic": "Basic"}.get(kind.lower(), kind)
        expires_in = body.get("expires_in")
        self._expires_at = 0.0
        if isinstance(expires_in, (int, float)) and expires_in > 0:
            self._expires_at = time.monotonic() + float(expires_in) - 10.0
        self._header = f"{kind} {token}"


async def fetch(
    client: httpx.AsyncClient,
    target: Target,
    config: ScrapeConfig,
    token: OAuth2Token | None = None,
) -> tuple[bytes, str | None]:
    """GET the target's page within its timeout; the body and its Content-Type."""
    headers = request_headers(config, target.timeout_ms)
    if token is not None:
        headers["Authorization"] = await token.header()
    limit = config.body_size_limit
    url = target.url
    # tls_config.server_name: the name sent in SNI and checked against the certificate.
    server_name = config.tls_config.server_name
    extensions = {"sni_hostname": server_name} if server_name else None
    try:
        async with (
            asyncio.timeout(target.timeout_ms / 1000),
            client.stream(
                "GET",
                url,
                headers=headers,
                timeout=target.timeout_ms / 1000,
                extensions=extensions,
            ) as response,
        ):
            if response.status_code != 200:
                raise ScrapeFailed(
                    f"server returned HTTP status {response.status_code} {response.reason_phrase}"
                )
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if limit and size > limit:
                    raise ScrapeFailed(f"body size limit exceeded (limit: {limit} bytes)")
                chunks.append(chunk)
            media = content_type_for(
                response.headers.get("content-type"), config.fallback_scrape_protocol
            )
            return b"".join(chunks), media
    except (httpx.TimeoutException, TimeoutError):
        raise ScrapeFailed(f'Get "{url}": context deadline exceeded') from None
    except httpx.HTTPError as exc:
        raise ScrapeFailed(f'Get "{url}": {exc or type(exc).__name__}') from None


__all__ = [
    "USER_AGENT",
    "OAuth2Token",
    "ScrapeFailed",
    "accept_header",
    "content_type_for",
    "fetch",
    "make_client",
    "request_headers",
    "timeout_header",
]
