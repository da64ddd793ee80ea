"""TLS for probes: the client context of a ``tls_config`` and the certificate gauges.

The gauges are the exporter's: ``probe_ssl_earliest_cert_expiry``,
``probe_ssl_last_chain_expiry_timestamp_seconds``, ``probe_ssl_last_chain_info`` and
``probe_tls_version_info``. Python's ``ssl`` (before 3.13) shows only the leaf certificate the
server sent, not the rest of the chain; the verified chain is rebuilt from the leaf and the CA
certificates the probe trusts (``ca_file``, else the system's), which is what Go's verifier
returns. An unverified connection (``insecure_skip_verify``) has no verified chain, and the
last-chain gauge then reads Go's zero time, -62135596800, exactly as the exporter's does.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID

from spyglass.probes._config import TLS
from spyglass.probes._result import ProbeResult

# time.Time{}.Unix() in Go: what the exporter reports for a chain it never verified.
GO_ZERO_TIME = -62135596800.0
_VERSIONS = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}
_SETTINGS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}


def client_context(tls: TLS) -> ssl.SSLContext:
    """The client TLS context of a module's ``tls_config`` (Go's defaults: TLS 1.2 and up)."""
    ctx = ssl.create_default_context(cafile=tls.ca_file or None)
    if tls.insecure_skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.cert_file:
        ctx.load_cert_chain(tls.cert_file, tls.key_file or None)
    ctx.minimum_version = _SETTINGS.get(tls.min_version, ssl.TLSVersion.TLSv1_2)
    if tls.max_version:
        ctx.maximum_version = _SETTINGS[tls.max_version]
    return ctx


@dataclass(frozen=True, slots=True)
class PeerTLS:
    """What a finished handshake showed: the leaf certificate, the version, the chain's end."""

    leaf: x509.Certificate | None
    version: str
    verified: bool
    trusted: tuple[x509.Certificate, ...]


def peer_tls(ssl_object: ssl.SSLObject | ssl.SSLSocket, ctx: ssl.SSLContext) -> PeerTLS:
    """Read a handshake's outcome from the connection's SSL object."""
    der = ssl_object.getpeercert(binary_form=True)
    leaf = x509.load_der_x509_certificate(der) if der else None
    verified = ctx.verify_mode != ssl.CERT_NONE
    trusted: tuple[x509.Certificate, ...] = ()
    if verified:
        trusted = tuple(
            x509.load_der_x509_certificate(c)
            for c in ctx.get_ca_certs(binary_form=True)
            if isinstance(c, bytes)
        )
    return PeerTLS(leaf, _VERSIONS.get(ssl_object.version() or "", "unknown"), verified, trusted)


def record_tls(result: ProbeResult, peer: PeerTLS) -> None:
    """Register and set the exporter's TLS gauges for a handshake that succeeded."""
    earliest = result.gauge(
        "probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime"
    )
    version = result.gauge(
        "probe_tls_version_info", "Returns the TLS version used or NaN when unknown", plain=False
    )
    last_chain = result.gauge(
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "Returns last SSL chain expiry in timestamp",
    )
    info = result.gauge(
        "probe_ssl_last_chain_info", "Contains SSL leaf certificate information", plain=False
    )
    version.set(1, (("version", peer.version),))
    if peer.leaf is None:
        return
    leaf = peer.leaf
    earliest.set(_not_after(leaf))
    chain = _verified_chain(leaf, peer.trusted) if peer.verified else []
    last_chain.set(min(_not_after(c) for c in chain) if chain else GO_ZERO_TIME)
    info.set(
        1,
        (
            ("fingerprint_sha256", hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest()),
            ("issuer", _go_name(leaf.issuer)),
            ("subject", _go_name(leaf.subject)),
            ("subjectalternative", ",".join(_dns_names(leaf))),
        ),
    )


def _not_after(cert: x509.Certificate) -> float:
    return float(int(cert.not_valid_after_utc.timestamp()))


def _verified_chain(
    leaf: x509.Certificate, trusted: tuple[x509.Certificate, ...]
) -> list[x509.Certificate]:
    chain = [leaf]
    current = leaf
    for _ in range(8):  # a chain longer than this is not one a probe meets
        if current.issuer == current.subject:
            break
        issuer = next((c for c in trusted if c.subject == current.issuer), None)
        if issuer is None or issuer in chain:
            break
        chain.append(issuer)
        current = issuer
    return chain


def _go_name(name: x509.Name) -> str:
    # Go's pkix.Name.String(): RFC 2253 order (most specific last reversed), as rfc4514_string.
    return name.rfc4514_string()


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    san: x509.SubjectAlternativeName = ext.value  # type: ignore[assignment]
    return list(san.get_values_for_type(x509.DNSName))


__all__ = ["GO_ZERO_TIME", "PeerTLS", "client_context", "peer_tls", "record_tls"]
