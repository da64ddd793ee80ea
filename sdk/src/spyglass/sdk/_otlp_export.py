"""The SDK's OTLP/HTTP protobuf sender, configured by OpenTelemetry's variables, and its span
exporter.

``OtlpHttp`` sends one signal's export requests under the OTLP exporter spec's rules: the
``OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]*`` variables for headers, timeout, compression and TLS
files (the endpoint's are read by ``traces_endpoint`` and ``logs_endpoint``), arguments over
variables; retries with exponential backoff on 429, 502, 503, 504 and connection errors,
honouring ``Retry-After``, all within the export timeout; nothing raised into the application.
``OtlpSpanExporter`` sends what OpenTelemetry's ``OTLPSpanExporter`` sends through it; it
exists for its cost: spans are encoded by ``_otlp_wire``, in a third of OpenTelemetry's
encoder's time. The log shipper (``_log_export``) sends through it too.

A collector that is down is logged once, then once a minute while it stays down, rather than
on every batch.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import random
import socket
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from http.client import HTTPConnection, HTTPException
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spyglass.sdk._otlp_wire import encode_spans

_log = logging.getLogger("spyglass.sdk.tracing")


def signal_envs(signal: str, setting: str) -> tuple[str, str]:
    """OpenTelemetry's variables for one setting of one signal's exporter, the signal's own
    first: ``("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")``."""
    return f"OTEL_EXPORTER_OTLP_{signal.upper()}_{setting}", f"OTEL_EXPORTER_OTLP_{setting}"


HEADERS_ENVS = signal_envs("traces", "HEADERS")
TIMEOUT_ENVS = signal_envs("traces", "TIMEOUT")
COMPRESSION_ENVS = signal_envs("traces", "COMPRESSION")
CERTIFICATE_ENVS = signal_envs("traces", "CERTIFICATE")
CLIENT_KEY_ENVS = signal_envs("traces", "CLIENT_KEY")
CLIENT_CERTIFICATE_ENVS = signal_envs("traces", "CLIENT_CERTIFICATE")
# Without a timeout set, 5 s rather than OpenTelemetry's 10 s: a collector that is down then
# holds up an application's shutdown flush for less.
DEFAULT_TIMEOUT = 5.0
COMPRESSIONS = ("none", "gzip", "deflate")
USER_AGENT = "spyglass-sdk-otlp-exporter"
_RETRYABLE = frozenset((429, 502, 503, 504))
_MAX_ATTEMPTS = 6
_JITTER = 0.2
_QUIET_SECONDS = 60.0
_NOUNS = {"traces": "spans", "logs": "log records"}


def _env(names: Sequence[str]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def parse_headers(text: str) -> dict[str, str]:
    """``key=value`` pairs separated by commas, percent-encoded, as the OTLP variables hold them.

    Names are lowercased; a pair without ``=`` or with an empty name is skipped with a warning.
    """
    headers = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        name, sep, value = pair.partition("=")
        name = unquote(name).strip().lower()
        if not sep or not name:
            _log.warning("ignoring OTLP header %r: not name=value", pair.strip())
            continue
        headers[name] = unquote(value).strip()
    return headers


def _timeout(given: float | None, envs: Sequence[str] = TIMEOUT_ENVS) -> float:
    if given is not None:
        return float(given)
    raw = _env(envs)
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        return float(raw)
    except ValueError:
        _log.warning("invalid OTLP timeout %r: using %s s", raw, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT


def _compression(given: str | None, envs: Sequence[str] = COMPRESSION_ENVS) -> str:
    value = (given or _env(envs) or "none").strip().lower()
    if value not in COMPRESSIONS:
        _log.warning("unsupported OTLP compression %r: sending uncompressed", value)
        return "none"
    return value


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


class _Unreachable(Exception):
    """The collector could not be reached, or the connection broke: worth a new connection."""


class _PostFailed(Exception):
    """A POST failed in a way retrying does not mend; the message says how."""


class _Post(Protocol):
    """POSTs an export body: (status, Retry-After header or None, body text), or raises
    ``_Unreachable`` or ``_PostFailed``."""

    def __call__(self, body: bytes, timeout: float) -> tuple[int, str | None, str]: ...

    def close(self) -> None: ...


class _RequestsPost:
    """POST through a requests session: what the endpoint needs beyond plain HTTP on a direct
    connection (TLS, a proxy, credentials), or a session the caller passed in."""

    def __init__(self, session: Any, url: str, **options: Any) -> None:
        import requests  # noqa: PLC0415 - only when spans are exported

        self._session = session
        self._url = url
        self._options = options
        self._tls_error = requests.exceptions.SSLError
        self._connection_error = requests.exceptions.ConnectionError
        self._request_error = requests.exceptions.RequestException

    def __call__(self, body: bytes, timeout: float) -> tuple[int, str | None, str]:
        try:
            response = self._session.post(self._url, data=body, timeout=timeout, **self._options)
        except self._tls_error as exc:
            # A certificate does not come right by retrying.
            raise _PostFailed(f"TLS: {exc}") from exc
        except self._connection_error as exc:
            raise _Unreachable(str(exc)) from exc
        except self._request_error as exc:
            raise _PostFailed(f"request failed: {exc}") from exc
        return response.status_code, response.headers.get("retry-after"), response.text

    def close(self) -> None:
        self._session.close()


def checked_endpoint(url: str, signal: str = "traces") -> str:
    """``url`` when it can be an OTLP/HTTP endpoint (an ``http://`` or ``https://`` URL with a
    host and a valid port), else ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is no number in range
    except ValueError as exc:
        raise ValueError(f"the OTLP {signal} endpoint {url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(
            f"the OTLP {signal} endpoint {url!r} is not an http:// or https:// URL with a host"
        )
    return url


