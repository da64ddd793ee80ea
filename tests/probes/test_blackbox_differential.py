"""Spyglass's ``/probe`` against Debian's real blackbox exporter, on the same loopback targets.

Both get the same ``blackbox.yml``; for each (module, target) both are asked, and the series
they answer must be the same: the same names and labels, and the same values for every gauge
that does not measure time (status code, lengths, redirects, TLS version, certificate expiry,
address hash, success). Targets: a server that is up, one that is down, one too slow for the
module's timeout, one answering 500, a redirect, a body regex that fails, HTTPS with an
untrusted certificate, HTTPS with a trusted certificate about to expire, TCP up/down and a
banner dialogue, and DNS against a small loopback DNS server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import dns.message
import dns.rrset
import httpx
import pytest
import trustme
from prometheus_client.parser import text_string_to_metric_families
from tests.support.required import need_tool
from tests.support.servers import LoopbackHTTP, QuietHandler, free_port, spyglass, started

# Gauges that measure time: both must have them, their values differ run to run.
TIMED = {
    "probe_duration_seconds",
    "probe_dns_lookup_time_seconds",
    "probe_http_duration_seconds",
    "probe_dns_duration_seconds",
}


class Handler(QuietHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(2.5)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 500 if self.path == "/error" else 200
        body = b"all systems nominal\n" if status == 200 else b"broken\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", "Wed, 21 Oct 2026 07:28:00 GMT")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the probe gave up on /slow, as it should
            self.wfile.write(body)


class TLSServer:
    """An HTTPS server on loopback with a certificate from ``ca`` (or a self-signed one)."""

    def __init__(self, cert: trustme.LeafCert) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(ctx)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Banner:
    """A TCP server that greets with an SSH-like banner and reads one line back."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                conn.settimeout(0.5)  # then close: an expect that never matches sees EOF
                with contextlib.suppress(OSError):
                    conn.recv(100)

    def close(self) -> None:
        self.sock.close()


class DNSServer:
    """A UDP DNS server on loopback: ``app.test. A 127.0.0.7``, NXDOMAIN for anything else."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            name = query.question[0].name.to_text()
            if name == "app.test.":
                reply.answer.append(dns.rrset.from_text(name, 300, "IN", "A", "127.0.0.7"))
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    ca = trustme.CA()
    tmp = tmp_path_factory.mktemp("blackbox")
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    expiring = ca.issue_cert("127.0.0.1", "localhost", not_after=soon)
    untrusted = trustme.CA().issue_cert("127.0.0.1", "localhost")
    http = LoopbackHTTP(Handler)
    tls_ok, tls_bad = TLSServer(expiring), TLSServer(untrusted)
    banner, dns_server = Banner(), DNSServer()
    try:
        yield {
            "http": http.base_url,
            "down": f"http://127.0.0.1:{free_port()}",
            "tls_ok": tls_ok.url,
            "tls_bad": tls_bad.url,
            "ca": str(tmp / "ca.pem"),
            "banner": f"127.0.0.1:{banner.port}",
            "dns": f"127.0.0.1:{dns_server.port}",
            "tcp_down": f"127.0.0.1:{free_port()}",
            "dir": str(tmp),
        }
    finally:
        for server in (http, tls_ok, tls_bad, banner, dns_server):
            server.close()


def blackbox_yml(ca: str) -> str:
    return f"""
