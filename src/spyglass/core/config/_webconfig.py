"""The web configuration file (``--web-config-file``): Prometheus' exporter-toolkit format.

The same ``web.config.yml`` Prometheus, Alertmanager and the exporters read: TLS for the HTTP
listener (``tls_server_config``), extra response headers (``http_server_config.headers``) and
HTTP basic authentication (``basic_auth_users``: user name to bcrypt hash). Unknown fields are
errors, as the toolkit unmarshals strictly, and every error names file, line and field, with the
toolkit's wording where it has one. Relative file paths are resolved against the file's
directory. Loading the certificate files into an ``ssl.SSLContext`` is the server's business
(``spyglass.server.tls``); this module only reads and checks the YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.core.config._yaml import Node, load_yaml
from spyglass.core.config.fields import Section, mapping, resolve, string
from spyglass.core.errors import ConfigError

# Go's names of the TLS versions the toolkit accepts.
TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
# client_auth_type values, with the old name the toolkit still accepts.
CLIENT_AUTH_TYPES = (
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "RequireClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
)
# Go's crypto/tls names of the cipher suites its CipherSuites() lists, with OpenSSL's names.
# The TLS 1.3 suites are accepted and, as in Go, not configurable (both always offer all three).
TLS_CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": "",
    "TLS_AES_256_GCM_SHA384": "",
    "TLS_CHACHA20_POLY1305_SHA256": "",
}
# Go's curve names, with OpenSSL's.
TLS_CURVES = {
    "CurveP256": "prime256v1",
    "CurveP384": "secp384r1",
    "CurveP521": "secp521r1",
    "X25519": "X25519",
}
# The headers the toolkit lets a user set, and the values it allows (None: any).
HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}
_BCRYPT = re.compile(r"\$(2[abxy]?)\$(\d\d)\$[./A-Za-z0-9]{53}")
_TLS_FIELDS = (
    "cert",
    "key",
    "client_ca",
    "cert_file",
    "key_file",
    "client_auth_type",
    "client_ca_file",
    "cipher_suites",
    "curve_preferences",
    "min_version",
    "max_version",
    "prefer_server_cipher_suites",
    "client_allowed_sans",
)


@dataclass(frozen=True, slots=True)
class TLSServerConfig:
    """``tls_server_config`` with the toolkit's defaults; paths absolute or as written.

    ``cert``/``key``/``client_ca`` are inline PEM (newer toolkits), the ``*_file`` fields paths.
    ``cipher_suites`` and ``curve_preferences`` keep Go's names.
    """

    cert: str = ""
    key: str = ""
    client_ca: str = ""
    cert_file: str = ""
    key_file: str = ""
    client_ca_file: str = ""
    client_auth_type: str = "NoClientCert"
    cipher_suites: tuple[str, ...] = ()
    curve_preferences: tuple[str, ...] = ()
    min_version: str = "TLS12"
    max_version: str = "TLS13"
    prefer_server_cipher_suites: bool = True

    @property
    def enabled(self) -> bool:
        """Whether any TLS field is set: the toolkit then serves HTTPS (or refuses to start)."""
        return any(
            (
                self.cert,
                self.key,
                self.client_ca,
                self.cert_file,
                self.key_file,
                self.client_ca_file,
            )
        )

    @property
    def files(self) -> tuple[str, ...]:
        """The files the TLS context is built from (watched for changes)."""
        return tuple(f for f in (self.cert_file, self.key_file, self.client_ca_file) if f)


@dataclass(frozen=True, slots=True)
class WebConfig:
    """A loaded ``web.config.yml``; the default (no file) serves plain HTTP to everyone."""

    tls: TLSServerConfig = field(default_factory=TLSServerConfig)
    headers: tuple[tuple[str, str], ...] = ()
    http2: bool = True
    basic_auth_users: dict[str, str] = field(default_factory=dict)
    file: str = ""


def load_web_config_file(path: str | Path) -> WebConfig:
    """Read and check ``path``; ``ConfigError`` naming file, line and field when it is wrong."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read web config: {exc}", file=name) from None
    return load_web_config(text, name)


def load_web_config(text: str, file: str = "") -> WebConfig:
    """Parse a web config's text (relative paths resolve against ``file``'s directory)."""
    root = load_yaml(text, file)
    top = Section(
        root,
        "web.Config",
        "",
        ("tls_server_config", "http_server_config", "basic_auth_users"),
    )
    directory = Path(file).parent if file else None
    tls = _tls(top, directory) if "tls_server_config" in top else TLSServerConfig()
    headers: tuple[tuple[str, str], ...] = ()
    http2 = True
    if "http_server_config" in top:
        http = Section(
            top.at("http_server_config"),
            "web.HTTPConfig",
            "http_server_config",
            ("http2", "headers"),
        )
        http2 = http.flag("http2", True)
        headers = _headers(http)
    users: dict[str, str] = {}
    if "basic_auth_users" in top:
        node = top.at("basic_auth_users")
        for user, value in mapping(node, "map[string]config.Secret", "basic_auth_users").items():
            where = f"basic_auth_users.{user}"
            hashed = string(value, where)
            problem = bcrypt_problem(hashed)
            if problem:
                raise value.error(problem, where)
            users[user] = hashed
    return WebConfig(tls, headers, http2, users, file)


