"""``http_config`` and ``tls_config`` as Alertmanager reads them (prometheus/common's client).

Every notifier may carry an ``http_config``; ``global.http_config`` is the default for those that
do not. The model keeps everything the client config can say (auth, TLS, proxy, headers) with its
defaults (``follow_redirects`` and ``enable_http2`` on) and its validation, so a real file loads
and a wrong one fails with prometheus/common's message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spyglass.alerting._golang import canonical_header, parse_url
from spyglass.core.config import Node
from spyglass.core.config.fields import Section, mapping, resolve, string_list
from spyglass.core.errors import BadInput, ConfigError

TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
# Headers the HTTP client owns; setting them in http_headers is refused.
RESERVED_HEADERS = frozenset(
    {
        "Authorization",
        "Host",
        "Content-Encoding",
        "Content-Length",
        "Content-Type",
        "User-Agent",
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Www-Authenticate",
        "Accept-Encoding",
        "X-Prometheus-Remote-Write-Version",
        "X-Prometheus-Remote-Read-Version",
        "X-Prometheus-Scrape-Timeout-Seconds",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "X-Amz-Content-Sha256",
    }
)
_TLS_FIELDS = (
    "ca",
    "cert",
    "key",
    "ca_file",
    "cert_file",
    "key_file",
    "ca_ref",
    "cert_ref",
    "key_ref",
    "server_name",
    "insecure_skip_verify",
    "min_version",
    "max_version",
)
_PROXY_FIELDS = ("proxy_url", "no_proxy", "proxy_from_environment", "proxy_connect_header")
_HTTP_FIELDS = (
    "basic_auth",
    "authorization",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "follow_redirects",
    "enable_http2",
    "http_headers",
    *_PROXY_FIELDS,
)
_OAUTH2_FIELDS = (
    "client_id",
    "client_secret",
    "client_secret_file",
    "client_secret_ref",
    "client_certificate_key_id",
    "client_certificate_key",
    "client_certificate_key_file",
    "client_certificate_key_ref",
    "grant_type",
    "signature_algorithm",
    "iss",
    "audience",
    "claims",
    "scopes",
    "token_url",
    "endpoint_params",
    "tls_config",
    *_PROXY_FIELDS,
)
_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """``tls_config``: CA, client certificate and key (inline, file or secret-manager ref)."""

    ca: str = ""
    cert: str = ""
    key: str = field(default="", repr=False)
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    ca_ref: str = ""
    cert_ref: str = ""
    key_ref: str = ""
    server_name: str = ""
    insecure_skip_verify: bool = False
    min_version: str = ""
    max_version: str = ""


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """The proxy settings of an HTTP client (and of an OAuth2 token request)."""

    proxy_url: str = ""
    no_proxy: str = ""
    proxy_from_environment: bool = False
    proxy_connect_header: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """``basic_auth``."""

    username: str = ""
    username_file: str = ""
    username_ref: str = ""
    password: str = field(default="", repr=False)
    password_file: str = ""
    password_ref: str = ""


@dataclass(frozen=True, slots=True)
class Authorization:
    """``authorization`` (also what ``bearer_token``/``bearer_token_file`` become)."""

    type: str = "Bearer"
    credentials: str = field(default="", repr=False)
    credentials_file: str = ""
    credentials_ref: str = ""


@dataclass(frozen=True, slots=True)
class OAuth2:
    """``oauth2``: client credentials or JWT-bearer token requests."""

    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    client_secret_file: str = ""
    client_secret_ref: str = ""
    client_certificate_key_id: str = ""
    client_certificate_key: str = field(default="", repr=False)
    client_certificate_key_file: str = ""
    client_certificate_key_ref: str = ""
    grant_type: str = ""
    signature_algorithm: str = ""
    iss: str = ""
    audience: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()
    token_url: str = ""
    endpoint_params: tuple[tuple[str, str], ...] = ()
    tls_config: TLSConfig = TLSConfig()
    proxy: ProxyConfig = ProxyConfig()


@dataclass(frozen=True, slots=True)
class Header:
    """One ``http_headers`` entry: literal values, secret values and files to read them from."""

    values: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HTTPConfig:
    """An ``http_config`` with prometheus/common's defaults applied."""

    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    oauth2: OAuth2 | None = None
    tls_config: TLSConfig = TLSConfig()
    follow_redirects: bool = True
    enable_http2: bool = True
    proxy: ProxyConfig = ProxyConfig()
    http_headers: tuple[tuple[str, Header], ...] = ()

    def with_directory(self, directory: Path | None) -> HTTPConfig:
        """Relative credential, TLS and header file names resolved against ``directory``."""
        if directory is None:
            return self
        d = directory
        basic = self.basic_auth
        if basic is not None:
            basic = replace(
                basic,
                username_file=resolve(d, basic.username_file),
                password_file=resolve(d, basic.password_file),
            )
        authz = self.authorization
        if authz is not None:
            authz = replace(authz, credentials_file=resolve(d, authz.credentials_file))
        oauth = self.oauth2
        if oauth is not None:
            oauth = replace(
                oauth,
                client_secret_file=resolve(d, oauth.client_secret_file),
                client_certificate_key_file=resolve(d, oauth.client_certificate_key_file),
                tls_config=_tls_with_directory(oauth.tls_config, d),
            )
        headers = tuple(
            (name, replace(h, files=tuple(resolve(d, f) for f in h.files)))
            for name, h in self.http_headers
        )
        return replace(
            self,
            basic_auth=basic,
            authorization=authz,
            oauth2=oauth,
            tls_config=_tls_with_directory(self.tls_config, d),
            http_headers=headers,
        )


