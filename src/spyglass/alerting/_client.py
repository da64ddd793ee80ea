"""HTTP clients for senders, built from a receiver's ``http_config``.

A sender asks for a client once (``http_client``) and for the headers of each request
(``request_headers``): credential and header files are read again on every request, as
prometheus/common does, so a rotated secret applies without a reload. A file that cannot be
read fails the delivery without retry until it is fixed, and says which file.
"""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import httpx

from spyglass.alerting._http import HTTPConfig, TLSConfig
from spyglass.alerting._notify import NotifyError
from spyglass.core.version import __version__

USER_AGENT = f"Spyglass/{__version__}"


def http_client(
    config: HTTPConfig | None,
    *,
    timeout_s: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with the config's TLS, proxy and redirect settings.

    ``timeout_s`` bounds each request (0: none). ``transport`` replaces the network in tests.
    OAuth 2 is refused here, at build time, so a receiver that needs it fails loudly.
    """
    cfg = config or HTTPConfig()
    if cfg.oauth2 is not None:
        raise NotifyError("http_config.oauth2 is not supported by Spyglass yet", retry=False)
    return httpx.AsyncClient(
        verify=ssl_context(cfg.tls_config),
        follow_redirects=cfg.follow_redirects,
        proxy=cfg.proxy.proxy_url or None,
        trust_env=cfg.proxy.proxy_from_environment,
        timeout=timeout_s or None,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    )


def ssl_context(tls: TLSConfig) -> ssl.SSLContext:
    """The client-side TLS context of a ``tls_config`` (inline PEM or files)."""
    ctx = ssl.create_default_context(cafile=tls.ca_file or None, cadata=tls.ca or None)
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.cert_file:
        ctx.load_cert_chain(tls.cert_file, tls.key_file or None)
    versions = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
    if tls.min_version in versions:
        ctx.minimum_version = versions[tls.min_version]
    if tls.max_version in versions:
        ctx.maximum_version = versions[tls.max_version]
    return ctx


def request_headers(config: HTTPConfig | None) -> dict[str, str]:
    """The ``http_headers`` and credentials of one request; files are read now."""
    cfg = config or HTTPConfig()
    headers: dict[str, str] = {}
    for name, header in cfg.http_headers:
        values = [*header.values, *header.secrets]
        values += [_read(f, f"header {name} file") for f in header.files]
        if values:
            headers[name] = ", ".join(values)
    if cfg.basic_auth is not None:
        ba = cfg.basic_auth
        user = (
            _read(ba.username_file, "basic auth username file") if ba.username_file else ba.username
        )
        password = (
            _read(ba.password_file, "basic auth password file") if ba.password_file else ba.password
        )
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif cfg.authorization is not None:
        az = cfg.authorization
        creds = (
            _read(az.credentials_file, "authorization credentials file")
            if az.credentials_file
            else az.credentials
        )
        headers["Authorization"] = f"{az.type} {creds}"
    return headers


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise NotifyError(f"unable to read {what} {path}: {exc.strerror}", retry=False) from None


__all__ = ["USER_AGENT", "http_client", "request_headers", "ssl_context"]