def bcrypt_problem(hashed: str) -> str:
    """Why ``hashed`` is not a bcrypt hash, in Go's ``bcrypt.Cost`` words (``""`` if it is)."""
    if len(hashed) < 59:
        return "crypto/bcrypt: hashedSecret too short to be a bcrypted password"
    if not hashed.startswith("$"):
        return (
            "crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with "
            f"'{hashed[0]}'"
        )
    if hashed[1] > "2":
        return (
            f"crypto/bcrypt: bcrypt algorithm version '{hashed[1]}' requested is newer than "
            "current version '2'"
        )
    m = _BCRYPT.fullmatch(hashed)
    if m is None:
        return "crypto/bcrypt: hashedSecret is not a bcrypt hash"
    cost = int(m.group(2))
    if not 4 <= cost <= 31:
        return f"crypto/bcrypt: cost {cost} is outside allowed range (4,31)"
    return ""


def _tls(top: Section, directory: Path | None) -> TLSServerConfig:
    s = Section(top.at("tls_server_config"), "web.TLSConfig", "tls_server_config", _TLS_FIELDS)
    if s.strs("client_allowed_sans"):
        raise s.error(
            "client_allowed_sans",
            "not supported by Spyglass: Python's TLS layer cannot check client certificate "
            "SANs during the handshake",
        )
    auth = s.text("client_auth_type") or "NoClientCert"
    if auth not in CLIENT_AUTH_TYPES:
        raise s.error("client_auth_type", f"invalid ClientAuth: {auth}")
    versions = {}
    for key, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
        value = s.text(key) or default
        if value not in TLS_VERSIONS:
            raise s.error(key, f"unknown TLS version: {value}")
        versions[key] = value
    suites = s.strs("cipher_suites")
    for i, suite in enumerate(suites):
        if suite not in TLS_CIPHER_SUITES:
            raise _item_error(s, "cipher_suites", i, f"unknown cipher: {suite}")
    curves = s.strs("curve_preferences")
    for i, curve in enumerate(curves):
        if curve not in TLS_CURVES:
            raise _item_error(s, "curve_preferences", i, f"unknown curve: {curve}")
    config = TLSServerConfig(
        cert=s.text("cert"),
        key=s.text("key"),
        client_ca=s.text("client_ca"),
        cert_file=resolve(directory, s.text("cert_file")),
        key_file=resolve(directory, s.text("key_file")),
        client_ca_file=resolve(directory, s.text("client_ca_file")),
        client_auth_type=auth,
        cipher_suites=tuple(suites),
        curve_preferences=tuple(curves),
        min_version=versions["min_version"],
        max_version=versions["max_version"],
        prefer_server_cipher_suites=s.flag("prefer_server_cipher_suites", True),
    )
    if not config.enabled:
        return config
    where = s.node
    if not (config.cert or config.cert_file):
        raise where.error("missing one of cert or cert_file", "tls_server_config")
    if not (config.key or config.key_file):
        raise where.error("missing one of key or key_file", "tls_server_config")
    if (config.client_ca or config.client_ca_file) and auth == "NoClientCert":
        raise where.error(
            "client CA's have been configured without a Client Auth Policy", "tls_server_config"
        )
    return config


def _headers(http: Section) -> tuple[tuple[str, str], ...]:
    out = []
    for name, value in http.strmap("headers").items():
        where = f"http_server_config.headers.{name}"
        node = http.at("headers")
        if name not in HEADERS:
            raise node.error(f'HTTP header "{name}" can not be configured', where)
        allowed = HEADERS[name]
        if allowed is not None and value not in allowed:
            quoted = "[" + " ".join(f'"{a}"' for a in allowed) + "]"
            raise node.error(
                f'invalid value for {name}. Expected one of: {quoted}, but got: "{value}"', where
            )
        out.append((name, value))
    return tuple(out)


def _item_error(s: Section, key: str, index: int, message: str) -> ConfigError:
    node: Node = s.at(key)
    items = node.value if isinstance(node.value, list) else []
    line = items[index].line if index < len(items) else node.line
    return ConfigError(message, file=node.file, line=line, field=f"{s.p(key)}[{index}]")


__all__ = [
    "CLIENT_AUTH_TYPES",
    "HEADERS",
    "TLS_CIPHER_SUITES",
    "TLS_CURVES",
    "TLS_VERSIONS",
    "TLSServerConfig",
    "WebConfig",
    "bcrypt_problem",
    "load_web_config",
    "load_web_config_file",
]