DEFAULT_HTTP_CONFIG = HTTPConfig()


def _tls_with_directory(tls: TLSConfig, d: Path) -> TLSConfig:
    return replace(
        tls,
        ca_file=resolve(d, tls.ca_file),
        cert_file=resolve(d, tls.cert_file),
        key_file=resolve(d, tls.key_file),
    )


def _count(*values: str) -> int:
    return sum(1 for v in values if v)


def parse_tls_config(node: Node, path: str) -> TLSConfig:
    """A ``tls_config`` mapping, validated as prometheus/common validates it."""
    s = Section(node, "config.plain", path, _TLS_FIELDS)
    versions = {}
    for key in ("min_version", "max_version"):
        version = s.text(key)
        if version and version not in TLS_VERSIONS:
            raise s.error(key, f"unknown TLS version: {version}")
        versions[key] = version
    tls = TLSConfig(
        **{k: s.text(k) for k in _TLS_FIELDS if k not in versions and k != "insecure_skip_verify"},
        insecure_skip_verify=s.flag("insecure_skip_verify", False),
        **versions,
    )
    message = ""
    if _count(tls.ca, tls.ca_file, tls.ca_ref) > 1:
        message = "at most one of ca, ca_file & ca_ref must be configured"
    elif _count(tls.cert, tls.cert_file, tls.cert_ref) > 1:
        message = "at most one of cert, cert_file & cert_ref must be configured"
    elif _count(tls.key, tls.key_file, tls.key_ref) > 1:
        message = "at most one of key and key_file must be configured"
    elif _count(tls.cert, tls.cert_file, tls.cert_ref) and not _count(
        tls.key, tls.key_file, tls.key_ref
    ):
        message = (
            "exactly one of key or key_file must be configured when a client certificate is "
            "configured"
        )
    elif _count(tls.key, tls.key_file, tls.key_ref) and not _count(
        tls.cert, tls.cert_file, tls.cert_ref
    ):
        message = (
            "exactly one of cert or cert_file must be configured when a client key is configured"
        )
    if message:
        raise node.error(message, path)
    return tls


