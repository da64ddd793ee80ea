"""``--web-config-file`` on a real ``spyglass serve``: HTTPS with a certificate made for the
test, basic auth on every path, configured headers, a bad file refusing start-up with file, line
and field, and a real Prometheus (Debian's 2.42) scraping Spyglass's ``/metrics`` with
``scheme: https``, ``basic_auth`` and ``tls_config`` as a user would configure it."""

from __future__ import annotations

import contextlib
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import trustme
from tests.support.required import need_prometheus
from tests.support.servers import free_port, prometheus, spyglass_cmd, stop_process

USER, PASSWORD = "alice", "correct horse"


@dataclass
class Secured:
    url: str
    ca_file: Path
    web_file: Path
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, **kw: Any) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.ca_file))
        return httpx.Client(base_url=self.url, verify=trust, timeout=10, **kw)


def _web_config(tmp: Path, password: str) -> str:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    return (
        "tls_server_config:\n"
        "  cert_file: server.crt\n"
        "  key_file: server.key\n"
        "  min_version: TLS12\n"
        "http_server_config:\n"
        "  headers:\n"
        "    Strict-Transport-Security: max-age=31536000\n"
        f"basic_auth_users:\n  {USER}: '{hashed}'\n"
    )


@contextlib.contextmanager
def _serve(tmp: Path, *args: str) -> Iterator[Secured]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(tmp / "server.crt"))
    cert.private_key_pem.write_to_path(str(tmp / "server.key"))
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    web = tmp / "web.yml"
    web.write_text(_web_config(tmp, PASSWORD))
    port = free_port()
    log = tmp / "spyglass.log"
    cmd = spyglass_cmd(tmp / "data", port, "--web-config-file", str(web), *args)
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = Secured(f"https://127.0.0.1:{port}", tmp / "ca.pem", web, process, log)
    try:
        deadline = time.monotonic() + 60
        with server.client(auth=(USER, PASSWORD)) as c:
            while True:
                assert process.poll() is None, log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if c.get("/-/ready").status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield server
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    with _serve(tmp_path_factory.mktemp("secured")) as server:
        yield server


def test_every_path_needs_the_credentials_over_https(secured: Secured) -> None:
    paths = ["/-/healthy", "/-/ready", "/metrics", "/api/v1/query?query=1", "/federate", "/"]
    with secured.client() as anonymous, secured.client(auth=(USER, "wrong")) as wrong:
        for path in paths:
            for c in (anonymous, wrong):
                r = c.get(path)
                assert r.status_code == 401, path
                assert r.headers["www-authenticate"] == "Basic"
                assert r.headers["strict-transport-security"] == "max-age=31536000"
    with secured.client(auth=(USER, PASSWORD)) as ok:
        for path in paths:
            r = ok.get(path)
            assert r.status_code == 200, (path, r.text[:200])
            assert r.headers["strict-transport-security"] == "max-age=31536000"
        assert ok.get("/api/v1/query", params={"query": "1+1"}).json()["data"]["result"][1] == "2"


def test_plain_http_and_untrusted_certificates_are_refused(secured: Secured) -> None:
    plain = secured.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(plain + "/-/healthy", auth=(USER, PASSWORD), timeout=5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(secured.url + "/-/healthy", auth=(USER, PASSWORD), timeout=5)


def test_a_reload_applies_new_credentials(secured: Secured) -> None:
    original = secured.web_file.read_text()
    try:
        secured.web_file.write_text(_web_config(secured.web_file.parent, "new password"))
        secured.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        with secured.client(auth=(USER, "new password")) as c:
            while c.get("/-/healthy").status_code != 200:
                assert time.monotonic() < deadline, secured.log.read_text()[-2000:]
                time.sleep(0.2)
        with secured.client(auth=(USER, PASSWORD)) as old:
            assert old.get("/-/healthy").status_code == 401
    finally:
        secured.web_file.write_text(original)
        secured.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        with secured.client(auth=(USER, PASSWORD)) as c:
            while c.get("/-/healthy").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.2)


@pytest.mark.prometheus
def test_prometheus_scrapes_spyglass_over_https_with_basic_auth(
    tmp_path: Path, secured: Secured
) -> None:
    need_prometheus()
    target = secured.url.removeprefix("https://")
    config = (
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: spyglass\n"
        "    scheme: https\n"
        f"    basic_auth: {{username: {USER}, password: '{PASSWORD}'}}\n"
        f"    tls_config: {{ca_file: '{secured.ca_file}'}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
        "  - job_name: spyglass-no-auth\n"
        "    scheme: https\n"
        f"    tls_config: {{ca_file: '{secured.ca_file}'}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    with prometheus(tmp_path / "prom", config) as prom:
        deadline = time.monotonic() + 60
        while True:
            targets = httpx.get(prom.url + "/api/v1/targets", timeout=10).json()["data"]
            health = {t["labels"]["job"]: t for t in targets["activeTargets"]}
            if all(t["health"] != "unknown" for t in health.values()) and len(health) == 2:
                break
            assert time.monotonic() < deadline, health
            time.sleep(0.3)
        assert health["spyglass"]["health"] == "up", health["spyglass"]["lastError"]
        assert health["spyglass-no-auth"]["health"] == "down"
        assert "401" in health["spyglass-no-auth"]["lastError"]
        r = httpx.get(
            prom.url + "/api/v1/query",
            params={"query": 'count({job="spyglass",__name__=~"spyglass_.+"})'},
            timeout=10,
        ).json()
        assert int(r["data"]["result"][0]["value"][1]) > 10


def test_a_bad_web_config_stops_start_up_naming_file_line_and_field(tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text("tls_server_config:\n  cert_file: server.crt\n")
    cmd = spyglass_cmd(tmp_path / "data", free_port(), "--web-config-file", str(web))
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"cannot start: {web}:2: tls_server_config: missing one of key or key_file" in (
        done.stderr + done.stdout
    )
