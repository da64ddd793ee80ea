"""The composition root: builds storage, the PromQL engine, scraping and the APIs, and runs them.

This is the only module that imports concrete storage (DESIGN.md, "Ports and one composition
root"): chDB under the data directory by default, a ClickHouse server when ``storage_url`` is
set, and each signal's store. Everything else receives the pieces it needs. What runs is a list
of components (``component.Component``), started in order and stopped in reverse:

    storage (schema, WAL replay, flushers) → scrape → OTLP/gRPC → APIs → web UI → lifecycle (ready)

so receivers start after storage and stop before it, and the final stop flushes everything
accepted: SIGTERM loses nothing, and SIGKILL loses nothing either, because every acknowledged
write is in the WAL. The HTTP port is bound before anything starts, so a taken port fails at once
and "ready" is only said once the port listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import uvicorn
from prometheus_client import disable_created_metrics
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute

from spyglass.core.config import Config, load_config, load_config_file
from spyglass.core.errors import ConfigError, SpyglassError, Unavailable
from spyglass.core.settings import SETTINGS, Settings
from spyglass.core.template import expand_alert_template
from spyglass.core.times import format_duration
from spyglass.core.version import __version__
from spyglass.ingest.scrape import ScrapeManager
from spyglass.notifier import Notifier
from spyglass.promql import Engine, EngineOptions
from spyglass.rules import RuleManager
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.server.api.write import WriteAPI
from spyglass.server.app import create_app
from spyglass.server.component import Assembly, Component, Part, ReloadablePart
from spyglass.server.lifecycle import Lifecycle, ReloadStatus
from spyglass.server.otlp_grpc import MetricsService, start_otlp_grpc
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import EXPLORE, WebUI, contributed_pages, targets_page
from spyglass.storage.backends import CHDB_SUBDIR, open_backend
from spyglass.storage.metrics import DEFAULT_HEAD_WINDOW_MS, MetricsStore
from spyglass.storage.pipeline import pipeline_collectors
from spyglass.storage.state import SqlStateStore, open_state_store

log = logging.getLogger("spyglass")

# The Prometheus version whose API and PromQL semantics Spyglass follows (buildinfo reports it so
# clients that switch features on by version, like Grafana, treat Spyglass as current).
PROMETHEUS_API_VERSION = "3.0.0"
# Longer than the idle timeout of Prometheus' remote-write client (5 minutes) and Go's default
# (90 s): the client then always closes an idle connection first. With uvicorn's default of 5 s,
# equal to remote_write's send deadline, the server closed connections the client was just
# reusing, and Prometheus logged "Failed to send batch, retrying" every half minute.
HTTP_KEEPALIVE_S = 330


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


class Storage:
    """The storage component: every signal's store on the shared backend.

    Starts first and stops last; stopping flushes each store (the runtime then closes the
    backend, which it opened before anything started).
    """

    name = "storage"

    def __init__(self, metrics: MetricsStore, description: str) -> None:
        self.metrics = metrics
        self.description = description

    async def start(self) -> None:
        """Create tables and replay each signal's WAL."""
        log.info("storage: %s", self.description)
        await self.metrics.start()
        replayed = self.metrics.stats().replayed_samples
        if replayed:
            log.info(
                "metrics WAL: replayed %d samples that were accepted but not yet stored "
                "(the last stop was not clean); nothing acknowledged was lost",
                replayed,
            )
        if self.metrics.legacy_wal_files:
            log.info("metrics WAL: moved from <data-dir>/wal to <data-dir>/wal/metrics")

    async def stop(self) -> None:
        """Flush and close every store (the runtime closes the backend after)."""
        await self.metrics.close()

    def routes(self) -> Sequence[BaseRoute]:
        """Storage serves no routes of its own."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """Each signal's write-path counters and the stores' own."""
        return [*pipeline_collectors([self.metrics.pipeline]), *self.metrics.collectors()]


class OtlpGrpc:
    """The OTLP/gRPC receiver component on ``address`` (``host:port``)."""

    name = "otlp-grpc"

    def __init__(self, store: MetricsStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.service = MetricsService(store, settings.ingest_limits)
        self.server: grpc.aio.Server | None = None

    async def start(self) -> None:
        """Bind and serve; a taken port is an error naming it."""
        address = self.settings.otlp_grpc_address
        host, _, port = address.rpartition(":")
        self.server = await start_otlp_grpc(
            self.store,
            self.settings.ingest_limits,
            host or "127.0.0.1",
            int(port),
            service=self.service,
        )
        log.info("OTLP/gRPC receiver on %s", address)

    async def stop(self) -> None:
        """Finish running calls (5 s at most) and close."""
        if self.server is not None:
            await self.server.stop(grace=5)

    def routes(self) -> Sequence[BaseRoute]:
        """gRPC serves no HTTP routes."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """What the receiver's converter rejected and caches."""
        return self.service.collectors()