def _proxy(s: Section) -> ProxyConfig:
    url = s.text("proxy_url")
    if url:
        try:
            parse_url(url)
        except BadInput as exc:
            raise s.error("proxy_url", str(exc)) from None
    headers = []
    if "proxy_connect_header" in s:
        items = mapping(
            s.at("proxy_connect_header"), "config.ProxyHeader", s.p("proxy_connect_header")
        )
        for name, value in items.items():
            headers.append(
                (name, tuple(string_list(value, f"{s.p('proxy_connect_header')}.{name}")))
            )
    proxy = ProxyConfig(
        proxy_url=url,
        no_proxy=s.text("no_proxy"),
        proxy_from_environment=s.flag("proxy_from_environment", False),
        proxy_connect_header=tuple(headers),
    )
    message = ""
    if proxy.proxy_connect_header and not proxy.proxy_from_environment and not proxy.proxy_url:
        message = (
            "if proxy_connect_header is configured, proxy_url or proxy_from_environment must "
            "also be configured"
        )
    elif proxy.proxy_from_environment and proxy.proxy_url:
        message = "if proxy_from_environment is configured, proxy_url must not be configured"
    elif proxy.proxy_from_environment and proxy.no_proxy:
        message = "if proxy_from_environment is configured, no_proxy must not be configured"
    elif "proxy_url" not in s and proxy.no_proxy:
        message = "if no_proxy is configured, proxy_url must also be configured"
    if message:
        raise s.node.error(message, s.path)
    return proxy


def _oauth2(node: Node, path: str) -> OAuth2:
    o = Section(node, "config.plain", path, _OAUTH2_FIELDS)
    proxy = _proxy(o)
    claims = o.at("claims").plain() if "claims" in o else {}
    return OAuth2(
        client_id=o.text("client_id"),
        client_secret=o.text("client_secret"),
        client_secret_file=o.text("client_secret_file"),
        client_secret_ref=o.text("client_secret_ref"),
        client_certificate_key_id=o.text("client_certificate_key_id"),
        client_certificate_key=o.text("client_certificate_key"),
        client_certificate_key_file=o.text("client_certificate_key_file"),
        client_certificate_key_ref=o.text("client_certificate_key_ref"),
        grant_type=o.text("grant_type"),
        signature_algorithm=o.text("signature_algorithm"),
        iss=o.text("iss"),
        audience=o.text("audience"),
        claims=claims if isinstance(claims, dict) else {},
        scopes=tuple(o.strs("scopes")),
        token_url=o.text("token_url"),
        endpoint_params=tuple(sorted(o.strmap("endpoint_params").items())),
        tls_config=parse_tls_config(o.at("tls_config"), o.p("tls_config"))
        if "tls_config" in o
        else TLSConfig(),
        proxy=proxy,
    )


def _headers(s: Section) -> tuple[tuple[str, Header], ...]:
    if "http_headers" not in s:
        return ()
    hs = Section(s.at("http_headers"), "map[string]config.Header", s.p("http_headers"))
    out = []
    for name, node in hs.items.items():
        h = Section(node, "config.Header", hs.p(name), ("values", "secrets", "files"))
        canonical = canonical_header(name)
        if canonical in RESERVED_HEADERS:
            raise hs.error(name, f'setting header "{canonical}" is not allowed')
        out.append(
            (
                name,
                Header(tuple(h.strs("values")), tuple(h.strs("secrets")), tuple(h.strs("files"))),
            )
        )
    return tuple(out)


