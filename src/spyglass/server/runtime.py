"""The composition root: builds storage, the PromQL engine, scraping and the APIs, and runs them.

This is the only module that imports a concrete storage backend (DESIGN.md, "Ports and one
composition root"): chDB under the data directory by default, a ClickHouse server when
``storage_url`` is set. Everything else receives the pieces it needs.

Start order: storage (schema, WAL replay, flusher), then the receivers (scrapes, OTLP/gRPC), then
readiness. Stop order is the reverse, and ends with a flush of everything accepted, so SIGTERM
loses nothing; SIGKILL loses nothing either, because every acknowledged write is in the WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import uvicorn
from prometheus_client import disable_created_metrics

from spyglass.core.config import Config, load_config, load_config_file
from spyglass.core.errors import ConfigError, SpyglassError
from spyglass.core.settings import SETTINGS, Settings
from spyglass.core.times import format_duration
from spyglass.core.version import __version__
from spyglass.ingest.scrape import ScrapeManager
from spyglass.promql import Engine, EngineOptions
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.server.api.write import WriteAPI
from spyglass.server.app import AppParts, create_app
from spyglass.server.otlp_grpc import start_otlp_grpc
from spyglass.server.selfmetrics import SelfMetrics, StatField, StatsCollector
from spyglass.storage import Backend, MetricsStore
from spyglass.storage.backends import open_backend

log = logging.getLogger("spyglass")

# The Prometheus version whose API and PromQL semantics Spyglass follows (buildinfo reports it so
# clients that switch features on by version, like Grafana, treat Spyglass as current).
PROMETHEUS_API_VERSION = "3.0.0"

# Storage statistics as Spyglass's own metrics.
STORE_FIELDS = (
    StatField(
        "samples_appended",
        "spyglass_storage_samples_appended",
        "counter",
        "Samples accepted into the write-ahead log.",
    ),
    StatField(
        "samples_flushed",
        "spyglass_storage_samples_flushed",
        "counter",
        "Samples inserted into ClickHouse.",
    ),
    StatField("flushes", "spyglass_storage_flushes", "counter", "Inserts into ClickHouse."),
    StatField(
        "flush_failures",
        "spyglass_storage_flush_failures",
        "counter",
        "Inserts that failed (the data stays in the WAL and is retried).",
    ),
    StatField(
        "last_flush_seconds",
        "spyglass_storage_last_flush_duration_seconds",
        "gauge",
        "Duration of the latest insert.",
    ),
    StatField(
        "flush_seconds_sum",
        "spyglass_storage_flush_duration_seconds",
        "summary",
        "Time spent inserting into ClickHouse.",
        count_attr="flush_seconds_count",
    ),
    StatField(
        "pending_samples",
        "spyglass_storage_pending_samples",
        "gauge",
        "Samples accepted but not yet inserted.",
    ),
    StatField("wal_bytes", "spyglass_wal_bytes", "gauge", "Write-ahead log size on disk."),
    StatField("wal_segments", "spyglass_wal_segments", "gauge", "Write-ahead log segment files."),
    StatField(
        "series_created",
        "spyglass_storage_series_created",
        "counter",
        "Series rows written (one per series and day).",
    ),
    StatField(
        "replayed_samples",
        "spyglass_wal_replayed_samples",
        "counter",
        "Samples replayed from the WAL at start.",
    ),
)


def load_scrape_config(settings: Settings) -> tuple[Config, str]:
    """The prometheus.yml to run (plus Spyglass's own target when ``scrape_self``), and its text."""
    text = ""
    config = Config()
    if settings.config_file:
        config = load_config_file(settings.config_file)
        text = Path(settings.config_file).read_text()
    if settings.scrape_self:
        # The own job follows the user's global interval and timeout, like any job they wrote.
        g = config.global_config
        own = load_config(
            "global:\n"
            f"  scrape_interval: {format_duration(g.scrape_interval_ms)}\n"
            f"  scrape_timeout: {format_duration(g.scrape_timeout_ms)}\n"
            "scrape_configs:\n"
            "  - job_name: spyglass\n"
            f"    static_configs: [{{targets: ['{settings.listen_address}']}}]\n"
        ).scrape_configs
        if config.scrape_config("spyglass") is not None:
            raise ConfigError(
                "scrape_self is on but the config already has a job 'spyglass'",
                file=settings.config_file,
                field="job_name",
            )
        config = dataclasses.replace(config, scrape_configs=(*config.scrape_configs, *own))
    return config, text


@dataclass
class Runtime:
    """Every long-lived piece of a running Spyglass."""

    settings: Settings
    backend: Backend
    store: MetricsStore
    engine: Engine
    metrics: SelfMetrics
    scrape: ScrapeManager
    config_text: str
    grpc_server: grpc.aio.Server | None = None
    ready: bool = False
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Wire the pieces (nothing runs until ``start``)."""
        config, text = load_scrape_config(settings)
        for warning in config.warnings:
            log.warning("config: %s", warning)
        backend = open_backend(settings.storage_url, settings.data_dir)
        store = MetricsStore(
            backend,
            settings.data_dir,
            retention_ms=settings.retention,
            flush_interval_ms=settings.flush_interval,
            flush_max_samples=settings.flush_max_samples,
            cluster=settings.storage_cluster,
        )
        engine = Engine(
            store,
            EngineOptions(
                lookback_delta_ms=settings.lookback_delta,
                max_samples=settings.query_max_samples,
                timeout_s=settings.query_timeout / 1000,
            ),
        )
        metrics = SelfMetrics()
        metrics.add(StatsCollector(store.stats, STORE_FIELDS))
        return cls(settings, backend, store, engine, metrics, ScrapeManager(store, config), text)

    async def start(self) -> None:
        """Storage first, then receivers, then readiness."""
        await self.store.start()
        await self.scrape.start()
        if self.settings.otlp_grpc_address:
            host, _, port = self.settings.otlp_grpc_address.rpartition(":")
            self.grpc_server = await start_otlp_grpc(
                self.store, self.settings.ingest_limits, host or "127.0.0.1", int(port)
            )
        self.ready = True
        log.info("spyglass %s ready on %s", __version__, self.settings.listen_address)

    async def stop(self) -> None:
        """Receivers first, then flush and close storage."""
        if self._stopped:
            return
        self._stopped = True
        self.ready = False
        await self.scrape.stop()
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=5)
        await self.store.close()
        await asyncio.to_thread(self.backend.close)
        log.info("spyglass stopped; everything accepted is stored")

    def parts(self) -> AppParts:
        """The HTTP application's collaborators."""
        s = self.settings
        prometheus = PrometheusAPI(
            querier=self.store,
            metadata=self.store,
            engine=self.engine,
            build_info=BuildInfo(version=PROMETHEUS_API_VERSION, spyglass_version=__version__),
            targets=self.scrape.targets,
            scrape_pools=self.scrape.scrape_pools,
            targets_metadata=self.scrape.metadata,
            config_yaml=lambda: self.config_text,
            flags={st.option.lstrip("-"): _flag_text(st.name, s) for st in SETTINGS},
            retention=format_duration(s.retention),
            observe_query=self.metrics.observe_query,
        )
        write = WriteAPI(self.store, s.ingest_limits, observe=self.metrics.observe_ingest)
        return AppParts(
            prometheus=prometheus,
            write=write,
            metrics=self.metrics,
            ready=lambda: self.ready,
            start=self.start,
            stop=self.stop,
        )


def _flag_text(name: str, settings: Settings) -> str:
    value: Any = getattr(settings, name)
    kind = next(st.kind for st in SETTINGS if st.name == name)
    if kind == "duration":
        return format_duration(int(value))
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def run(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT; returns the process exit code."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLevelName(settings.log_level.upper()) != logging.DEBUG:
        # httpx logs each request at INFO: a line per scrape of every target. Prometheus logs
        # scrapes at debug level only, and so does Spyglass.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        runtime = Runtime.build(settings)
    except (SpyglassError, OSError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    host, _, port = settings.listen_address.rpartition(":")
    config = uvicorn.Config(
        create_app(runtime.parts()),
        host=host or "127.0.0.1",
        port=int(port),
        log_level=settings.log_level.lower(),
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    # uvicorn handles SIGTERM/SIGINT itself (graceful shutdown runs the lifespan's stop, which
    # flushes storage), then re-raises the signal under the handlers it found. Make those no-ops so
    # a clean shutdown exits 0, as Prometheus does, rather than dying by the re-raised signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    disable_created_metrics()  # type: ignore[no-untyped-call] # Prometheus-style /metrics: no *_created series
    try:
        server.run()
    finally:
        # If uvicorn never reached the lifespan (e.g. the port was taken), release storage here.
        with contextlib.suppress(Exception):
            asyncio.run(runtime.stop())
    if not server.started:
        return 1
    return 0


__all__ = ["PROMETHEUS_API_VERSION", "Runtime", "load_scrape_config", "run"]
