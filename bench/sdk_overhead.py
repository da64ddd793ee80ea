"""SDK overhead: requests/s of a trivial endpoint with and without ``instrument()``, same run.

Two uvicorn processes serve the same one-route FastAPI app, one of them instrumented (metrics,
request IDs, JSON logging configured, tracing sampled at ``--sample-ratio`` and exported over
OTLP/HTTP to a loopback sink in this process that keeps connections alive, as a real collector
does). An asyncio client keeps ``--concurrency`` requests in flight for ``--seconds`` against
one server at a time; the servers alternate for ``--rounds`` rounds (which goes first
alternates too) so both see the same machine load; where there are two CPUs, both servers are
pinned to one of them and the client to the rest. Prints each server's best and median rate,
and the server's CPU time per request (from /proc): when the server is CPU-bound, throughput
loss = 1 - CPU(plain) / CPU(instrumented), taken per round from its two back-to-back runs and
reported as the median over rounds.

Then ``--windows`` same-time windows load both servers at once, each with ``--concurrency``
connections, while they share one CPU: the scheduler gives each half of it, so the ratio of
their request rates in a window is the ratio of their costs per request, and whatever else the
machine does in that window slows both alike. This is the headline figure: on a shared VM
where back-to-back rounds scattered from 7% to 34%, the windows' medians of six runs stayed
within a 3-point band. Two biases are cancelled: which server's connections open first
alternates between windows, and half the windows run on a second pair of servers started in
the other order (with the same app on both sides, ``--control``, the server started second
read 1-2% cheaper). ``--variant`` chooses how much of ``instrument()`` the instrumented server
switches on (``no-tracing``, ``unsampled``, ``discard``, ``export``), or two reference points in
its place: ``bare-middleware`` (a pass-through middleware) and ``header-echo`` (a middleware
that only adds a request-ID header to each response).
With ``--alternate PAIRS`` the first pair is also loaded one server at a time in alternating
0.3 s windows, as a cross-check that sharing the CPU does not bias the windows.
Last, the same app is called in process as a bare ASGI callable, which isolates the CPU the
middleware adds per request from server and noise.

With ``--instructions`` the two servers also run under valgrind's callgrind, which counts the
instructions each executes per request: a figure other work on the machine cannot move.
``--breakdown`` counts them for three more servers in between, each with one more part of
``instrument()`` on (metrics and request IDs, then unsampled tracing, then sampled spans
discarded instead of exported), to show what each part costs.

    .venv/bin/python -m bench.sdk_overhead [--seconds 5] [--rounds 3] [--windows 10]
        [--concurrency 16] [--variant export] [--control] [--alternate 0] [--sdk-src DIR]
        [--instructions] [--breakdown]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.support.otlp import OtlpReceiver
from tests.support.servers import Server, free_port, started, stop, wait_http

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


REFERENCE = os.environ.get("SDK_REFERENCE")
if os.environ.get("SDK_INSTRUMENT") == "1" and REFERENCE:
    # Reference points in place of instrument(), around the whole app as the SDK sits: a bare
    # pass-through middleware (what a middleware layer costs) or one that only echoes a
    # 32-character request-ID header (what that header costs the server).
    build = app.build_middleware_stack

    def wrapped():
        inner = build()

        async def bare(scope, receive, send):
            await inner(scope, receive, send)

        async def echo(scope, receive, send):
            def send_header(message):
                if message["type"] == "http.response.start":
                    headers = [*message.get("headers", ()), (b"x-request-id", b"0" * 32)]
                    message = {**message, "headers": headers}
                return send(message)

            await inner(scope, receive, send_header)

        return bare if REFERENCE == "bare" else echo

    app.build_middleware_stack = wrapped
elif os.environ.get("SDK_INSTRUMENT") == "1":
    import io
    from spyglass.sdk import instrument

    options = {}
    if os.environ.get("SDK_TRACING") == "0":
        options["tracing"] = False
    if os.environ.get("SDK_EXPORTER") == "discard":
        from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

        class Discard(SpanExporter):
            def export(self, spans):
                return SpanExportResult.SUCCESS

        options["span_exporter"] = Discard()
    telemetry = instrument(
        app,
        service="bench",
        otlp_endpoint=os.environ["SDK_OTLP"],
        sample_ratio=float(os.environ["SDK_SAMPLE_RATIO"]),
        log_stream=io.StringIO(),
        **options,
    )
"""


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(url: str, concurrency: int) -> list[Connection]:
    """``concurrency`` keep-alive connections to ``url``."""
    host, port = url.removeprefix("http://").split(":")
    return [await asyncio.open_connection(host, int(port)) for _ in range(concurrency)]


