"""The HTTP prober: one request (and its redirects), judged as the blackbox exporter judges it.

Success is a 2xx status (or one of ``valid_status_codes``), then the header and body regexes,
the HTTP version, and ``fail_if_ssl``/``fail_if_not_ssl``; the gauges are the exporter's, with
``probe_http_duration_seconds`` split into the phases resolve, connect, tls, processing and
transfer, summed over redirects. As the exporter does, the name is resolved once
(``preferred_ip_protocol``) and the request goes to that address with the original ``Host``
header and TLS server name; redirects are followed up to 10 times unless
``follow_redirects: false``, and a redirect not followed still counts in
``probe_http_redirects``. Requests ask for gzip and read it transparently (then the content length
is unknown, -1), as Go's HTTP client does when no ``Accept-Encoding`` is set.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import ssl
import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import brotli  # type: ignore[import-untyped]  # no stubs published
import httpx

from spyglass.core.version import __version__
from spyglass.probes._config import HTTPProbe, Module
from spyglass.probes._resolve import choose_address
from spyglass.probes._result import ProbeResult
from spyglass.probes._tls import client_context, peer_tls, record_tls

USER_AGENT = f"Spyglass/{__version__} (blackbox prober)"
MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(slots=True)
class _Trace:
    """Times of one round trip (perf_counter seconds; 0: did not happen)."""

    tls: bool
    start: float = 0.0
    dns_done: float = 0.0
    connect_done: float = 0.0
    got_conn: float = 0.0
    tls_start: float = 0.0
    tls_done: float = 0.0
    response_start: float = 0.0
    end: float = 0.0

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if event == "connection.connect_tcp.started" and not self.dns_done:
            self.start = self.dns_done = now  # connected to an address: no DNS phase
        elif event == "connection.connect_tcp.complete":
            self.connect_done = self.got_conn = now
        elif event == "connection.start_tls.started":
            self.tls_start = now
        elif event == "connection.start_tls.complete":
            self.tls_done = self.got_conn = now
        elif event == "http11.receive_response_headers.complete":
            self.response_start = now


async def probe_http(result: ProbeResult, target: str, module: Module, timeout_s: float) -> bool:
    """Probe ``target`` (a URL; ``http://`` is added when it has no scheme)."""
    cfg = module.http
    durations = result.gauge(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
        plain=False,
    )
    content_length = result.gauge("probe_http_content_length", "Length of http content response")
    body_length = result.gauge(
        "probe_http_uncompressed_body_length", "Length of uncompressed response body"
    )
    redirects_gauge = result.gauge("probe_http_redirects", "The number of redirects")
    is_ssl = result.gauge("probe_http_ssl", "Indicates if SSL was used for the final redirect")
    status_gauge = result.gauge("probe_http_status_code", "Response HTTP status code")
    version_gauge = result.gauge(
        "probe_http_version", "Returns the version of HTTP of the probe response"
    )
    regex_gauge = result.gauge(
        "probe_failed_due_to_regex", "Indicates if probe failed due to regex"
    )

    if not target.startswith(("http://", "https://")):
        target = "http://" + target
    try:
        url = urlsplit(target)
        host, port = url.hostname or "", url.port
    except ValueError as exc:
        result.error("Could not parse target URL", err=str(exc))
        return False
    address, lookup = await choose_address(
        result, host, cfg.preferred_ip_protocol, cfg.ip_protocol_fallback
    )
    durations.add(lookup, (("phase", "resolve"),))
    if address is None:
        result.error("Error resolving address")
        return False
    for phase in ("connect", "tls", "processing", "transfer"):
        durations.touch((("phase", phase),))

    headers = dict(cfg.headers)
    host_header = next((v for k, v in headers.items() if k.lower() == "host"), url.netloc)
    server_name = cfg.tls.server_name or (
        host_header.rsplit(":", 1)[0] if any(k.lower() == "host" for k in headers) else host
    )
    ip_host = f"[{address}]" if ":" in address else address
    first_url = urlunsplit(
        (url.scheme, f"{ip_host}:{port}" if port else ip_host, url.path, url.query, "")
    )
    ctx = client_context(cfg.tls)
    traces: list[_Trace] = []
    success = False
    redirects = 0
    status = 0
    length = 0.0
    body_bytes = 0
    version = 0.0
    final_tls = None
    method, body = cfg.method, cfg.body.encode()
    current = first_url
    request_errored = False
    async with httpx.AsyncClient(
        verify=ctx, timeout=timeout_s, follow_redirects=False, trust_env=False,
        proxy=cfg.proxy_url or None,
    ) as client:  # fmt: skip
        response: httpx.Response | None = None
        while True:
            trace = _Trace(tls=current.startswith("https://"))
            trace.start = time.perf_counter()
            traces.append(trace)
            same_host = urlsplit(current).netloc == urlsplit(first_url).netloc
            request = client.build_request(
                method,
                current,
                content=body or None,
                headers=_request_headers(cfg, host_header if same_host else None),
                extensions={"trace": trace, **({"sni_hostname": server_name} if same_host else {})},
            )
            result.info("Making HTTP request", url=current, host=request.headers.get("host", ""))
            try:
                response = await client.send(request, stream=True)
            except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
                result.error("Error for HTTP request", err=str(exc) or type(exc).__name__)
                response = None
                break
            if response.status_code in _REDIRECTS and "location" in response.headers:
                result.info("Received redirect", location=response.headers["location"])
                redirects = len(traces)
                if redirects > MAX_REDIRECTS or not cfg.follow_redirects:
                    result.info("Not following redirect")
                    request_errored = True
                    break
                await response.aclose()
                current = urljoin(current, response.headers["location"])
                if response.status_code in (301, 302, 303) and method != "HEAD":
                    method, body = "GET", b""
                continue
            break
        if response is not None:
            try:
                status = response.status_code
                result.info("Received HTTP response", status_code=status)
                success = _status_ok(cfg, status, result)
                if success and (cfg.fail_if_header_matches or cfg.fail_if_header_not_matches):
                    success = _headers_ok(cfg, response.headers, result)
                    regex_gauge.set(0 if success else 1)
                stream = response.extensions.get("network_stream")
                ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
                if ssl_object is not None:
                    final_tls = peer_tls(ssl_object, ctx)
                raw_length = response.headers.get("content-length", "")
                length = float(raw_length) if raw_length.isdigit() else -1.0
                if not request_errored:
                    data, ok = await _read_body(response, cfg, result)
                    success = success and ok
                    if response.headers.get("content-encoding", "").lower() == "gzip" and not (
                        cfg.compression or _asks_encoding(cfg)
                    ):
                        length = -1.0  # Go's transparent gzip: the length is not known
                    body_bytes = len(data)
                    if success and (
                        cfg.fail_if_body_matches_regexp or cfg.fail_if_body_not_matches_regexp
                    ):
                        success = _body_ok(cfg, data, result)
                        regex_gauge.set(0 if success else 1)
                traces[-1].end = time.perf_counter()
                modified = response.headers.get("last-modified")
                if modified:
                    try:
                        when = email.utils.parsedate_to_datetime(modified)
                        result.gauge(
                            "probe_http_last_modified_timestamp_seconds",
                            "Returns the Last-Modified HTTP response header in unixtime",
                        ).set(int(when.timestamp()))
                    except (TypeError, ValueError):
                        pass
                proto = response.http_version
                version = float(proto.removeprefix("HTTP/")) if proto.startswith("HTTP/") else 0.0
                if cfg.valid_http_versions and proto not in cfg.valid_http_versions:
                    result.error("Invalid HTTP version number", version=proto)
                    success = False
            finally:
                await response.aclose()

    for t in traces:
        if t.got_conn == 0:
            continue
        if t.tls:
            durations.add(t.connect_done - t.dns_done, (("phase", "connect"),))
            durations.add(t.tls_done - t.tls_start, (("phase", "tls"),))
        else:
            durations.add(t.got_conn - t.dns_done, (("phase", "connect"),))
        if t.response_start == 0:
            continue
        durations.add(t.response_start - t.got_conn, (("phase", "processing"),))
        if t.end == 0:
            continue
        durations.add(t.end - t.response_start, (("phase", "transfer"),))
    if final_tls is not None:
        is_ssl.set(1)
        record_tls(result, final_tls)
        if cfg.fail_if_ssl:
            result.error("Final request was over SSL")
            success = False
    elif cfg.fail_if_not_ssl:
        result.error("Final request was not over SSL")
        success = False
    status_gauge.set(status)
    content_length.set(length if response is not None else 0)
    body_length.set(body_bytes)
    redirects_gauge.set(redirects)
    version_gauge.set(version)
    return success


def _asks_encoding(cfg: HTTPProbe) -> bool:
    return any(k.lower() == "accept-encoding" for k, _ in cfg.headers)


def _request_headers(cfg: HTTPProbe, host: str | None) -> dict[str, str]:
    headers = {k: v for k, v in cfg.headers if k.lower() != "host"}
    if host is not None:
        headers["Host"] = host
    if not any(k.lower() == "user-agent" for k in headers):
        headers["User-Agent"] = USER_AGENT
    if not _asks_encoding(cfg):
        headers["Accept-Encoding"] = "identity" if cfg.compression else "gzip"
    headers.setdefault("Accept", "*/*")
    if cfg.basic_auth is not None:
        user, password = cfg.basic_auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif cfg.authorization is not None:
        headers["Authorization"] = f"{cfg.authorization[0]} {cfg.authorization[1]}"
    elif cfg.bearer_token:
        headers["Authorization"] = f"Bearer {cfg.bearer_token}"
    return headers


def _status_ok(cfg: HTTPProbe, status: int, result: ProbeResult) -> bool:
    if cfg.valid_status_codes:
        if status in cfg.valid_status_codes:
            return True
        result.info("Invalid HTTP response status code", status_code=status)
        return False
    if 200 <= status < 300:
        return True
    result.info("Invalid HTTP response status code, wanted 2xx", status_code=status)
    return False


def _headers_ok(cfg: HTTPProbe, headers: httpx.Headers, result: ProbeResult) -> bool:
    for m in cfg.fail_if_header_matches:
        values = headers.get_list(m.header)
        if not values:
            if not m.allow_missing:
                result.error("Missing required header", header=m.header)
                return False
            continue
        if any(m.regexp.search(v) for v in values):
            result.error("Header matched regular expression", header=m.header, regexp=m.regexp.text)
            return False
    for m in cfg.fail_if_header_not_matches:
        values = headers.get_list(m.header)
        if not values:
            if not m.allow_missing:
                result.error("Missing required header", header=m.header)
                return False
            continue
        if not any(m.regexp.search(v) for v in values):
            result.error("Header did not match regular expression", header=m.header,
                         regexp=m.regexp.text)  # fmt: skip
            return False
    return True


def _body_ok(cfg: HTTPProbe, body: bytes, result: ProbeResult) -> bool:
    for rx in cfg.fail_if_body_matches_regexp:
        if rx.search(body):
            result.error("Body matched regular expression", regexp=rx.text)
            return False
    for rx in cfg.fail_if_body_not_matches_regexp:
        if not rx.search(body):
            result.error("Body did not match regular expression", regexp=rx.text)
            return False
    return True


async def _read_body(
    response: httpx.Response, cfg: HTTPProbe, result: ProbeResult
) -> tuple[bytes, bool]:
    """The body as the exporter counts it, and whether reading it went well."""
    chunks = []
    try:
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
    except httpx.HTTPError as exc:
        result.info("Failed to read HTTP response body", err=str(exc))
        return b"".join(chunks), False
    raw = b"".join(chunks)
    encoding = response.headers.get("content-encoding", "").lower()
    algorithm = cfg.compression or (
        "gzip" if encoding == "gzip" and not _asks_encoding(cfg) else ""
    )
    try:
        data = _decompress(algorithm, raw)
    except (OSError, EOFError, zlib.error, brotli.error) as exc:
        result.info("Failed to get decompressor for HTTP response body", err=str(exc))
        return raw, False
    if cfg.body_size_limit and len(data) > cfg.body_size_limit:
        result.info("Failed to read HTTP response body", err="http: request body too large")
        return data[: cfg.body_size_limit], False
    return data, True


def _decompress(algorithm: str, raw: bytes) -> bytes:
    if algorithm == "gzip":
        return gzip.decompress(raw)
    if algorithm == "deflate":
        return zlib.decompress(raw, -zlib.MAX_WBITS)
    if algorithm == "br":
        return bytes(brotli.decompress(raw))
    return raw


__all__ = ["USER_AGENT", "probe_http"]
