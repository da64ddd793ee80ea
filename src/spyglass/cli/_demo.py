"""``spyglass demo``: Spyglass, an instrumented service and real traffic, all on loopback.

It writes a prometheus.yml that scrapes the demo service (and Spyglass itself), starts the demo
service in its own process, drives traffic at it from a thread, and runs Spyglass in this process
until Ctrl+C (or ``--duration``). Everything is real: HTTP requests, scrapes, OTLP pushes of the
service's order metrics (OpenTelemetry SDK -> ``/v1/metrics``), its spans (``/v1/traces``) and
its JSON logs (``/v1/logs``), storage, PromQL, LogQL and the Jaeger API.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import typer

from spyglass.core.errors import BadInput
from spyglass.core.settings import Settings
from spyglass.core.times import parse_duration_ms

EXAMPLES = (
    'sum by (route, status_code) (rate(http_requests_total{job="demo-shop"}[1m]))',
    "histogram_quantile(0.95, sum by (le, route) "
    '(rate(http_request_duration_seconds_bucket{job="demo-shop"}[1m])))',
    'sum(rate(http_requests_total{job="demo-shop",status_code=~"5.."}[1m]))'
    ' / sum(rate(http_requests_total{job="demo-shop"}[1m]))',
    'sum by (outcome) (rate(shop_orders_total{job="demo-shop"}[1m]))',
    "up",
)


def demo(
    listen_address: str = typer.Option("127.0.0.1:9090", help="Where Spyglass listens."),
    data_dir: Path | None = typer.Option(
        None, help="Keep the data here; default a temporary directory removed at the end."
    ),
    rate: float = typer.Option(20.0, help="Requests per second sent to the demo service."),
    scrape_interval: str = typer.Option("5s", help="How often Spyglass scrapes the service."),
    duration: float | None = typer.Option(
        None, help="Stop after this many seconds (default: run until Ctrl+C)."
    ),
) -> None:
    """Run Spyglass with an instrumented demo service and traffic, and show where to look."""
    temp = data_dir is None
    root = Path(tempfile.mkdtemp(prefix="spyglass-demo-")) if data_dir is None else data_dir
    root.mkdir(parents=True, exist_ok=True)
    app_port = _free_port()
    config = root / "prometheus.yml"
    config.write_text(
        "global:\n"
        f"  scrape_interval: {scrape_interval}\n"
        "scrape_configs:\n"
        "  - job_name: demo-shop\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{app_port}']}}]\n"
    )
    try:
        interval_s = max(parse_duration_ms(scrape_interval), 100) / 1000
    except BadInput as e:
        raise typer.BadParameter(str(e), param_hint="--scrape-interval") from e
    app_cmd = [sys.executable, "-m", "spyglass.demo", "--port", str(app_port),
               "--otlp-metrics-endpoint", f"http://{listen_address}/v1/metrics",
               "--otlp-endpoint", f"http://{listen_address}",
               "--metrics-interval", str(interval_s)]  # fmt: skip
    app = subprocess.Popen(app_cmd, stdout=subprocess.DEVNULL)
    stop_timer: threading.Timer | None = None
    traffic = _Traffic(f"http://127.0.0.1:{app_port}", rate)
    try:
        _wait_ready(f"http://127.0.0.1:{app_port}/health/live", app)
        settings = Settings.load(
            {
                "data_dir": str(root / "data"),
                "listen_address": listen_address,
                "config_file": str(config),
                "scrape_self": "true",
            },
            os.environ,
        )
        traffic.start()
        if duration is not None:
            # A daemon, cancelled on the way out: a demo stopped earlier (Ctrl+C) must not wait
            # for the rest of its --duration before the process can exit.
            stop_timer = threading.Timer(duration, signal.raise_signal, (signal.SIGTERM,))
            stop_timer.daemon = True
            stop_timer.start()
        _print_banner(listen_address, app_port, root)
        from spyglass.server.runtime import run

        code = run(settings)
    finally:
        if stop_timer is not None:
            stop_timer.cancel()
        stats = traffic.stop()
        app.terminate()
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.kill()
        if temp:
            shutil.rmtree(root, ignore_errors=True)
    typer.echo(f"demo traffic: {stats}")
    raise typer.Exit(code)


class _Traffic:
    """The traffic generator on its own event loop in a thread."""

    def __init__(self, url: str, rate: float) -> None:
        import asyncio

        self.url = url
        self.rate = rate
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._result = "not started"
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def _run(self) -> None:
        from spyglass.demo import generate_traffic  # needs the sdk extra

        stats = self._loop.run_until_complete(
            generate_traffic(self.url, rate_per_s=self.rate, stop=self._stop)
        )
        self._result = ", ".join(
            f"{n}x {code or 'no answer'}" for code, n in sorted(stats.codes.items())
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> str:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=15)
        return self._result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise typer.Exit(f"the demo service exited with {process.returncode}")  # type: ignore[arg-type]
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise typer.Exit(1)


def _print_banner(listen_address: str, app_port: int, root: Path) -> None:
    from urllib.parse import quote

    base = f"http://{listen_address}"
    lines = [
        "Spyglass demo",
        f"  Spyglass (Prometheus API):  {base}   <- Grafana: add a Prometheus data source here",
        f"  demo service:               http://127.0.0.1:{app_port}  (/metrics, /health)",
        f"  scrape targets:             {base}/api/v1/targets",
        f"  OTLP metrics:               the shop pushes shop_orders_total to {base}/v1/metrics",
        f"  traces and logs:            {base}/api/traces?service=demo-shop (Jaeger's API),"
        f" {base}/logs",
        f"  data and config:            {root}",
        "  try:",
    ]
    lines += [f"    {base}/api/v1/query?query={quote(q)}" for q in EXAMPLES]
    lines.append("  Ctrl+C stops everything.")
    typer.echo("\n".join(lines))


__all__ = ["demo"]
