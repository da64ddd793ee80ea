"""The HTTPS listener's ``ssl.SSLContext``, built from a web config's ``tls_server_config``.

As Prometheus' exporter-toolkit configures Go's ``crypto/tls``, within what Python's ``ssl``
(OpenSSL) allows: certificate and key from files or inline PEM, the client certificate policy
(``client_auth_type``) and its CA, TLS 1.0 to 1.3 bounds, the TLS 1.2 cipher suites by Go's names
(TLS 1.3 suites are not configurable in either), server cipher preference, and the first
``curve_preferences`` entry (OpenSSL's ``set_ecdh_curve`` takes one). Errors are ``ConfigError``
in the toolkit's words, naming the web config file.

Go's ``RequestClientCert`` and ``RequireAnyClientCert`` take a client certificate without
checking who signed it; OpenSSL verifies every certificate it takes, so in Spyglass those two
check it against ``client_ca_file`` (or the system's CAs without one).
"""

from __future__ import annotations

import os
import ssl
import tempfile
from pathlib import Path

from spyglass.core.config import TLS_CIPHER_SUITES, TLS_CURVES, TLSServerConfig
from spyglass.core.errors import ConfigError

_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_VERIFY = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "RequireClientCert": ssl.CERT_REQUIRED,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


def server_context(tls: TLSServerConfig, file: str = "") -> ssl.SSLContext:
    """A server-side context for ``tls`` (which must be ``enabled``); ``file`` names the web
    config in errors."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.minimum_version = _VERSIONS[tls.min_version]
        ctx.maximum_version = _VERSIONS[tls.max_version]
    except ValueError as exc:
        raise ConfigError(f"TLS version: {exc}", file=file, field="tls_server_config") from None
    load_certificate(ctx, tls, file)
    openssl = [TLS_CIPHER_SUITES[s] for s in tls.cipher_suites if TLS_CIPHER_SUITES[s]]
    if openssl:
        try:
            ctx.set_ciphers(":".join(openssl))
        except ssl.SSLError as exc:
            raise ConfigError(
                f"cipher_suites: {exc}", file=file, field="tls_server_config.cipher_suites"
            ) from None
    if tls.prefer_server_cipher_suites:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if tls.curve_preferences:
        ctx.set_ecdh_curve(TLS_CURVES[tls.curve_preferences[0]])
    ctx.verify_mode = _VERIFY[tls.client_auth_type]
    if ctx.verify_mode != ssl.CERT_NONE:
        if tls.client_ca_file:
            try:
                ctx.load_verify_locations(cafile=tls.client_ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"failed to read client_ca_file ({tls.client_ca_file}): {_reason(exc)}",
                    file=file,
                    field="tls_server_config.client_ca_file",
                ) from None
        elif tls.client_ca:
            try:
                ctx.load_verify_locations(cadata=tls.client_ca)
            except ssl.SSLError as exc:
                raise ConfigError(
                    f"client_ca: {_reason(exc)}", file=file, field="tls_server_config.client_ca"
                ) from None
        else:
            ctx.load_default_certs(ssl.Purpose.CLIENT_AUTH)
    return ctx


def load_certificate(ctx: ssl.SSLContext, tls: TLSServerConfig, file: str = "") -> None:
    """Load ``tls``'s certificate and key into ``ctx``: connections opened afterwards present
    the new certificate (how a rotated certificate takes effect without a restart)."""
    cert = tls.cert_file
    key = tls.key_file
    for name, path in (("cert_file", cert), ("key_file", key)):
        if path and not os.access(path, os.R_OK):
            reason = "no such file or directory" if not Path(path).exists() else "permission denied"
            raise ConfigError(
                f"failed to read {name} ({path}): open {path}: {reason}",
                file=file,
                field=f"tls_server_config.{name}",
            )
    with tempfile.TemporaryDirectory(prefix="spyglass-tls-") as tmp:
        # ssl reads certificates from files only: inline PEM goes through a private directory.
        if not cert:
            cert = str(Path(tmp) / "cert.pem")
            Path(cert).write_text(tls.cert)
        if not key:
            key = str(Path(tmp) / "key.pem")
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(tls.key)
        try:
            ctx.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"failed to load X509KeyPair: {_reason(exc)}",
                file=file,
                field="tls_server_config",
            ) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).lower().replace("_", " ")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


__all__ = ["load_certificate", "server_context"]
