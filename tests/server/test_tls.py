"""The HTTPS context from ``tls_server_config``: certificates from files or inline PEM, client
certificate policy, versions, and errors in the toolkit's words."""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path

import pytest
import trustme

from spyglass.core.config import TLSServerConfig
from spyglass.core.errors import ConfigError
from spyglass.server.tls import load_certificate, server_context


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _files(tmp_path: Path, ca: trustme.CA) -> tuple[str, str, str]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = tmp_path / "s.crt", tmp_path / "s.key", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    return str(cert_file), str(key_file), str(ca_file)


def test_context_from_files_with_client_verification(tmp_path: Path, ca: trustme.CA) -> None:
    cert, key, ca_file = _files(tmp_path, ca)
    ctx = server_context(
        TLSServerConfig(
            cert_file=cert,
            key_file=key,
            client_ca_file=ca_file,
            client_auth_type="RequireAndVerifyClientCert",
            min_version="TLS13",
        )
    )
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_3
    assert ctx.options & ssl.OP_CIPHER_SERVER_PREFERENCE


def test_inline_certificate_and_key(ca: trustme.CA) -> None:
    cert = ca.issue_cert("localhost")
    ctx = server_context(
        TLSServerConfig(
            cert=cert.cert_chain_pems[0].bytes().decode(),
            key=cert.private_key_pem.bytes().decode(),
            cipher_suites=("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
        )
    )
    names = {c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert names == {"ECDHE-RSA-AES128-GCM-SHA256"}
    assert ctx.verify_mode == ssl.CERT_NONE


def test_missing_files_and_mismatched_keys_fail_like_the_toolkit(
    tmp_path: Path, ca: trustme.CA
) -> None:
    cert, key, _ = _files(tmp_path, ca)
    with pytest.raises(ConfigError) as info:
        server_context(TLSServerConfig(cert_file=str(tmp_path / "no.crt"), key_file=key), "w.yml")
    assert str(info.value) == (
        f"w.yml: tls_server_config.cert_file: failed to read cert_file ({tmp_path}/no.crt): "
        f"open {tmp_path}/no.crt: no such file or directory"
    )
    other = ca.issue_cert("other")
    other_key = tmp_path / "other.key"
    other.private_key_pem.write_to_path(str(other_key))
    with pytest.raises(ConfigError, match="failed to load X509KeyPair: key values mismatch"):
        server_context(TLSServerConfig(cert_file=cert, key_file=str(other_key)), "w.yml")


def test_reloading_a_certificate_changes_what_new_connections_get(
    tmp_path: Path, ca: trustme.CA
) -> None:
    cert, key, _ = _files(tmp_path, ca)
    ctx = server_context(TLSServerConfig(cert_file=cert, key_file=key))
    fresh = ca.issue_cert("rotated.example")
    fresh.cert_chain_pems[0].write_to_path(cert)
    fresh.private_key_pem.write_to_path(key)
    load_certificate(ctx, TLSServerConfig(cert_file=cert, key_file=key))
    # The context's certificate is what a handshake presents; read it back through a
    # memory-BIO handshake with a client that trusts the CA.
    client = ssl.create_default_context()
    ca.configure_trust(client)
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    c = client.wrap_bio(c_in, c_out, server_hostname="rotated.example")
    s = ctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side, out, peer_in in ((c, c_out, s_in), (s, s_out, c_in)):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
            peer_in.write(out.read())
    peer = c.getpeercert()
    assert ("DNS", "rotated.example") in peer["subjectAltName"]
