"""SDK overhead: requests/s of a trivial endpoint with and without ``instrument()``, same run.

Two uvicorn processes serve the same one-route FastAPI app, one of them instrumented
(metrics, request IDs, JSON logging configured, tracing sampled at ``--sample-ratio`` and
exported over OTLP/HTTP to a loopback sink in this process). An httpx/asyncio client keeps
``--concurrency`` requests in flight for ``--seconds`` against one server at a time; the
servers alternate for ``--rounds`` rounds so both see the same machine load, and the best round
of each counts. Prints both rates and the throughput loss.

    .venv/bin/python -m bench.sdk_overhead [--seconds 5] [--rounds 3] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import free_port, started

APP = """
import os
from fastapi import FastAPI

app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})


@app.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


if os.environ.get("SDK_INSTRUMENT") == "1":
    import io
    from spyglass.sdk import instrument

    telemetry = instrument(
        app,
        service="bench",
        otlp_endpoint=os.environ["SDK_OTLP"],
        sample_ratio=float(os.environ["SDK_SAMPLE_RATIO"]),
        log_stream=io.StringIO(),
    )
"""


class OtlpSink:
    """Loopback OTLP/HTTP endpoint that accepts and counts export requests."""

    def __init__(self) -> None:
        sink = self
        self.requests = 0
        self.bytes = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.requests += 1
                sink.bytes += len(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def load(url: str, seconds: float, concurrency: int) -> float:
    """Completed requests per second with ``concurrency`` requests in flight."""
    done = 0
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10.0) as client:
        deadline = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            nonlocal done, errors
            i = n
            while time.perf_counter() < deadline:
                r = await client.get(f"/items/{i % 1000}")
                if r.status_code == 200:
                    done += 1
                else:
                    errors += 1
                i += concurrency

        start = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - start
    if errors:
        print(f"  {errors} non-200 responses from {url}", file=sys.stderr)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sample-ratio", type=float, default=0.1)
    args = parser.parse_args()
    sink = OtlpSink()
    with tempfile.TemporaryDirectory(prefix="sdk-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "bench_app.py").write_text(APP)
        servers = {}
        try:
            with (
                serve(workdir, instrumented=False, sink=sink, ratio=args.sample_ratio) as plain,
                serve(workdir, instrumented=True, sink=sink, ratio=args.sample_ratio) as inst,
            ):
                servers = {"plain": plain.url, "instrumented": inst.url}
                # Warm-up: first requests build the middleware stack and import lazily.
                for url in servers.values():
                    asyncio.run(load(url, 1.0, 4))
                best = dict.fromkeys(servers, 0.0)
                for rnd in range(args.rounds):
                    for name, url in servers.items():
                        rps = asyncio.run(load(url, args.seconds, args.concurrency))
                        best[name] = max(best[name], rps)
                        print(f"round {rnd + 1} {name:>12}: {rps:8.0f} req/s")
                metrics = httpx.get(inst.url + "/metrics").text
        finally:
            sink.close()
    loss = 1 - best["instrumented"] / best["plain"]
    print()
    print(f"plain        : {best['plain']:8.0f} req/s (best of {args.rounds})")
    print(f"instrumented : {best['instrumented']:8.0f} req/s (best of {args.rounds})")
    print(
        f"ratio        : {best['instrumented'] / best['plain']:.3f}  (throughput loss {loss:.1%})"
    )
    print(f"OTLP sink    : {sink.requests} export requests, {sink.bytes} bytes "
          f"(tracing sampled at {args.sample_ratio:g})")  # fmt: skip
    counted = [line for line in metrics.splitlines() if line.startswith("http_requests_total{")]
    print(f"instrumented app counted: {counted}")


def serve(workdir: Path, *, instrumented: bool, sink: OtlpSink, ratio: float) -> Any:
    port = free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", "bench_app:app", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(workdir),
        "SDK_INSTRUMENT": "1" if instrumented else "0",
        "SDK_OTLP": sink.url,
        "SDK_SAMPLE_RATIO": str(ratio),
    }
    name = "instrumented" if instrumented else "plain"
    return started(
        cmd, f"http://127.0.0.1:{port}", "/ready", workdir / f"{name}.log", cwd=workdir, env=env
    )


if __name__ == "__main__":
    main()