def _direct_target(url: str, proxies: Any, auth: Any) -> tuple[str, int, str] | None:
    """(host, port, request target) when ``url`` is plain HTTP reached without a proxy or
    credentials, the usual local collector or sidecar; else None."""
    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError:  # a port that is no number, a broken IPv6 host: requests says so
        return None
    if parts.scheme != "http" or proxies or auth or parts.username or parts.password:
        return None
    if not parts.hostname:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, target


class _DirectPost:
    """POST over one kept-alive ``http.client`` connection.

    requests costs about 1 ms more CPU a POST than ``http.client`` (1.0-1.5 against 0.3 ms in
    the sending thread, measured 2026-12-03), and the export thread runs in the application's
    process.
    """

    def __init__(self, host: str, port: int, target: str, *, headers: Mapping[str, str]) -> None:
        self._host = host
        self._port = port
        self._target = target
        self._headers = dict(headers)
        self._connection: HTTPConnection | None = None
        # force_flush() may export from another thread than the batch processor's.
        self._lock = threading.Lock()

    def __call__(self, body: bytes, timeout: float) -> tuple[int, str | None, str]:
        with self._lock:
            connection = self._connection
            if connection is None or connection.sock is None:
                connection = self._connection = HTTPConnection(
                    self._host, self._port, timeout=timeout
                )
                try:
                    connection.connect()
                except OSError as exc:
                    self._drop()
                    raise _Unreachable(str(exc) or type(exc).__name__) from exc
            else:
                connection.sock.settimeout(timeout)
            try:
                connection.request("POST", self._target, body=body, headers=self._headers)
                response = connection.getresponse()
                text = response.read()
            except TimeoutError as exc:
                self._drop()
                raise _PostFailed(f"request failed: timed out after {timeout:.3g} s") from exc
            except (OSError, HTTPException) as exc:
                # A kept-alive connection the collector closed (RemoteDisconnected, a reset or
                # a broken pipe), or a collector that does not speak HTTP.
                self._drop()
                raise _Unreachable(str(exc) or type(exc).__name__) from exc
            # A response that closes the connection has already dropped it from ``connection``
            # (its socket is None): the next POST connects anew.
            return response.status, response.getheader("retry-after"), text.decode(errors="replace")

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        if self._lock.acquire(blocking=False):
            try:
                self._drop()
            finally:
                self._lock.release()
            return
        # A POST is waiting for a collector that does not answer, holding the lock: shut its
        # socket so it returns now rather than at its timeout (it then drops the connection).
        connection = self._connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class OtlpHttp:
    """Sends one signal's OTLP/HTTP protobuf export requests to ``endpoint`` (its full URL).

    ``signal`` (``traces``, ``logs``) picks the ``OTEL_EXPORTER_OTLP_<SIGNAL>_*`` variables
    read before the general ones. ``send`` never raises; ``failed`` logs a failure at most once
    a minute while they go on.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        signal: str = "traces",
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
        certificate_file: str | None = None,
        client_key_file: str | None = None,
        client_certificate_file: str | None = None,
        session: Any = None,
    ) -> None:
        import requests  # noqa: PLC0415 - only when something is exported

        self.signal = signal
        self.endpoint = checked_endpoint(endpoint, signal)
        self.timeout = _timeout(timeout, signal_envs(signal, "TIMEOUT"))
        self.compression = _compression(compression, signal_envs(signal, "COMPRESSION"))
        self.headers = {
            "content-type": "application/x-protobuf",
            "user-agent": USER_AGENT,
            **parse_headers(_env(signal_envs(signal, "HEADERS")) or ""),
            **{name.lower(): value for name, value in (headers or {}).items()},
        }
        if self.compression != "none":
            self.headers["content-encoding"] = self.compression
        verify: bool | str = certificate_file or _env(signal_envs(signal, "CERTIFICATE")) or True
        cert = client_certificate_file or _env(signal_envs(signal, "CLIENT_CERTIFICATE"))
        key = client_key_file or _env(signal_envs(signal, "CLIENT_KEY"))
        client_cert = (cert, key) if cert and key else cert
        proxies: Any = None
        auth: Any = None
        own_session = session is None
        if session is None:
            session = requests.Session()
            # requests reads the proxy, CA bundle and netrc settings of the environment again on
            # every request (about 0.8 ms of CPU a POST, in the application's process): read
            # them once, here, and send with them.
            settings = session.merge_environment_settings(endpoint, {}, None, verify, client_cert)
            proxies, verify = settings["proxies"], settings["verify"]
            auth = requests.utils.get_netrc_auth(endpoint)
            session.trust_env = False
        direct = _direct_target(endpoint, proxies, auth) if own_session else None
        self._post: _Post
        if direct is not None:
            session.close()
            self._post = _DirectPost(*direct, headers=self.headers)
        else:
            self._post = _RequestsPost(
                session,
                endpoint,
                headers=self.headers,
                verify=verify,
                cert=client_cert,
                proxies=proxies,
                auth=auth,
            )
        self._stop = threading.Event()
        self._failing = False
        self._next_failure_log = 0.0

    @property
    def stopped(self) -> bool:
        """Whether ``close`` was called."""
        return self._stop.is_set()

    def send(self, data: bytes) -> str | None:
        """Compress and POST one export request; None when it was taken, else what went
        wrong (after the retries the spec allows). Never raises."""
        try:
            body = self._compress(data)
        except Exception as exc:  # noqa: BLE001 - the batch is lost, the application goes on
            return f"cannot compress: {exc}"
        error = self._send(body)
        if error is None:
            if self._failing:
                _log.info("%s are exported to %s again", _NOUNS.get(self.signal), self.endpoint)
            self._failing = False
            self._next_failure_log = 0.0
        return error

    def _compress(self, data: bytes) -> bytes:
        if self.compression == "gzip":
            return gzip.compress(data, compresslevel=6, mtime=0)
        if self.compression == "deflate":
            return zlib.compress(data)
        return data

    def _send(self, body: bytes) -> str | None:
        """POST ``body`` until it is taken or the deadline passes; None, or what went wrong."""
        deadline = time.monotonic() + self.timeout
        retries = 0
        reconnected = False
        while True:
            if self._stop.is_set():  # closed while a POST was under way
                return "shut down"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timed out"
            wait = 2**retries * random.uniform(1 - _JITTER, 1 + _JITTER)
            try:
                code, retry_after, text = self._post(body, remaining)
            except _Unreachable as exc:
                if not reconnected:
                    # Most often a kept-alive connection the collector closed: a new one, now.
                    reconnected = True
                    continue
                error = f"cannot connect: {exc}"
            except _PostFailed as exc:
                return str(exc)
            else:
                if 200 <= code < 300:
                    return None
                error = f"HTTP {code}: {text[:200]!r}"
                if code not in _RETRYABLE:
                    return error
                after = _retry_after(retry_after)
                if after is not None:
                    wait = after
            retries += 1
            if retries == _MAX_ATTEMPTS or wait > deadline - time.monotonic():
                return error
            if self._stop.wait(wait):
                return f"{error} (shut down while waiting to retry)"

    def failed(self, what: str, error: str) -> None:
        """Log that ``what`` (``3 spans``) could not be exported, at most once a minute."""
        self._failing = True
        now = time.monotonic()
        if now < self._next_failure_log:
            return
        self._next_failure_log = now + _QUIET_SECONDS
        _log.warning(
            "cannot export %s to %s: %s (logged at most once a minute while it fails)",
            what,
            self.endpoint,
            error,
        )

    def close(self) -> None:
        """Stop: a retry that is waiting gives up; the connection is closed."""
        self._stop.set()
        self._post.close()


class OtlpSpanExporter(SpanExporter):
    """A span exporter sending OTLP/HTTP protobuf to ``endpoint`` (the full traces URL)."""

    def __init__(
        self,
        endpoint: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        compression: str | None = None,
        certificate_file: str | None = None,
        client_key_file: str | None = None,
        client_certificate_file: str | None = None,
        session: Any = None,
    ) -> None:
        self._http = OtlpHttp(
            endpoint,
            signal="traces",
            headers=headers,
            timeout=timeout,
            compression=compression,
            certificate_file=certificate_file,
            client_key_file=client_key_file,
            client_certificate_file=client_certificate_file,
            session=session,
        )
        self.endpoint = self._http.endpoint
        self.timeout = self._http.timeout
        self.compression = self._http.compression
        self.headers = self._http.headers
        self._stop = self._http._stop

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        """Send ``spans``. Never raises."""
        if self._http.stopped:
            _log.warning("span exporter already shut down: %d spans dropped", len(spans))
            return SpanExportResult.FAILURE
        try:
            data = encode_spans(spans)
        except Exception:  # noqa: BLE001 - the batch is lost, the application goes on
            _log.exception("cannot encode %d spans", len(spans))
            return SpanExportResult.FAILURE
        error = self._http.send(data)
        if error is None:
            return SpanExportResult.SUCCESS
        self._http.failed(f"{len(spans)} spans", error)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        """Stop: a retry that is waiting gives up, later exports are refused."""
        self._http.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here: True."""
        return True


__all__ = ["OtlpHttp", "OtlpSpanExporter", "parse_headers", "signal_envs"]
