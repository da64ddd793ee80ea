"""A loopback OTLP/HTTP trace receiver, for the SDK tests and the SDK overhead benchmark."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from tests.support.servers import LoopbackHTTP, QuietHandler

_DECOMPRESS = {"gzip": gzip.decompress, "deflate": zlib.decompress}


class OtlpReceiver:
    """Accepts ``POST /v1/traces`` on 127.0.0.1, counting export requests and their bytes.

    With ``decode`` (the default) each body is decompressed as its Content-Encoding says,
    parsed and kept in ``requests``, its headers (names lowercased) in ``headers``; the
    benchmark turns it off so the receiver costs its process as little as possible. ``script``
    lists the answers (status, extra headers) to give first, in order; then it answers 200.
    It listens on ``port``, or on a free one. With ``keep_alive`` it speaks HTTP/1.1 and keeps
    connections open, as a real collector does; without, it closes each after its answer
    (HTTP/1.0), so a test that stops it sees a collector that is really gone.
    """

    def __init__(
        self,
        *,
        decode: bool = True,
        script: list[tuple[int, dict[str, str]]] | None = None,
        port: int = 0,
        keep_alive: bool = False,
    ) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.headers: list[dict[str, str]] = []
        self.script = list(script or [])
        self.posts = 0
        self.bytes = 0
        receiver = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.posts += 1
                receiver.bytes += len(body)
                if decode:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    decompress = _DECOMPRESS.get(headers.get("content-encoding", ""))
                    request = ExportTraceServiceRequest.FromString(
                        decompress(body) if decompress else body
                    )
                    receiver.headers.append(headers)
                    receiver.requests.append(request)
                status, extra = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._http = LoopbackHTTP(Handler, port)
        self.url = self._http.base_url
        self.traces_url = self.url + "/v1/traces"

    def spans(self) -> list[tuple[str, Any]]:
        """(service.name, span) for every span received (``decode`` only)."""
        out = []
        for req in self.requests:
            for rs in req.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in rs.resource.attributes
                        if a.key == "service.name"
                    ),
                    "",
                )
                for ss in rs.scope_spans:
                    out.extend((service, span) for span in ss.spans)
        return out

    def close(self) -> None:
        self._http.close()
