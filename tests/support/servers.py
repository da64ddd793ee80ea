"""Start real servers (Spyglass, Prometheus, exporters) on loopback and always stop them.

Used by end-to-end tests and by the benchmarks under bench/, so both exercise the same processes
a user would run. Every process is a context manager: leaving the block terminates it, then kills
it if it does not exit in time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

PROMETHEUS_BIN = shutil.which("prometheus") or "/usr/bin/prometheus"


def have_prometheus() -> bool:
    """Whether Debian's prometheus binary is installed."""
    return Path(PROMETHEUS_BIN).is_file() and os.access(PROMETHEUS_BIN, os.X_OK)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of access lines."""

    def log_message(self, *args: Any) -> None:
        pass


class LoopbackHTTP:
    """An in-process HTTP server on 127.0.0.1 (``port``, or a free one) serving ``handler``
    from a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Server:
    """A started process and the base URL it serves."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def peak_rss_bytes(self) -> int:
        """VmHWM of the process (peak resident set), 0 once it has exited."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0


def wait_http(url: str, server: Server, timeout_s: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; fail with the process log if it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"process exited with {server.process.returncode}:\n{server.log_text()[-4000:]}"
            raise RuntimeError(msg)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout_s}s:\n{server.log_text()[-4000:]}")


def stop(server: Server, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
    """Send ``sig``, wait, then SIGKILL if needed; returns the exit code."""
    return stop_process(server.process, sig, timeout_s)


def stop_process(
    p: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 30.0
) -> int:
    """``stop`` for a bare process: send ``sig`` unless it has exited, wait, then SIGKILL."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
    return int(p.returncode)


@contextlib.contextmanager
def started(
    cmd: Sequence[str], url: str, ready_path: str, log: Path, **popen: object
) -> Iterator[Server]:
    """Run ``cmd`` until the block ends; ready when ``url + ready_path`` answers 200."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(cmd),
            stdout=out,
            stderr=subprocess.STDOUT,
            **popen,  # type: ignore[call-overload]
        )
    server = Server(process, url, log)
    try:
        wait_http(url + ready_path, server)
        yield server
    finally:
        stop(server)


def spyglass_cmd(data_dir: Path, port: int, *args: str) -> list[str]:
    """argv for ``spyglass serve`` on 127.0.0.1:port, no OTLP/gRPC and no second OTLP/HTTP
    listener unless asked for (parallel tests must not fight over 4317 and 4318)."""
    return [
        sys.executable,
        "-m",
        "spyglass",
        "serve",
        "--data-dir",
        str(data_dir),
        "--listen-address",
        f"127.0.0.1:{port}",
        "--otlp-grpc-address",
        "",
        "--otlp-http-address",
        "",
        *args,
    ]


@contextlib.contextmanager
def spyglass(
    data_dir: Path, *args: str, port: int | None = None, source: str | Path | None = None
) -> Iterator[Server]:
    """A real ``spyglass serve`` process; ``source`` runs another checkout's ``src`` folder
    (benchmarks compare two versions side by side)."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = spyglass_cmd(data_dir, port, *args)
    popen: dict[str, Any] = {}
    if source is not None:
        popen["env"] = {**os.environ, "PYTHONPATH": str(source)}
        settings = Path(source) / "spyglass" / "core" / "settings.py"
        if "otlp_http_address" not in settings.read_text():
            # A checkout from before the OTLP/HTTP listener: it has no such option.
            at = cmd.index("--otlp-http-address")
            del cmd[at : at + 2]
    with started(
        cmd,
        f"http://127.0.0.1:{port}",
        "/-/ready",
        data_dir.parent / f"spyglass-{port}.log",
        **popen,
    ) as s:
        yield s


@contextlib.contextmanager
def prometheus(
    workdir: Path, config_yaml: str, *flags: str, port: int | None = None
) -> Iterator[Server]:
    """A real Prometheus (Debian's package) with its own TSDB under ``workdir``.

    Pass ``port`` when the config must name Prometheus' own address (self-scraping).
    """
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    config.write_text(config_yaml)
    cmd = [
        PROMETHEUS_BIN,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *flags,
    ]
    with started(cmd, f"http://127.0.0.1:{port}", "/-/ready", workdir / "prometheus.log") as s:
        yield s


@contextlib.contextmanager
def alertmanager(
    binary: str, workdir: Path, config_yaml: str, port: int | None = None
) -> Iterator[Server]:
    """A real Alertmanager (Debian's package) on 127.0.0.1, alone (no cluster peers)."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(config_yaml)
    cmd = [
        binary,
        f"--config.file={config}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with started(cmd, f"http://127.0.0.1:{port}", "/-/ready", workdir / "alertmanager.log") as s:
        yield s


__all__ = [
    "PROMETHEUS_BIN",
    "LoopbackHTTP",
    "QuietHandler",
    "Server",
    "alertmanager",
    "free_port",
    "have_prometheus",
    "prometheus",
    "spyglass",
    "spyglass_cmd",
    "started",
    "stop",
    "stop_process",
    "wait_http",
]