async def disconnect(connections: list[Connection]) -> None:
    for _reader, writer in connections:
        writer.close()
        await writer.wait_closed()


async def drive(
    connections: list[Connection], seconds: float, count: int | None = None
) -> tuple[int, int, float]:
    """(200 responses, other responses, seconds taken) with one request in flight per
    connection, for ``seconds`` or, when ``count`` is given, until that many were sent.

    A minimal asyncio HTTP/1.1 client rather than httpx: on a small machine httpx's own
    per-request cost would cap both servers at the same rate and hide the difference this
    benchmark is about.
    """
    done = 0
    errors = 0
    deadline = time.perf_counter() + seconds
    left = count
    concurrency = len(connections)

    async def worker(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal done, errors, left
        i = n
        while (time.perf_counter() < deadline) if left is None else left > 0:
            if left is not None:
                left -= 1
            writer.write(f"GET /items/{i % 1000} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                done += 1
            else:
                errors += 1
            i += concurrency

    start = time.perf_counter()
    await asyncio.gather(*(worker(n, r, w) for n, (r, w) in enumerate(connections)))
    return done, errors, time.perf_counter() - start


async def load(url: str, seconds: float, concurrency: int, count: int | None = None) -> float:
    """Completed requests per second with ``concurrency`` keep-alive connections busy, for
    ``seconds`` or, when ``count`` is given, until exactly that many requests were sent."""
    connections = await connect(url, concurrency)
    try:
        done, errors, elapsed = await drive(connections, seconds, count)
    finally:
        await disconnect(connections)
    if errors:
        print(f"  {errors} non-200 responses from {url}", file=sys.stderr)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sample-ratio", type=float, default=0.1)
    parser.add_argument(
        "--windows", type=int, default=10, help="same-time windows of --window-seconds each"
    )
    parser.add_argument("--window-seconds", type=float, default=3.0)
    parser.add_argument(
        "--alternate",
        type=int,
        default=0,
        metavar="PAIRS",
        help="also load one server at a time in PAIRS pairs of 0.3 s windows over kept-open "
        "connections and compare their CPU per request (a cross-check of the windows)",
    )
    parser.add_argument(
        "--sdk-src",
        metavar="DIR",
        help="import the SDK from DIR (another checkout's sdk/src, or src before the SDK moved "
        "there) in the servers: run the benchmark alternately with two checkouts to compare "
        "their code side by side",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="serve the plain app on both sides: what the method reads when nothing differs",
    )
    parser.add_argument(
        "--variant",
        choices=list(VARIANTS),
        default="export",
        help="what the instrumented server switches on: tracing off, tracing with no request "
        "sampled, sampled spans discarded, or exported over OTLP (the default); or, as "
        "reference points, a bare middleware or one that only echoes a request-ID header",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per request under valgrind (slow: a few minutes)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="count instructions for each part of instrument() in turn (slow: ~15 minutes)",
    )
    args = parser.parse_args()
    cpus = server_cpus()
    if cpus is not None:
        os.sched_setaffinity(0, set(os.sched_getaffinity(0)) - cpus)
        print(f"servers pinned to CPU {sorted(cpus)}, load generator and sink to the others")
    sink = OtlpReceiver(decode=False, keep_alive=True)
    with tempfile.TemporaryDirectory(prefix="sdk-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "bench_app.py").write_text(APP)
        try:
            with started_pair(workdir, sink, args, cpus, inst_first=False) as (plain, inst):
                servers = {"plain": plain, "instrumented": inst}
                rates: dict[str, list[float]] = {name: [] for name in servers}
                cpu_us: dict[str, list[float]] = {name: [] for name in servers}
                for rnd in range(args.rounds):
                    # Alternate which server goes first, so a slow drift in the machine's
                    # other load does not always land on the same one.
                    order = list(servers.items())
                    for name, server in order if rnd % 2 == 0 else order[::-1]:
                        before = cpu_seconds(server.pid)
                        start = time.perf_counter()
                        rps = asyncio.run(load(server.url, args.seconds, args.concurrency))
                        done = rps * (time.perf_counter() - start)
                        cpu_us[name].append((cpu_seconds(server.pid) - before) / done * 1e6)
                        rates[name].append(rps)
                        print(
                            f"round {rnd + 1} {name:>12}: {rps:8.0f} req/s, "
                            f"server CPU {cpu_us[name][-1]:4.0f} us/request"
                        )
                windows = same_time_windows(
                    plain, inst, args.windows // 2, args.window_seconds, args.concurrency
                )
                alternated = alternating_windows(plain, inst, args.alternate, args.concurrency)
            # The server started second read 1-2 % cheaper when both sides served the same
            # app: the other half of the windows runs on a pair started in the other order.
            with started_pair(workdir, sink, args, cpus, inst_first=True) as (plain, inst):
                windows += same_time_windows(
                    plain,
                    inst,
                    args.windows - args.windows // 2,
                    args.window_seconds,
                    args.concurrency,
                    first=args.windows // 2 + 1,
                )
                metrics = httpx.get(inst.url + "/metrics").text
        finally:
            sink.close()
    best = {name: max(r) for name, r in rates.items()}
    median = {name: statistics.median(r) for name, r in rates.items()}
    cpu_median = {name: statistics.median(c) for name, c in cpu_us.items()}
    # Each round's two runs are back to back: their CPU ratio sees the same machine load.
    losses = sorted(1 - p / i for p, i in zip(cpu_us["plain"], cpu_us["instrumented"], strict=True))
    print()
    for name in rates:
        print(
            f"{name:<12} : best {best[name]:7.0f} req/s, median {median[name]:7.0f} req/s, "
            f"server CPU median {cpu_median[name]:6.0f} us/request"
        )
    print(
        f"instrumented/plain: best {best['instrumented'] / best['plain']:.3f}, median "
        f"{median['instrumented'] / median['plain']:.3f} req/s; CPU-bound throughput loss "
        f"(1 - CPU plain / CPU instrumented, per round): median {statistics.median(losses):.1%}, "
        f"rounds {', '.join(f'{x:.0%}' for x in losses)}"
    )
    rps_losses = sorted(w[0] for w in windows)
    cpu_losses = sorted(w[1] for w in windows)
    print(
        f"same-time windows ({len(windows)} x {args.window_seconds:g} s, both servers loaded at "
        f"once on one CPU): throughput loss median {statistics.median(rps_losses):.1%} "
        f"(windows {', '.join(f'{x:.0%}' for x in rps_losses)}); from CPU per request "
        f"{statistics.median(cpu_losses):.1%}"
        + (
            " [control: plain app on both sides]"
            if args.control
            else f" [instrumented: {args.variant}]"
        )
    )
    if alternated:
        alternated.sort()
        q1, q3 = alternated[len(alternated) // 4], alternated[3 * len(alternated) // 4]
        quartiles = f"{q1:.1%} to {q3:.1%}"
        print(
            f"alternating solo windows ({len(alternated)} pairs x 0.3 s, one server loaded at "
            f"a time): loss from CPU per request median {statistics.median(alternated):.1%} "
            f"(middle half {quartiles})"
        )
    micro = in_process_overhead(args.sample_ratio)
    print(
        f"in process (ASGI call, best of 7 x 2000): plain {micro['plain']:.0f} us/request, "
        f"+{micro['metrics+ids'] - micro['plain']:.0f} us with metrics and request IDs, "
        f"+{micro['all'] - micro['plain']:.0f} us with tracing at {args.sample_ratio:g} too"
    )
    print(
        f"OTLP sink: {sink.posts} export requests, {sink.bytes} bytes "
        f"(tracing sampled at {args.sample_ratio:g})"
    )
    counted = [line for line in metrics.splitlines() if line.startswith("http_requests_total{")]
    print(f"instrumented app counted: {counted}")
    if args.instructions or args.breakdown:
        configs = BREAKDOWN if args.breakdown else BREAKDOWN[:1] + BREAKDOWN[-1:]
        sink = OtlpReceiver(decode=False, keep_alive=True)
        try:
            with tempfile.TemporaryDirectory(prefix="sdk-bench-") as tmp:
                (Path(tmp) / "bench_app.py").write_text(APP)
                instr = instructions_per_request(
                    Path(tmp), sink, args.sample_ratio, configs, sdk_src=args.sdk_src
                )
        finally:
            sink.close()
        print("instructions per request (callgrind):")
        plain = instr[configs[0][0]]
        for name, _env in configs:
            added = f"(+{instr[name] / plain - 1:.1%})" if name != configs[0][0] else ""
            print(f"  {name:<44} {instr[name] / 1e3:6.0f} k {added}")


# What the instrumented server switches on (--variant): each one more part of instrument().
VARIANTS: dict[str, dict[str, str]] = {
    "no-tracing": {"SDK_TRACING": "0"},
    "unsampled": {"SDK_SAMPLE_RATIO": "0"},
    "discard": {"SDK_EXPORTER": "discard"},
    "export": {},
    # Reference points, not instrument(): see REFERENCE in APP.
    "bare-middleware": {"SDK_REFERENCE": "bare"},
    "header-echo": {"SDK_REFERENCE": "header"},
}
# (name, server environment) of each server --breakdown counts instructions for: the plain
# app, then the variants in turn.
BREAKDOWN: list[tuple[str, dict[str, str]]] = [
    ("plain", {"SDK_INSTRUMENT": "0"}),
    ("metrics and request IDs (tracing=False)", VARIANTS["no-tracing"]),
    ("tracing on, no request sampled", VARIANTS["unsampled"]),
    ("tracing sampled, spans discarded", VARIANTS["discard"]),
    ("tracing sampled, spans exported over OTLP", VARIANTS["export"]),
]


def instructions_per_request(
    workdir: Path,
    sink: OtlpReceiver,
    ratio: float,
    configs: list[tuple[str, dict[str, str]]],
    counts: tuple[int, int] = (1200, 2200),
    sdk_src: str | None = None,
) -> dict[str, float]:
    """Instructions each server executes per request, counted by valgrind's callgrind.

    Unlike CPU time this hardly moves with what else runs on the machine (it does not see cache
    misses or system calls' kernel work). It is not exact either: which requests are sampled,
    hash seeds and timer ticks differ between runs, and the instrumented figure has moved by
    about 4 % between runs (the plain one by about 1 %).
    Each server runs twice, for ``counts[0]`` and ``counts[1]`` requests at concurrency 8,
    and the difference of the totals is divided by the difference of the counts: start-up,
    shut-down and the first pass over the 1,000 distinct paths (which fills the SDK's route
    cache) cancel out. All threads are counted, the span exporter's included.
    """
    out = {}
    for n, (name, overrides) in enumerate(configs):
        totals = []
        for count in counts:
            dump = workdir / f"callgrind.{n}.{count}"
            port = free_port()
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}"]
            cmd += server_cmd(port)
            env = (
                server_env(workdir, instrumented=True, sink=sink, ratio=ratio, sdk_src=sdk_src)
                | overrides
            )
            # At full speed the exporter sends a batch every 512 spans, well before its 5 s
            # timer; 50x slower under valgrind the timer would fire every ~100 requests and
            # count far more HTTP posts per request than a real run makes.
            env["OTEL_BSP_SCHEDULE_DELAY"] = "3600000"
            log = workdir / f"callgrind.{n}.log"
            with log.open("wb") as sink_log:
                process = subprocess.Popen(
                    cmd, stdout=sink_log, stderr=subprocess.STDOUT, cwd=workdir, env=env
                )
            server = Server(process, f"http://127.0.0.1:{port}", log)
            try:
                wait_http(server.url + "/ready", server, timeout_s=600)
                asyncio.run(load(server.url, 0.0, 8, count=count))
            finally:
                stop(server, timeout_s=300)
            totals.append(_callgrind_total(dump))
        out[name] = (totals[1] - totals[0]) / (counts[1] - counts[0])
    return out


def _callgrind_total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {dump}")


def in_process_overhead(sample_ratio: float, rounds: int = 7, n: int = 2000) -> dict[str, float]:
    """CPU microseconds per request of the app called directly as ASGI (no server, no socket).

    The steadiest figure for what the middleware itself adds: the best of ``rounds`` runs of
    ``n`` requests each, for the plain app, metrics and IDs without tracing, and the full set
    with tracing at ``sample_ratio`` (spans go to a no-op exporter here).
    """
    import io  # noqa: PLC0415 - only this measurement needs them
    import types  # noqa: PLC0415

    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult  # noqa: PLC0415

    from spyglass.sdk import instrument  # noqa: PLC0415

    class NullExporter(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    def make(config: str) -> Any:
        module = types.ModuleType("bench_app_inproc")
        # The same app as the servers run, without its instrument() block.
        exec(APP.split("if os.environ", maxsplit=1)[0], module.__dict__)
        app = module.app
        if config == "metrics+ids":
            instrument(app, service="b", tracing=False, log_stream=io.StringIO())
        elif config == "all":
            instrument(
                app, service="b", sample_ratio=sample_ratio, span_exporter=NullExporter(),
                instrument_libraries=False, log_stream=io.StringIO(),
            )  # fmt: skip
        return app

    async def run(app: Any, count: int) -> float:
        base = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "root_path": "", "query_string": b"",
            "headers": [(b"host", b"bench"), (b"user-agent", b"bench")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            return None

        start = time.process_time()
        for i in range(count):
            path = f"/items/{i % 1000}"
            await app({**base, "path": path, "raw_path": path.encode()}, receive, send)
        return (time.process_time() - start) / count * 1e6

    configs = ("plain", "metrics+ids", "all")
    apps = {c: make(c) for c in configs}
    for app in apps.values():
        asyncio.run(run(app, 500))
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(rounds):
        for c in configs:
            best[c] = min(best[c], asyncio.run(run(apps[c], n)))
    return best


def same_time_windows(
    plain: Server, inst: Server, windows: int, seconds: float, concurrency: int, first: int = 1
) -> list[tuple[float, float]]:
    """Per window: (1 - rate(inst) / rate(plain), 1 - CPU(plain) / CPU(inst) per request).

    Both servers are loaded during the same ``seconds``, so the machine's other load of that
    moment falls on both. Where they share one CPU, each gets about half of it and the rate
    ratio is the cost ratio.
    """

    async def both(inst_first: bool) -> tuple[float, float]:
        first, second = (inst, plain) if inst_first else (plain, inst)
        rates = await asyncio.gather(
            load(first.url, seconds, concurrency), load(second.url, seconds, concurrency)
        )
        return (rates[1], rates[0]) if inst_first else (rates[0], rates[1])

    out = []
    for n in range(windows):
        before = (cpu_seconds(plain.pid), cpu_seconds(inst.pid))
        start = time.perf_counter()
        # Which server's connections open first alternates: a fixed order favoured one side
        # by 1-2 % when both sides served the same app.
        rate_plain, rate_inst = asyncio.run(both(inst_first=n % 2 == 1))
        elapsed = time.perf_counter() - start
        cpu_plain = (cpu_seconds(plain.pid) - before[0]) / (rate_plain * elapsed) * 1e6
        cpu_inst = (cpu_seconds(inst.pid) - before[1]) / (rate_inst * elapsed) * 1e6
        out.append((1 - rate_inst / rate_plain, 1 - cpu_plain / cpu_inst))
        print(
            f"window {first + n}: plain {rate_plain:6.0f} req/s {cpu_plain:4.0f} us/request, "
            f"instrumented {rate_inst:6.0f} req/s {cpu_inst:4.0f} us/request, "
            f"throughput loss {out[-1][0]:.1%}"
        )
    return out


def alternating_windows(
    plain: Server, inst: Server, pairs: int, concurrency: int, seconds: float = 0.3
) -> list[float]:
    """Per pair of back-to-back windows: 1 - CPU(plain) / CPU(inst) per request.

    Only one server is loaded in each window, over connections kept open for the whole run, and
    the two alternate every ``seconds`` (which goes first alternates too), so the machine's
    other load changes little between the two halves of a pair. CPU time comes from the
    scheduler's per-thread nanosecond counters, not clock ticks, so short windows still read
    precisely. Unlike the same-time windows the servers never share the CPU at the same moment,
    so neither's cache footprint slows the other.
    """

    async def run() -> list[float]:
        connections = [await connect(plain.url, concurrency), await connect(inst.url, concurrency)]
        out = []
        try:
            for n in range(pairs):
                cpu = [0.0, 0.0]
                for side in (0, 1) if n % 2 == 0 else (1, 0):
                    pid = (plain, inst)[side].pid
                    before = task_cpu_ns(pid)
                    done, _errors, _elapsed = await drive(connections[side], seconds)
                    cpu[side] = (task_cpu_ns(pid) - before) / max(done, 1)
                out.append(1 - cpu[0] / cpu[1])
        finally:
            for side in connections:
                await disconnect(side)
        return out

    return asyncio.run(run()) if pairs > 0 else []


def task_cpu_ns(pid: int) -> int:
    """Nanoseconds all threads of a process have run so far (Linux /proc schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            total += int((task / "schedstat").read_text().split()[0])
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cmd(port: int) -> list[str]:
    """argv of a uvicorn serving the bench app on 127.0.0.1:port, access log off."""
    return [
        sys.executable, "-m", "uvicorn", "bench_app:app", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def server_env(
    workdir: Path,
    *,
    instrumented: bool,
    sink: OtlpReceiver,
    ratio: float,
    sdk_src: str | None = None,
) -> dict[str, str]:
    """Environment of a bench server: the same app, instrumented or not; ``sdk_src`` (a
    checkout's ``sdk/src``) is imported from before the installed SDK."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{sdk_src}:{workdir}" if sdk_src else str(workdir),
        "SDK_INSTRUMENT": "1" if instrumented else "0",
        "SDK_OTLP": sink.url,
        "SDK_SAMPLE_RATIO": str(ratio),
    }


def server_cpus() -> set[int] | None:
    """The CPU both timed servers are pinned to, or None when pinning is not possible.

    The two servers share one CPU (the last this process may use) and the load generator and
    the OTLP sink get the others: neither server ever runs on the CPU the client is busy on,
    and each sees the same core. Needs two CPUs and ``taskset``.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2 or shutil.which("taskset") is None:
        return None
    return {allowed[-1]}


@contextlib.contextmanager
def started_pair(
    workdir: Path,
    sink: OtlpReceiver,
    args: argparse.Namespace,
    cpus: set[int] | None,
    *,
    inst_first: bool,
) -> Iterator[tuple[Server, Server]]:
    """(plain, instrumented) servers pinned to ``cpus``, started in the order asked for and
    warmed up. ``cpus`` is chosen once, before this process leaves that CPU to the servers:
    asked again afterwards, ``server_cpus()`` would find one CPU left and pin nothing."""
    with contextlib.ExitStack() as stack:
        started_servers = {}
        for instrumented in (True, False) if inst_first else (False, True):
            started_servers[instrumented] = stack.enter_context(
                serve(
                    workdir,
                    instrumented=instrumented and not args.control,
                    sink=sink,
                    ratio=args.sample_ratio,
                    cpus=cpus,
                    variant=VARIANTS[args.variant],
                    sdk_src=args.sdk_src,
                )
            )
        # Warm-up: first requests build the middleware stack and import lazily.
        for server in started_servers.values():
            asyncio.run(load(server.url, 1.0, 4))
        yield started_servers[False], started_servers[True]


def serve(
    workdir: Path,
    *,
    instrumented: bool,
    sink: OtlpReceiver,
    ratio: float,
    cpus: set[int] | None,
    variant: dict[str, str] | None = None,
    sdk_src: str | None = None,
) -> Any:
    """A uvicorn serving the bench app; ``variant`` (a ``VARIANTS`` entry) applies when
    instrumented."""
    port = free_port()
    env = server_env(workdir, instrumented=instrumented, sink=sink, ratio=ratio, sdk_src=sdk_src)
    if instrumented and variant:
        env |= variant
    name = "instrumented" if instrumented else "plain"
    pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    return started(
        pin + server_cmd(port),
        f"http://127.0.0.1:{port}",
        "/ready",
        workdir / f"{name}.log",
        cwd=workdir,
        env=env,
    )


if __name__ == "__main__":
    main()
