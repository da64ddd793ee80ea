"""Senders' HTTP clients: credentials and headers from http_config, files read per request."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx
import pytest

from spyglass.alerting import NotifyError
from spyglass.alerting._client import http_client, request_headers
from spyglass.alerting._http import Authorization, BasicAuth, Header, HTTPConfig, OAuth2


def test_basic_auth_password_file_is_read_on_every_request(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("one\n")
    cfg = HTTPConfig(basic_auth=BasicAuth(username="am", password_file=str(secret)))
    first = request_headers(cfg)["Authorization"]
    secret.write_text("two\n")
    second = request_headers(cfg)["Authorization"]
    assert base64.b64decode(first.removeprefix("Basic ")) == b"am:one"
    assert base64.b64decode(second.removeprefix("Basic ")) == b"am:two"


def test_authorization_and_custom_headers() -> None:
    cfg = HTTPConfig(
        authorization=Authorization(type="Bearer", credentials="tok"),
        http_headers=(("X-Team", Header(values=("a", "b"))),),
    )
    assert request_headers(cfg) == {"Authorization": "Bearer tok", "X-Team": "a, b"}


def test_a_missing_credentials_file_fails_without_retry_and_names_the_file() -> None:
    cfg = HTTPConfig(authorization=Authorization(credentials_file="/nonexistent/token"))
    with pytest.raises(NotifyError, match="/nonexistent/token") as info:
        request_headers(cfg)
    assert not info.value.retry


def test_oauth2_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(NotifyError, match="oauth2"):
        http_client(HTTPConfig(oauth2=OAuth2(client_id="x")), timeout_s=1)


def test_the_client_sends_spyglass_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async def go() -> None:
        async with http_client(None, timeout_s=5, transport=httpx.MockTransport(handler)) as c:
            await c.post("http://127.0.0.1:9/hook", content=b"{}")

    asyncio.run(go())
    assert seen[0].headers["user-agent"].startswith("Spyglass/")
