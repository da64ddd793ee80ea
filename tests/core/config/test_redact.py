"""The loaded prometheus.yml as Prometheus shows it: every secret value is ``<secret>``, every
other value is kept."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.config import redact_secrets

CONFIG = """
global:
  scrape_interval: 15s   # comments do not survive, as in Prometheus
scrape_configs:
  - job_name: api
    basic_auth: {username: alice, password: hunter2, password_file: /etc/pw}
    authorization: {type: Bearer, credentials: tok3n}
    oauth2: {client_id: id, client_secret: s3cret, token_url: https://auth/}
    tls_config: {key: "-----BEGIN PRIVATE KEY-----", key_file: /etc/k.pem, cert_file: c.pem}
    proxy_connect_header: {X-Auth: [a, b]}
    http_headers: {X-Token: {secrets: [x, y], values: [plain]}}
    bearer_token: old-style
    static_configs: [{targets: ["h:1"], labels: {password: not-a-secret-field}}]
remote_write:
  - url: https://rw/
    sigv4: {access_key: AKIA, secret_key: sk}
"""


def test_secrets_are_hidden_and_everything_else_is_kept() -> None:
    shown = yaml.safe_load(redact_secrets(CONFIG))
    job = shown["scrape_configs"][0]
    assert job["basic_auth"] == {
        "username": "alice",
        "password": "<secret>",
        "password_file": "/etc/pw",
    }
    assert job["authorization"] == {"type": "Bearer", "credentials": "<secret>"}
    assert job["oauth2"]["client_secret"] == "<secret>"
    assert job["oauth2"]["client_id"] == "id"
    assert job["tls_config"] == {"key": "<secret>", "key_file": "/etc/k.pem", "cert_file": "c.pem"}
    assert job["proxy_connect_header"] == {"X-Auth": ["<secret>", "<secret>"]}
    assert job["http_headers"] == {
        "X-Token": {"secrets": ["<secret>", "<secret>"], "values": ["plain"]}
    }
    assert job["bearer_token"] == "<secret>"
    assert shown["remote_write"][0]["sigv4"] == {"access_key": "AKIA", "secret_key": "<secret>"}
    assert shown["global"] == {"scrape_interval": "15s"}
    for secret in ("hunter2", "tok3n", "s3cret", "PRIVATE KEY", "old-style", "sk\n"):
        assert secret not in redact_secrets(CONFIG)


def test_an_empty_config_stays_empty() -> None:
    assert redact_secrets("") == ""


_keys = st.sampled_from(["password", "user", "job_name", "credentials", "url", "key", "x"])
_documents = st.recursive(
    st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=20,
)


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return None


@given(st.dictionaries(_keys, _documents, min_size=1, max_size=4))
def test_redacting_keeps_the_documents_shape(document: dict[str, Any]) -> None:
    """Any document comes back as YAML of the same keys and nesting; no password field keeps
    a non-empty scalar value."""
    text = yaml.safe_dump(document)
    shown = yaml.safe_load(redact_secrets(text))
    assert _shape(shown) == _shape(document)

    def check(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "password" and v not in (None, "") and not isinstance(v, dict | list):
                    assert v == "<secret>"
                check(v)
        elif isinstance(value, list):
            for v in value:
                check(v)

    check(shown)
