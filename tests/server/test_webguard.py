"""The web config on the request path: basic auth with cached bcrypt checks, response headers,
and reloading when the file changes (a fake clock decides when it is looked at)."""

from __future__ import annotations

import base64
from pathlib import Path

import bcrypt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from spyglass.server.webconfig import CHECK_INTERVAL_S, WebConfigSource
from spyglass.server.webguard import WebGuard, basic_credentials


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


async def hello(request: Request) -> PlainTextResponse:
    del request
    return PlainTextResponse("hello", headers={"X-Frame-Options": "sameorigin"})


def _client(tmp_path: Path, text: str) -> tuple[TestClient, WebGuard, Clock, Path]:
    path = tmp_path / "web.yml"
    path.write_text(text)
    clock = Clock()
    app = Starlette(routes=[Route("/", hello), Route("/-/healthy", hello)])
    guard = WebGuard(app, WebConfigSource(str(path), clock=clock))
    return TestClient(guard), guard, clock, path


def _auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_without_users_everything_is_open(tmp_path: Path) -> None:
    client, _, _, _ = _client(tmp_path, "")
    assert client.get("/").text == "hello"


def test_basic_auth_protects_every_path_and_answers_like_the_toolkit(tmp_path: Path) -> None:
    """No, wrong or unknown credentials: 401, ``WWW-Authenticate: Basic``, Go's plain-text
    body; the right ones reach the app. Health endpoints are protected too, as in Prometheus."""
    client, _, _, _ = _client(tmp_path, f"basic_auth_users:\n  alice: '{_hash('s3cret')}'\n")
    for path in ("/", "/-/healthy"):
        for headers in (
            {},
            _auth("alice", "wrong"),
            _auth("bob", "s3cret"),
            {"Authorization": "Bearer x"},
        ):
            r = client.get(path, headers=headers)
            assert r.status_code == 401, (path, headers)
            assert r.headers["www-authenticate"] == "Basic"
            assert r.headers["content-type"] == "text/plain; charset=utf-8"
            assert r.text == "Unauthorized\n"
        assert client.get(path, headers=_auth("alice", "s3cret")).text == "hello"


def test_verified_credentials_are_cached_so_bcrypt_runs_once(tmp_path: Path) -> None:
    client, guard, _, _ = _client(tmp_path, f"basic_auth_users:\n  alice: '{_hash('pw')}'\n")
    for _ in range(5):
        assert client.get("/", headers=_auth("alice", "pw")).status_code == 200
        assert client.get("/", headers=_auth("alice", "nope")).status_code == 401
    assert guard.cache.checks == 2


def test_configured_headers_are_set_on_every_response_replacing_the_apps(tmp_path: Path) -> None:
    client, _, _, _ = _client(
        tmp_path,
        "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        "    Strict-Transport-Security: max-age=60\n"
        f"basic_auth_users:\n  alice: '{_hash('pw')}'\n",
    )
    for r in (client.get("/", headers=_auth("alice", "pw")), client.get("/")):
        assert r.headers["x-frame-options"] == "deny"
        assert r.headers["strict-transport-security"] == "max-age=60"
    assert client.get("/").status_code == 401


def test_a_changed_file_applies_after_the_check_interval(tmp_path: Path) -> None:
    client, guard, clock, path = _client(tmp_path, f"basic_auth_users:\n  alice: '{_hash('a')}'\n")
    assert client.get("/", headers=_auth("alice", "a")).status_code == 200
    path.write_text(f"basic_auth_users:\n  bob: '{_hash('b')}'\n")
    # Not looked at before the interval has passed...
    assert client.get("/", headers=_auth("alice", "a")).status_code == 200
    clock.now += CHECK_INTERVAL_S
    assert client.get("/", headers=_auth("alice", "a")).status_code == 401
    assert client.get("/", headers=_auth("bob", "b")).status_code == 200
    assert guard.source.reloads == 1


def test_a_broken_file_keeps_the_config_in_force(tmp_path: Path) -> None:
    client, guard, clock, path = _client(tmp_path, f"basic_auth_users:\n  alice: '{_hash('a')}'\n")
    path.write_text("basic_auth_users:\n  alice: not-a-hash-at-all\n")
    clock.now += CHECK_INTERVAL_S
    assert client.get("/", headers=_auth("alice", "a")).status_code == 200
    assert "hashedSecret too short" in guard.source.last_error
    assert client.get("/").status_code == 401


def test_basic_credentials_reads_what_go_reads() -> None:
    assert basic_credentials("Basic " + base64.b64encode(b"a:b:c").decode()) == ("a", "b:c")
    assert basic_credentials("basic " + base64.b64encode(b"a:").decode()) == ("a", "")
    assert basic_credentials("Basic " + base64.b64encode(b"nocolon").decode()) is None
    assert basic_credentials("Basic !!!") is None
    assert basic_credentials("Digest abc") is None


@given(st.text().filter(lambda u: ":" not in u), st.text())
def test_basic_credentials_round_trip(user: str, password: str) -> None:
    token = base64.b64encode(f"{user}:{password}".encode("utf-8", "surrogatepass")).decode()
    if any(0xD800 <= ord(c) <= 0xDFFF for c in user + password):
        return  # not encodable as UTF-8 in a real header
    assert basic_credentials(f"Basic {token}") == (user, password)


@pytest.mark.parametrize("header", ["", "Basic", "Basic ", "Basic ====", "Basic \u00e9"])
def test_malformed_headers_are_no_credentials(header: str) -> None:
    assert basic_credentials(header) is None