def parse_http_config(node: Node, path: str) -> HTTPConfig:
    """An ``http_config`` mapping with defaults applied, validated like prometheus/common."""
    s = Section(node, "config.plain", path, _HTTP_FIELDS)
    basic = None
    if "basic_auth" in s:
        b = Section(
            s.at("basic_auth"),
            "config.plain",
            s.p("basic_auth"),
            (
                "username",
                "username_file",
                "username_ref",
                "password",
                "password_file",
                "password_ref",
            ),
        )
        basic = BasicAuth(**{k: b.text(k) for k in b.items})
    authz = None
    if "authorization" in s:
        a = Section(
            s.at("authorization"),
            "config.Authorization",
            s.p("authorization"),
            ("type", "credentials", "credentials_file", "credentials_ref"),
        )
        authz = Authorization(
            type=a.text("type"),
            credentials=a.text("credentials"),
            credentials_file=a.text("credentials_file"),
            credentials_ref=a.text("credentials_ref"),
        )
    oauth = _oauth2(s.at("oauth2"), s.p("oauth2")) if "oauth2" in s else None
    token, token_file = s.text("bearer_token"), s.text("bearer_token_file")

    def fail(message: str) -> ConfigError:
        return node.error(message, path)

    if token and token_file:
        raise fail("at most one of bearer_token & bearer_token_file must be configured")
    if (basic is not None or oauth is not None) and (token or token_file):
        raise fail(
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
        )
    if basic is not None and _count(basic.username, basic.username_file, basic.username_ref) > 1:
        raise fail(
            "at most one of basic_auth username, username_file & username_ref must be configured"
        )
    if basic is not None and _count(basic.password, basic.password_file, basic.password_ref) > 1:
        raise fail(
            "at most one of basic_auth password, password_file & password_ref must be configured"
        )
    if authz is not None:
        if token or token_file:
            raise fail("authorization is not compatible with bearer_token & bearer_token_file")
        if _count(authz.credentials, authz.credentials_file, authz.credentials_ref) > 1:
            raise fail(
                "at most one of authorization credentials & credentials_file must be configured"
            )
        kind = authz.type.strip() or "Bearer"
        if kind.lower() == "basic":
            raise fail('authorization type cannot be set to "basic", use "basic_auth" instead')
        if basic is not None or oauth is not None:
            raise fail("at most one of basic_auth, oauth2 & authorization must be configured")
        authz = replace(authz, type=kind)
    elif token:
        authz = Authorization(credentials=token)
    elif token_file:
        authz = Authorization(credentials_file=token_file)
    if oauth is not None:
        if basic is not None:
            raise fail("at most one of basic_auth, oauth2 & authorization must be configured")
        if not oauth.client_id:
            raise fail("oauth2 client_id must be configured")
        if not oauth.token_url:
            raise fail("oauth2 token_url must be configured")
        if oauth.grant_type == _JWT_BEARER:
            if (
                _count(
                    oauth.client_certificate_key,
                    oauth.client_certificate_key_file,
                    oauth.client_certificate_key_ref,
                )
                > 1
            ):
                raise fail(
                    "at most one of oauth2 client_certificate_key, client_certificate_key_file & "
                    f"client_certificate_key_ref must be configured using grant-type={_JWT_BEARER}"
                )
            if oauth.signature_algorithm not in ("", "RS256", "RS384", "RS512"):
                raise fail("valid signature algorithms are RS256, RS384 and RS512")
        elif _count(oauth.client_secret, oauth.client_secret_file, oauth.client_secret_ref) > 1:
            raise fail(
                "at most one of oauth2 client_secret, client_secret_file & client_secret_ref "
                "must be configured using grant-type=client_credentials"
            )
    return HTTPConfig(
        basic_auth=basic,
        authorization=authz,
        oauth2=oauth,
        tls_config=parse_tls_config(s.at("tls_config"), s.p("tls_config"))
        if "tls_config" in s
        else TLSConfig(),
        follow_redirects=s.flag("follow_redirects", True),
        enable_http2=s.flag("enable_http2", True),
        proxy=_proxy(s),
        http_headers=_headers(s),
    )


__all__ = [
    "DEFAULT_HTTP_CONFIG",
    "RESERVED_HEADERS",
    "Authorization",
    "BasicAuth",
    "HTTPConfig",
    "Header",
    "OAuth2",
    "ProxyConfig",
    "TLSConfig",
    "parse_http_config",
    "parse_tls_config",
]
