"""What shipping logs costs the thread that logs: the SDK's shipper against OpenTelemetry's own.

The app's cost of a log record is the CPU the logging call takes in the application's thread:
the batching and sending happen in a background thread. Three set-ups log the same record
(``log.info("request done", route=..., status=..., duration_ms=..., user_id=i)``) ``--records``
times, in rounds that alternate between them so the machine's load falls on all alike, and
report the median CPU time per record of the logging thread (``time.thread_time``, which other
processes' load does not move the way wall time moves):

- ``json``: ``configure_logging`` alone (the SDK's JSON lines to /dev/null);
- ``shipped``: the same with the SDK's ``LogShipper`` sending over OTLP/HTTP to a loopback sink;
- ``otel``: the same JSON lines plus OpenTelemetry's ``LoggingHandler`` with its
  ``BatchLogRecordProcessor`` and ``OTLPLogExporter`` (HTTP protobuf) to the same sink: what an
  app that wires OpenTelemetry's logs SDK by hand pays.

Each set-up's records are counted at the sink, so a set-up that dropped records shows it.

    .venv/bin/python -m bench.sdk_log_shipping [--records 5000] [--rounds 6]

Nothing here asserts; it reports.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry

from spyglass.sdk import configure_logging, get_logger
from spyglass.sdk._log_export import LogShipper


class Sink:
    """A loopback OTLP/HTTP logs receiver counting the records it was sent."""

    def __init__(self) -> None:
        self.records = 0
        lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = ExportLogsServiceRequest.FromString(raw)
                count = sum(
                    len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs
                )
                with lock:
                    sink.records += count
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def _log_records(count: int) -> float:
    """CPU µs per record of this thread for ``count`` logging calls."""
    log = get_logger("bench")
    started = time.thread_time()
    for i in range(count):
        log.info("request done", route="/items/{id}", status=200, duration_ms=3.2, user_id=i)
    return (time.thread_time() - started) / count * 1e6


def json_only(count: int, sink: Sink) -> float:
    with open(os.devnull, "w") as devnull:
        configure_logging("bench", stream=devnull)
        return _log_records(count)


def shipped(count: int, sink: Sink) -> float:
    shipper = LogShipper("bench", endpoint=sink.url, registry=CollectorRegistry())
    with open(os.devnull, "w") as devnull:
        configure_logging("bench", stream=devnull, shipper=shipper)
        cost = _log_records(count)
        shipper.shutdown(timeout_s=60)
    logging.getLogger().removeHandler(shipper)
    return cost


def otel(count: int, sink: Sink) -> float:
    provider = LoggerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=sink.url + "/v1/logs"))
    )
    with open(os.devnull, "w") as devnull:
        configure_logging("bench", stream=devnull)
        handler = LoggingHandler(logger_provider=provider)
        logging.getLogger().addHandler(handler)
        cost = _log_records(count)
        provider.shutdown()
    logging.getLogger().removeHandler(handler)
    return cost


SETUPS: dict[str, Callable[[int, Sink], float]] = {
    "json": json_only,
    "shipped": shipped,
    "otel": otel,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    costs: dict[str, list[float]] = {name: [] for name in SETUPS}
    received: dict[str, int] = dict.fromkeys(SETUPS, 0)
    sink = Sink()
    try:
        for r in range(args.rounds):
            names = list(SETUPS) if r % 2 == 0 else list(reversed(SETUPS))
            for name in names:
                before = sink.records
                costs[name].append(SETUPS[name](args.records, sink))
                received[name] += sink.records - before
    finally:
        sink.close()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{args.records} records x {args.rounds} rounds, load average {' '.join(load)}")
    base = statistics.median(costs["json"])
    header = ("set-up", "CPU µs/record (median)", "rounds", "vs json", "at sink")
    print(f"{header[0]:<10}{header[1]:>24}{header[2]:>42}{header[3]:>10}{header[4]:>10}")
    for name, values in costs.items():
        median = statistics.median(values)
        rounds = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:<10}{median:>24.1f}{rounds:>42}{median / base:>10.2f}{received[name]:>10}")


if __name__ == "__main__":
    main()
