"""The exporter-toolkit web config: defaults, strict fields, and every error naming file, line
and field with the toolkit's message."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.config import TLSServerConfig, WebConfig, load_web_config, load_web_config_file
from spyglass.core.config._webconfig import bcrypt_problem
from spyglass.core.errors import ConfigError

HASH = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_web_config(text, "/etc/web.yml")
    return str(info.value)


def test_empty_file_serves_plain_http_to_everyone() -> None:
    config = load_web_config("", "web.yml")
    assert config == WebConfig(file="web.yml")
    assert not config.tls.enabled
    assert config.basic_auth_users == {}


def test_full_config_with_defaults_and_paths_resolved_against_the_file() -> None:
    config = load_web_config(
        "tls_server_config:\n"
        "  cert_file: server.crt\n"
        "  key_file: /abs/server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"
        "  client_ca_file: ca.pem\n"
        "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
        "  min_version: TLS13\n"
        "http_server_config:\n"
        "  headers: {X-Frame-Options: deny, Strict-Transport-Security: max-age=31536000}\n"
        f"basic_auth_users:\n  alice: '{HASH}'\n",
        "/etc/spyglass/web.yml",
    )
    assert config.tls == TLSServerConfig(
        cert_file="/etc/spyglass/server.crt",
        key_file="/abs/server.key",
        client_ca_file="/etc/spyglass/ca.pem",
        client_auth_type="RequireAndVerifyClientCert",
        cipher_suites=("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",),
        min_version="TLS13",
        max_version="TLS13",
    )
    assert config.tls.enabled
    assert config.tls.files == (
        "/etc/spyglass/server.crt",
        "/abs/server.key",
        "/etc/spyglass/ca.pem",
    )
    assert config.headers == (
        ("X-Frame-Options", "deny"),
        ("Strict-Transport-Security", "max-age=31536000"),
    )
    assert config.basic_auth_users == {"alice": HASH}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "tls_config: {}\n",
            "/etc/web.yml:1: tls_config: field tls_config not found in type web.Config",
        ),
        (
            "tls_server_config:\n  cert_file: a.crt\n",
            "/etc/web.yml:2: tls_server_config: missing one of key or key_file",
        ),
        (
            "tls_server_config:\n  key_file: a.key\n",
            "/etc/web.yml:2: tls_server_config: missing one of cert or cert_file",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n",
            "/etc/web.yml:4: tls_server_config.client_auth_type: invalid ClientAuth: Maybe",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n",
            "/etc/web.yml:2: tls_server_config: client CA's have been configured without a "
            "Client Auth Policy",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
            "/etc/web.yml:4: tls_server_config.min_version: unknown TLS version: TLS14",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites:\n"
            "    - TLS_AES_128_GCM_SHA256\n    - RC4\n",
            "/etc/web.yml:6: tls_server_config.cipher_suites[1]: unknown cipher: RC4",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P999]\n",
            "/etc/web.yml:4: tls_server_config.curve_preferences[0]: unknown curve: P999",
        ),
        (
            "http_server_config:\n  headers:\n    Server: x\n",
            '/etc/web.yml:3: http_server_config.headers.Server: HTTP header "Server" can not '
            "be configured",
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            "/etc/web.yml:3: http_server_config.headers.X-Frame-Options: invalid value for "
            'X-Frame-Options. Expected one of: ["deny" "sameorigin"], but got: "allow"',
        ),
        (
            "basic_auth_users:\n  alice: secret\n",
            "/etc/web.yml:2: basic_auth_users.alice: crypto/bcrypt: hashedSecret too short to "
            "be a bcrypted password",
        ),
        (
            "basic_auth_users: [alice]\n",
            "/etc/web.yml:1: basic_auth_users: cannot unmarshal "
            "!!seq into map[string]config.Secret",
        ),
        (
            "tls_server_config: [\n",
            "/etc/web.yml:2: yaml: expected the node content, but found '<stream end>'",
        ),
    ],
)
def test_errors_name_file_line_field_and_the_toolkit_message(text: str, want: str) -> None:
    assert error(text) == want


def test_client_allowed_sans_is_refused_rather_than_ignored() -> None:
    got = error(
        "tls_server_config:\n  cert_file: a\n  key_file: b\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: c\n"
        "  client_allowed_sans: [a.example]\n"
    )
    assert "tls_server_config.client_allowed_sans: not supported by Spyglass" in got


def test_bcrypt_problems_in_go_words() -> None:
    assert bcrypt_problem(HASH) == ""
    assert bcrypt_problem("x" * 60).startswith("crypto/bcrypt: bcrypt hashes must start with '$'")
    assert "version '3' requested" in bcrypt_problem("$3" + HASH[2:])
    assert bcrypt_problem(HASH.replace("$10$", "$03$")) == (
        "crypto/bcrypt: cost 3 is outside allowed range (4,31)"
    )


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read web config"):
        load_web_config_file(tmp_path / "nope.yml")


@given(st.text(max_size=300))
def test_any_text_loads_or_fails_with_a_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        load_web_config(text, "web.yml")


@given(
    st.dictionaries(
        st.sampled_from(["cert_file", "key_file", "client_auth_type", "min_version", "http2"]),
        st.one_of(st.text(max_size=20), st.booleans(), st.integers(), st.none()),
    )
)
def test_any_tls_section_loads_or_fails_with_a_config_error(fields: dict[str, object]) -> None:
    text = yaml.safe_dump({"tls_server_config": fields})
    with contextlib.suppress(ConfigError):
        load_web_config(text, "web.yml")