modules:
  http_2xx: {{prober: http, timeout: 5s}}
  http_fast: {{prober: http, timeout: 1s}}
  http_body:
    prober: http
    timeout: 5s
    http: {{fail_if_body_not_matches_regexp: ["healthy"]}}
  http_no_redirect:
    prober: http
    timeout: 5s
    http: {{follow_redirects: false}}
  http_tls:
    prober: http
    timeout: 5s
    http: {{tls_config: {{ca_file: {ca}}}}}
  http_tls_insecure:
    prober: http
    timeout: 5s
    http: {{tls_config: {{insecure_skip_verify: true}}}}
  tcp_connect: {{prober: tcp, timeout: 5s}}
  tcp_tls:
    prober: tcp
    timeout: 5s
    tcp: {{tls: true, tls_config: {{ca_file: {ca}}}}}
  ssh_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^SSH-2.0-"
        - send: "SSH-2.0-blackbox-ssh-check"
  ssh_banner_wrong:
    prober: tcp
    timeout: 2s
    tcp:
      query_response:
        - expect: "^SMTP"
  dns_a:
    prober: dns
    timeout: 5s
    dns:
      query_name: app.test
      query_type: A
      transport_protocol: udp
      validate_answer_rrs:
        fail_if_not_matches_regexp: ["app\\\\.test\\\\.\\t300\\tIN\\tA\\t127\\\\.0\\\\.0\\\\.7"]
  dns_nx:
    prober: dns
    timeout: 5s
    dns: {{query_name: nothing.test, query_type: A}}
"""


def cases(t: dict[str, str]) -> list[tuple[str, str]]:
    tls_ok_port = t["tls_ok"].rsplit(":", 1)[1]
    return [
        ("http_2xx", t["http"] + "/"),
        ("http_2xx", t["down"]),
        ("http_fast", t["http"] + "/slow"),
        ("http_2xx", t["http"] + "/error"),
        ("http_2xx", t["http"] + "/redirect"),
        ("http_no_redirect", t["http"] + "/redirect"),
        ("http_body", t["http"] + "/"),
        ("http_2xx", t["tls_bad"] + "/"),
        ("http_tls", t["tls_ok"] + "/"),
        ("http_tls_insecure", t["tls_bad"] + "/"),
        ("tcp_connect", t["banner"]),
        ("tcp_connect", t["tcp_down"]),
        ("tcp_tls", f"127.0.0.1:{tls_ok_port}"),
        ("ssh_banner", t["banner"]),
        ("ssh_banner_wrong", t["banner"]),
        ("dns_a", t["dns"]),
        ("dns_nx", t["dns"]),
    ]


def test_probe_answers_match_the_blackbox_exporter(targets: dict[str, str], tmp_path: Path) -> None:
    """Every (module, target) gives the same series, and the same untimed values, from both."""
    exporter = need_tool(
        "prometheus-blackbox-exporter",
        "install Debian's prometheus-blackbox-exporter package (scripts/test does it as root)",
    )
    config = tmp_path / "blackbox.yml"
    config.write_text(blackbox_yml(targets["ca"]))
    port = free_port()
    cmd = [exporter, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"]
    with (
        started(cmd, f"http://127.0.0.1:{port}", "/-/healthy", tmp_path / "blackbox.log") as bb,
        spyglass(tmp_path / "data", "--probes-config-file", str(config)) as sg,
    ):
        mismatches = []
        for module, target in cases(targets):
            params = {"module": module, "target": target}
            theirs = parse(httpx.get(bb.url + "/probe", params=params, timeout=30).text)
            ours = parse(httpx.get(sg.url + "/probe", params=params, timeout=30).text)
            if set(theirs) != set(ours):
                mismatches.append(
                    f"{module} {target}: only blackbox {sorted(set(theirs) - set(ours))}, "
                    f"only spyglass {sorted(set(ours) - set(theirs))}"
                )
                continue
            for key, value in theirs.items():
                if key[0] not in TIMED and value != ours[key]:
                    mismatches.append(
                        f"{module} {target}: {key} blackbox {value} spyglass {ours[key]}"
                    )
        assert mismatches == [], "\n".join(mismatches)
        # Requests the exporter refuses are refused the same way.
        for params in (
            {"module": "nope", "target": targets["http"]},
            {"module": "http_2xx"},
        ):
            theirs_r = httpx.get(bb.url + "/probe", params=params, timeout=30)
            ours_r = httpx.get(sg.url + "/probe", params=params, timeout=30)
            assert (ours_r.status_code, ours_r.text) == (theirs_r.status_code, theirs_r.text)
