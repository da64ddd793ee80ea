"""A prometheus.yml with its secrets hidden, as Prometheus shows its loaded config.

Prometheus' ``/api/v1/status/config`` and its Configuration page marshal every ``Secret`` field
(passwords, bearer tokens, OAuth 2 client secrets, inline TLS keys, secret header values) as
``<secret>``. Spyglass keeps the user's YAML rather than re-marshalling a model of it, so it walks
the document and replaces the values of those fields; comments and anchors do not survive the
round trip, as they do not in Prometheus either.
"""

from __future__ import annotations

from typing import Any

import yaml

SECRET = "<secret>"  # noqa: S105 - the placeholder Prometheus shows, not a password
# Fields of type config.Secret in Prometheus and its service discoveries.
SECRET_FIELDS = frozenset(
    {
        "password",
        "credentials",
        "bearer_token",
        "client_secret",
        "secret_key",
        "token",
        "application_credential_secret",
    }
)


def redact_secrets(text: str) -> str:
    """``text`` (a YAML document) with every secret value replaced by ``<secret>``."""
    if not text.strip():
        return text
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return "# the loaded configuration could not be shown\n"
    shown = _walk(data, "")
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _walk(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return {k: _field(str(k), v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, key) for v in value]
    return value


def _field(name: str, value: Any, parent: str) -> Any:
    if value in (None, ""):
        return value
    if name in SECRET_FIELDS and not isinstance(value, dict | list):
        return SECRET
    if name == "key" and parent == "tls_config" and isinstance(value, str):
        return SECRET  # inline PEM key (key_file stays: it is a path)
    if name == "secrets" and isinstance(value, list):
        return [SECRET for _ in value]
    if name == "proxy_connect_header" and isinstance(value, dict):
        return {k: [SECRET for _ in v] if isinstance(v, list) else SECRET for k, v in value.items()}
    return _walk(value, name)


__all__ = ["SECRET", "SECRET_FIELDS", "redact_secrets"]