class Runtime:
    """Every long-lived piece of a running Spyglass, as a list of components."""

    def __init__(self, settings: Settings, config: Config, config_text: str) -> None:
        """Wire the pieces (nothing runs until ``start``)."""
        self.settings = s = settings
        self.config = config
        self.config_text = config_text
        self.metrics = SelfMetrics()
        self.reload_status = ReloadStatus()
        self.backend = open_backend(s.storage_url, s.data_dir)
        try:
            # Control-plane state (the domains to come keep alert states, silences, dashboards
            # there); opening brings its schema up to date.
            self.state: SqlStateStore = open_state_store(s.state_url, s.data_dir)
        except BaseException:
            self.backend.close()
            raise
        log.info("state: %s (schema version %d)", self.state.location, self.state.schema_version)
        metrics_retention_ms = s.metrics_retention or s.retention
        self.store = MetricsStore(
            self.backend,
            s.data_dir,
            retention_ms=metrics_retention_ms,
            flush_interval_ms=s.flush_interval,
            flush_max_samples=s.flush_max_samples,
            cluster=s.storage_cluster,
            head_window_ms=head_window_ms(s),
            head_max_bytes=s.head_max_bytes,
        )
        engine_options = EngineOptions(
            lookback_delta_ms=s.lookback_delta,
            max_samples=s.query_max_samples,
            timeout_s=s.query_timeout / 1000,
        )
        self.engine = Engine(self.store, engine_options)
        self.scrape = ScrapeManager(self.store, config)
        # Where alerting rules' alerts go besides Spyglass itself: prometheus.yml's
        # alerting.alertmanagers, as Prometheus sends them.
        self.notifier = Notifier(config)
        self.rules = RuleManager(
            config,
            querier=self.store,
            sink=self.store,
            alerts=self.notifier,
            expander=expand_alert_template,
            engine_options=engine_options,
            external_url=external_url(s),
        )
        prometheus = PrometheusAPI(
            querier=self.store,
            metadata=self.store,
            engine=self.engine,
            build_info=BuildInfo(version=PROMETHEUS_API_VERSION, spyglass_version=__version__),
            targets=self.scrape.targets,
            scrape_pools=self.scrape.scrape_pools,
            targets_metadata=self.scrape.metadata,
            alertmanagers=self.notifier.status,
            rule_groups=self.rules.groups,
            config_yaml=lambda: self.config_text,
            flags={st.option.lstrip("-"): _flag_text(st.name, s) for st in SETTINGS},
            retention=format_duration(metrics_retention_ms),
            observe_query=self.metrics.observe_query,
            config_status=lambda: (self.reload_status.successful, self.reload_status.success_time),
        )
        write = WriteAPI(self.store, s.ingest_limits, observe=self.metrics.observe_ingest)
        self.lifecycle = Lifecycle(
            self.metrics, reload=self.reload, status=self.reload_status, ready=self._ready_message
        )
        components: list[Component] = [
            Storage(self.store, describe_storage(s)),
            ReloadablePart(
                "scrape",
                start=self._start_scrape,
                stop=self.scrape.stop,
                reload=self._reload_scrape,
            ),
        ]
        if s.otlp_grpc_address:
            components.append(OtlpGrpc(self.store, s))
        components += [self.notifier, self.rules]
        components += [
            Part("prometheus-api", routes=prometheus.routes),
            Part("write-api", routes=write.routes, collectors=write.collectors),
        ]
        # The web UI: Explore, Targets and the pages other components offer, after every API
        # route.
        pages = [EXPLORE, targets_page(self.scrape.targets), *contributed_pages(components)]
        components.append(WebUI(pages))
        components.append(self.lifecycle)  # last: ready once everything else runs
        self.assembly = Assembly(components)
        self._stopped = False

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Read the config and wire the pieces."""
        config, text = load_scrape_config(settings)
        for warning in config.warnings:
            log.warning("config: %s", warning)
        runtime = cls(settings, config, text)
        try:
            runtime.rules.prepare()  # a rule file that does not load stops start-up here
        except BaseException:
            runtime.backend.close()
            runtime.state.close()
            raise
        return runtime

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every component in order (storage first, readiness last)."""
        await self.assembly.start()

    async def stop(self) -> None:
        """Stop every component in reverse order, then close the backend (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        await self.assembly.stop()
        await asyncio.to_thread(self.backend.close)
        await asyncio.to_thread(self.state.close)
        log.info("spyglass stopped; everything accepted is stored")

    async def reload(self) -> None:
        """Read the config files again and hand them to every component that reloads.

        A file that does not load keeps the old config everywhere; a component that refuses
        the new config keeps its old one, the others apply theirs (as Prometheus does), and
        the reload counts as failed.
        """
        config, text = await asyncio.to_thread(load_scrape_config, self.settings)
        for warning in config.warnings:
            log.warning("config: %s", warning)
        failures = []
        for c in self.assembly.reloadable():
            try:
                await c.reload(config)
            except SpyglassError as exc:
                failures.append(f"{getattr(c, 'name', c)}: {exc}")
            except Exception as exc:  # a bug in one component must not end the reload
                log.exception("reloading %s failed", getattr(c, "name", c))
                failures.append(f"{getattr(c, 'name', c)}: {exc}")
        self.config, self.config_text = config, text
        if failures:
            raise ConfigError("; ".join(failures), file=self.settings.config_file)

    async def _start_scrape(self) -> None:
        await self.scrape.start()
        log.info("%s", describe_scrape(self.settings, self.config, len(self.scrape.loops())))

    async def _reload_scrape(self, config: Config) -> None:
        await self.scrape.reload(config)
        log.info("%s", describe_scrape(self.settings, config, len(self.scrape.loops())))

    def _ready_message(self) -> str:
        url = f"http://{self.settings.listen_address}"
        return (
            f"spyglass {__version__} ready on {url}: Prometheus API {url}/api/v1 "
            f"(Grafana's Prometheus data source takes this URL), remote_write "
            f"{url}/api/v1/write, OTLP/HTTP {url}/v1/metrics"
        )


def external_url(settings: Settings) -> str:
    """``--external-url``, or Prometheus' default: this host's name and the listen port."""
    if settings.external_url:
        return settings.external_url.rstrip("/")
    port = settings.listen_address.rpartition(":")[2]
    return f"http://{socket.gethostname()}:{port}"


def head_window_ms(settings: Settings) -> int:
    """The metrics head's window: as set, else 2h with embedded storage and off with a
    ClickHouse server.

    The head knows only what this node wrote; other nodes writing to the same server would be
    missing from it, so there it takes an explicit ``--head-window`` (docs/decisions.md).
    """
    if settings.head_window is not None:
        return settings.head_window
    return 0 if settings.storage_url else DEFAULT_HEAD_WINDOW_MS


def describe_storage(settings: Settings) -> str:
    """Where the data goes, for the start-up log."""
    keep = format_duration(settings.metrics_retention or settings.retention)
    if settings.storage_url:
        where = f"ClickHouse server {_redact(settings.storage_url)}"
        if settings.storage_cluster:
            where += f", cluster {settings.storage_cluster}"
    else:
        where = f"embedded ClickHouse (chDB) in {Path(settings.data_dir) / CHDB_SUBDIR}"
    window = head_window_ms(settings)
    head = f"last {format_duration(window)} also in memory" if window else "no in-memory head"
    return f"{where}; WAL in {Path(settings.data_dir) / 'wal'}; metrics kept {keep}; {head}"


def describe_scrape(settings: Settings, config: Config, targets: int) -> str:
    """What is scraped, or why nothing is, for the start-up log."""
    jobs = [sc.job_name for sc in config.scrape_configs]
    if not jobs:
        return (
            "scraping nothing: no --config-file with scrape_configs and no --scrape-self, so "
            "`up` stays empty; pass --config-file prometheus.yml, or --scrape-self to scrape "
            "Spyglass itself (pushed data via remote_write and OTLP is stored either way)"
        )
    source = settings.config_file or "--scrape-self"
    names = ", ".join(jobs[:5]) + (f" and {len(jobs) - 5} more" if len(jobs) > 5 else "")
    return f"scraping {targets} targets in {len(jobs)} jobs ({names}) from {source}"


def _redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


def _flag_text(name: str, settings: Settings) -> str:
    value: Any = getattr(settings, name)
    setting = next(st for st in SETTINGS if st.name == name)
    kind = setting.kind
    if kind == "duration" and not value and not setting.default:
        return ""  # unset, e.g. a signal's retention that falls back to --retention
    if kind == "duration":
        return format_duration(int(value))
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def bind_http(address: str, option: str = "--listen-address") -> socket.socket:
    """A listening socket on ``address``; ``Unavailable`` naming the address and the ``option``
    that set it when it cannot be bound."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP said explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only
        # on sockets that say so, and with it on every kept-alive request waited 40 ms for
        # the client's delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, int(port)))
            sock.listen(2048)
        except BaseException:
            sock.close()
            raise
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise Unavailable(f"cannot listen on {address} ({option}): {reason}") from None
    sock.set_inheritable(True)
    return sock


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
        sock = bind_http(settings.listen_address)
    except Unavailable as exc:
        log.error("cannot start: %s", exc)
        return 1
    try:
        if settings.otlp_grpc_address:
            # Fail before opening storage, with a clear line; the real bind at start (which
            # refuses port sharing too) only races with another process starting meanwhile.
            bind_http(settings.otlp_grpc_address, "--otlp-grpc-address").close()
        runtime = Runtime.build(settings)
    except (SpyglassError, OSError) as exc:
        sock.close()
        log.error("cannot start: %s", exc)
        return 1
    config = uvicorn.Config(
        create_app(runtime.assembly, runtime.metrics),
        log_level=settings.log_level.lower(),
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=HTTP_KEEPALIVE_S,
    )
    server = uvicorn.Server(config)
    # uvicorn handles SIGTERM/SIGINT itself (graceful shutdown runs the lifespan's stop, which
    # flushes storage), then re-raises the signal under the handlers it found. Make those no-ops so
    # a clean shutdown exits 0, as Prometheus does, rather than dying by the re-raised signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    disable_created_metrics()  # type: ignore[no-untyped-call] # Prometheus-style /metrics: no *_created series
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        # If uvicorn never reached the lifespan, or its start-up failed, release storage here.
        with contextlib.suppress(Exception):
            asyncio.run(runtime.stop())
    if not server.started:
        return 1
    return 0


__all__ = [
    "HTTP_KEEPALIVE_S",
    "PROMETHEUS_API_VERSION",
    "Runtime",
    "bind_http",
    "describe_scrape",
    "describe_storage",
    "load_scrape_config",
    "run",
]
