"""The composition root: builds storage, the PromQL engine, scraping and the APIs, and runs them.

This is the only module that imports concrete storage (DESIGN.md, "Ports and one composition
root"): chDB under the data directory by default, a ClickHouse server when ``storage_url`` is
set, and each signal's store. Everything else receives the pieces it needs. What runs is a list
of components (``component.Component``), started in order and stopped in reverse:

    storage (schema, WAL replay, flushers) → scrape → OTLP/gRPC → router → notifier → rules
    → dashboards → APIs → web UI → lifecycle (ready)

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
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import grpc
import uvicorn
from prometheus_client import disable_created_metrics
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute

from spyglass.alerting import Router, Silences
from spyglass.core.alerts import Alert, FanOut
from spyglass.core.config import Config, load_config, load_config_file
from spyglass.core.errors import ConfigError, SpyglassError, Unavailable
from spyglass.core.settings import SETTINGS, Settings
from spyglass.core.template import expand_alert_template
from spyglass.core.times import format_duration
from spyglass.core.version import __version__
from spyglass.dashboards import DashboardService, Provisioner
from spyglass.errors import ErrorTracker
from spyglass.incidents import AlertWatcher, IncidentService, load_incidents_config
from spyglass.ingest.active_streams import ActiveStreams
from spyglass.ingest.otlp import MetricsConverter
from spyglass.ingest.remote_write import RemoteWriteDecoder
from spyglass.ingest.scrape import ScrapeManager
from spyglass.logs import EngineOptions as LogQueryOptions
from spyglass.notifier import Notifier
from spyglass.probes import ProbeScheduler
from spyglass.promql import Engine, EngineOptions, RangeCache
from spyglass.rules import RuleManager
from spyglass.server.api.acks import AcksAPI
from spyglass.server.api.alertmanager import AlertmanagerAPI
from spyglass.server.api.errors import ErrorsAPI
from spyglass.server.api.grafana import GrafanaAPI, PrometheusVariables
from spyglass.server.api.incidents import IncidentsAPI
from spyglass.server.api.jaeger import JaegerAPI
from spyglass.server.api.log_analysis import LogAnalysisAPI
from spyglass.server.api.logs_ingest import LogsIngestAPI
from spyglass.server.api.loki import LokiAPI
from spyglass.server.api.loki_rules import LokiRulesAPI
from spyglass.server.api.notifications import NotificationsAPI
from spyglass.server.api.probe import ProbeAPI
from spyglass.server.api.prometheus import BuildInfo, PrometheusAPI
from spyglass.server.api.sentry import SentryAPI, parse_keys
from spyglass.server.api.silences import SilencesAPI
from spyglass.server.api.slo import SLOAPI
from spyglass.server.api.traces_ingest import SpanIntake, TracesIngestAPI
from spyglass.server.api.why import WhyAPI
from spyglass.server.api.write import WriteAPI
from spyglass.server.app import create_app
from spyglass.server.component import Assembly, Component, Part, ReloadablePart
from spyglass.server.heapgc import HeapGC
from spyglass.server.lifecycle import Lifecycle, ReloadStatus
from spyglass.server.log_streams import LogStreamLimit
from spyglass.server.otlp_grpc import LogsService, MetricsService, TraceService, start_otlp_grpc
from spyglass.server.otlp_http import ListenerSplit, otlp_app
from spyglass.server.process_memory import tune_allocator
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import (
    EXPLORE,
    LOGS,
    StatusSources,
    WebUI,
    alerts_page,
    contributed_pages,
    dashboard_pages,
    error_pages,
    incident_pages,
    notifications_page,
    rules_page,
    service_map_page,
    silences_page,
    slo_pages,
    status_pages,
    targets_page,
    trace_pages,
    uptime_page,
)
from spyglass.server.webconfig import WebConfigSource
from spyglass.server.webguard import WebGuard
from spyglass.slo import SLOService
from spyglass.storage.backends import CHDB_SUBDIR, open_backend, release_startup_memory
from spyglass.storage.errors import ErrorStore, SqlIssueStore
from spyglass.storage.exemplars import ExemplarStore
from spyglass.storage.logs import LogStore
from spyglass.storage.metrics import DEFAULT_HEAD_WINDOW_MS, MetricsStore
from spyglass.storage.pipeline import SignalPipeline, pipeline_collectors
from spyglass.storage.state import SqlStateStore, open_state_store
from spyglass.storage.traces import SpanStore
from spyglass.traces import SpanMetrics
from spyglass.why import error_issues, log_patterns, trace_operations

log = logging.getLogger("spyglass")

# The Prometheus version whose API and PromQL semantics Spyglass follows (buildinfo reports it so
# clients that switch features on by version, like Grafana, treat Spyglass as current).
PROMETHEUS_API_VERSION = "3.0.0"
# Longer than the idle timeout of Prometheus' remote-write client (5 minutes) and Go's default
# (90 s): the client then always closes an idle connection first. With uvicorn's default of 5 s,
# equal to remote_write's send deadline, the server closed connections the client was just
# reusing, and Prometheus logged "Failed to send batch, retrying" every half minute.
HTTP_KEEPALIVE_S = 330
# How often silences are read again from a state database other nodes may share.
SILENCES_SYNC_S = 10.0


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


class SignalStore(Protocol):
    """What the storage component needs of a store besides metrics' (logs, spans, errors)."""

    @property
    def pipeline(self) -> SignalPipeline[Any]: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def collectors(self) -> list[Collector]: ...


class Storage:
    """The storage component: every signal's store on the shared backend.

    Starts first and stops last; stopping flushes each store (the runtime then closes the
    backend, which it opened before anything started). Metrics start first; every other
    signal's store (``others``) starts after it in order and stops before it in reverse.
    """

    name = "storage"

    def __init__(
        self, metrics: MetricsStore, description: str, others: Sequence[SignalStore] = ()
    ) -> None:
        self.metrics = metrics
        self.description = description
        self.others = list(others)

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
        for store in self.others:
            await store.start()
            pipeline = store.pipeline
            replayed = pipeline.stats().replayed_items
            if replayed:
                log.info(
                    "%s WAL: replayed %d %s accepted but not yet stored",
                    pipeline.signal.name,
                    replayed,
                    pipeline.signal.unit,
                )

    async def stop(self) -> None:
        """Flush and close every store (the runtime closes the backend after)."""
        for store in reversed(self.others):
            await store.close()
        await self.metrics.close()

    def routes(self) -> Sequence[BaseRoute]:
        """Storage serves no routes of its own."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """Each signal's write-path counters and the stores' own."""
        pipelines = [self.metrics.pipeline, *(s.pipeline for s in self.others)]
        own = [c for s in self.others for c in s.collectors()]
        return [*pipeline_collectors(pipelines), *self.metrics.collectors(), *own]


class OtlpGrpc:
    """The OTLP/gRPC receiver component on ``address`` (``host:port``)."""

    name = "otlp-grpc"

    def __init__(
        self,
        store: MetricsStore,
        settings: Settings,
        logs: LogStore | None = None,
        *,
        traces: TraceService | None = None,
        exemplars: ExemplarStore | None = None,
        log_streams: ActiveStreams | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.service = MetricsService(
            store,
            settings.ingest_limits,
            converter=MetricsConverter(cache_bytes=settings.label_cache_bytes),
            exemplars=exemplars,
        )
        self.logs = (
            LogsService(logs, settings.log_limits, streams=log_streams)
            if logs is not None
            else None
        )
        self.traces = traces
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
            logs=self.logs,
            traces=self.traces,
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

    def __init__(
        self,
        settings: Settings,
        config: Config,
        config_text: str,
    ) -> None:
        """Wire the pieces (nothing runs until ``start``)."""
        self.settings = s = settings
        self.config = config
        self.config_text = config_text
        # The web config first: a bad file stops start-up before storage is opened.
        self.web = WebConfigSource(s.web_config_file) if s.web_config_file else None
        self.error_keys = parse_keys(s.errors_keys)  # and a bad --errors-keys
        if (
            self.web is not None
            and s.scrape_self
            and (self.web.config.basic_auth_users or self.web.tls)
        ):
            log.warning(
                "--scrape-self scrapes over plain HTTP without credentials, but the web config "
                "asks for HTTPS or basic auth: the job 'spyglass' will be down; scrape "
                "Spyglass from a job in --config-file with scheme, basic_auth and tls_config"
            )
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
        # Alertmanager's silences, kept in the state store; the router asks them through
        # ``mutes``, and a loaded alertmanager.yml hands them its maintenance windows
        # (``silences.apply_config``).
        try:
            # A state database named by --state-url may be shared with other nodes: read what
            # they change every few seconds.
            self.silences = Silences(
                self.state, sync_interval_s=SILENCES_SYNC_S if s.state_url else 0.0
            )
        except BaseException:
            self.state.close()
            self.backend.close()
            raise
        counts = self.silences.count()
        log.info(
            "silences: %d active, %d pending, %d expired in the state store",
            counts["active"],
            counts["pending"],
            counts["expired"],
        )
        silences_api = SilencesAPI(self.silences)
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
            sole_writer=not s.storage_url,  # embedded: no other node writes to its storage
            older_reads_bytes=s.older_reads_max_bytes,
        )
        # Logs: the second signal on the same backend, with its own WAL, buffer and flusher.
        self.logs = LogStore(
            self.backend,
            s.data_dir,
            retention_ms=s.logs_retention or s.retention,
            flush_interval_ms=s.flush_interval,
            cluster=s.storage_cluster,
            max_pending_bytes=s.logs_max_pending_bytes,
        )
        # One count of active log streams for every log push path (--logs-max-streams).
        self.log_streams = ActiveStreams(s.logs_max_streams)
        # Error events: a third signal on the same backend; their issues are control-plane
        # state (the tracker using both is built below).
        self.errors = ErrorStore(
            self.backend,
            s.data_dir,
            retention_ms=s.errors_retention or s.retention,
            flush_interval_ms=s.flush_interval,
            cluster=s.storage_cluster,
        )
        # Spans: the third signal, with its own WAL, buffer and flusher. Accepted batches go
        # through one intake for every protocol; ``span_intake.listeners`` see each one once
        # it is durable (derived data, such as span metrics, plugs in there).
        self.spans = SpanStore(
            self.backend,
            s.data_dir,
            retention_ms=s.traces_retention or s.retention,
            flush_interval_ms=s.flush_interval,
            cluster=s.storage_cluster,
        )
        self.span_intake = SpanIntake(self.spans, s.span_limits)
        # Exemplars: their own signal on the same backend, kept as long as the samples.
        self.exemplars = ExemplarStore(
            self.backend,
            s.data_dir,
            retention_ms=metrics_retention_ms,
            flush_interval_ms=s.flush_interval,
            cluster=s.storage_cluster,
        )
        # Span metrics: RED series and the service graph from spans, for trace ingest to call
        # with every batch it accepts (``--span-metrics``).
        self.span_metrics = SpanMetrics(self.store, self.exemplars) if s.span_metrics else None
        if self.span_metrics is not None:
            self.span_intake.listeners.append(self.span_metrics)
        engine_options = query_options(s)
        # Range query results of the immutable past; late samples the store accepts drop
        # what they change (docs/decisions.md, "A cache for range queries").
        self.range_cache = (
            RangeCache(s.range_cache_max_bytes, s.range_cache_offset) if range_cache_on(s) else None
        )
        if self.range_cache is not None:
            self.store.add_write_listener(self.range_cache.samples_written)
        # The head bounds what a selector reads, so small instant queries skip the worker hop.
        self.engine = Engine(
            self.store, engine_options, cache=self.range_cache, bound=self.store.head
        )
        self.scrape = ScrapeManager(self.store, config, exemplars=self.exemplars)
        # Where alerting rules' alerts go besides Spyglass itself: prometheus.yml's
        # alerting.alertmanagers, as Prometheus sends them.
        self.notifier = Notifier(config)
        # Spyglass as an Alertmanager: alertmanager.yml's routing, in process. Rules' alerts go
        # to it and to the external Alertmanagers alike.
        self.router = Router(
            s.alertmanager_config_file,
            self.state,
            external_url=external_url(s),
            silencer=self.silences,
        )
        # Incidents: opened by hand or by alerts the router stores (spyglass: incidents: in
        # alertmanager.yml); their updates go out through the router.
        self.incidents = IncidentService(
            self.state, notify=self.router.send, external_url=external_url(s)
        )
        self.incident_watcher = AlertWatcher(self.incidents)
        # SLOs: their generated rules run with the rule files', and their status is served.
        self.slos = SLOService(s.slo_files, self.state)
        self.rules = RuleManager(
            config,
            querier=self.store,
            sink=self.store,
            alerts=FanOut(_AsSentToAlertmanagers(self.router, self.notifier), self.notifier),
            expander=expand_alert_template,
            # Rules read their selectors in one prefetched batch, not through the push-down.
            engine_options=dataclasses.replace(engine_options, push_down=False),
            external_url=external_url(s),
            generated=self.slos.rule_texts,
            # LogQL rules (type: logql groups, --logs-rule-files) read the logs, as Loki's ruler.
            logs=self.logs,
            logql_options=LogQueryOptions(timeout_s=s.query_timeout / 1000),
            logs_rule_files=s.logs_rule_files,
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
            series_stats=self.store,
            wal_replay=lambda: dataclasses.asdict(self.store.replay_progress()),
            external_labels=lambda: self.config.global_config.external_labels,
            lookback_delta_ms=s.lookback_delta,
            storage_status=self._storage_status,
            uncached_engine=Engine(self.store, engine_options) if self.range_cache else None,
            reset_cache=self.range_cache.reset if self.range_cache else None,
            exemplars=self.exemplars,
        )
        write = WriteAPI(
            self.store,
            s.ingest_limits,
            observe=self.metrics.observe_ingest,
            remote_write_decoder=RemoteWriteDecoder(cache_bytes=s.label_cache_bytes),
            otlp_converter=MetricsConverter(cache_bytes=s.label_cache_bytes),
            exemplars=self.exemplars,
        )
        logs_ingest = LogsIngestAPI(
            self.logs,
            s.log_limits,
            s.ingest_limits,
            observe=self.metrics.observe_ingest,
            room=self.logs.check_room,
            streams=self.log_streams,
        )
        # Log patterns and user impact; "why did this change" asks the patterns too.
        log_analysis = LogAnalysisAPI.from_settings(self.logs, s)
        traces_ingest = TracesIngestAPI(
            self.span_intake, s.ingest_limits, observe=self.metrics.observe_ingest
        )
        # Grafana dashboards: kept in the state store, plus the built-in and provisioned ones.
        self.dashboards = DashboardService(self.state)
        self.provisioner = Provisioner(self.dashboards, s.dashboards_config_file)
        grafana = GrafanaAPI(
            self.dashboards,
            PrometheusVariables(self.store, self.engine),
            # Spyglass is the data source, so its "scrape interval" (which $__rate_interval is
            # built on) is the one prometheus.yml sets, not Grafana's guess of 15 s.
            scrape_interval_s=lambda: self.config.global_config.scrape_interval_ms / 1000,
        )
        self.error_tracker = ErrorTracker(
            self.errors,
            SqlIssueStore(self.state),
            # New and regressed issues are alerts, sent where rules' alerts go.
            FanOut(_AsSentToAlertmanagers(self.router, self.notifier), self.notifier),
            external_url=external_url(s),
            retention_ms=s.errors_retention or s.retention,
        )
        sentry = SentryAPI(
            self.error_tracker,
            self.error_keys,
            max_body_bytes=s.max_body_bytes,
            observe=self.metrics.observe_ingest,
        )
        self.lifecycle = Lifecycle(
            self.metrics, reload=self.reload, status=self.reload_status, ready=self._ready_message
        )
        components: list[Component] = [
            Storage(
                self.store,
                describe_storage(s),
                [self.logs, self.spans, self.errors, self.exemplars],
            ),
            # Right after storage: stops just before it, so its last collection is stored.
            *([self.span_metrics] if self.span_metrics is not None else []),
            # After storage, whose logs WAL is replayed by then: seeds the stream limit.
            LogStreamLimit(self.log_streams, self.logs),
            ReloadablePart(
                "scrape",
                start=self._start_scrape,
                stop=self.scrape.stop,
                reload=self._reload_scrape,
            ),
        ]
        if s.otlp_grpc_address:
            components.append(
                OtlpGrpc(
                    self.store,
                    s,
                    self.logs,
                    traces=TraceService(self.span_intake),
                    log_streams=self.log_streams,
                    exemplars=self.exemplars,
                )
            )
        components.append(
            ReloadablePart(
                "router",
                start=self.router.start,
                stop=self.router.stop,
                reload=lambda _config: self._reload_router(),
                collectors=self.router.collectors,
            )
        )
        components += [self.notifier, self.rules, self.provisioner]
        # Blackbox probes: /probe for a scraping Prometheus, and the probes file's own schedule.
        self.probes = ProbeScheduler(s.probes_config_file, self.store.append)
        components.append(
            ReloadablePart(
                "probes",
                start=self.probes.start,
                stop=self.probes.stop,
                reload=lambda _config: self.probes.reload(),
                collectors=self.probes.collectors,
            )
        )
        components += [
            Part(
                "prometheus-api",
                routes=prometheus.routes,
                collectors=self.range_cache.collectors if self.range_cache else list,
            ),
            Part(
                "alertmanager-api",
                routes=AlertmanagerAPI(self.router, max_body_bytes=s.max_body_bytes).routes,
            ),
            Part("acks-api", routes=AcksAPI(self.router).routes),
            Part("notifications-api", routes=NotificationsAPI(self.router.history).routes),
            Part("write-api", routes=write.routes, collectors=write.collectors),
            Part("logs-ingest-api", routes=logs_ingest.routes),
            Part(
                "loki-api",
                routes=LokiAPI(self.logs, LogQueryOptions(timeout_s=s.query_timeout / 1000)).routes,
            ),
            Part("log-analysis-api", routes=log_analysis.routes),
            Part(
                "why-api",
                routes=WhyAPI(
                    self.engine,
                    [
                        log_patterns(log_analysis.analysis),
                        error_issues(self.error_tracker.issues),
                        trace_operations(self.spans),
                    ],
                ).routes,
            ),
            Part("loki-rules-api", routes=LokiRulesAPI(self.rules.groups).routes),
            Part(
                "silences",
                start=self.silences.start,
                stop=self.silences.stop,
                routes=silences_api.routes,
                collectors=self.silences.collectors,
            ),
            Part("grafana-api", routes=grafana.routes),
            Part("probe-api", routes=ProbeAPI(self.probes).routes),
            Part(
                "slo-api",
                routes=SLOAPI(
                    self.slos, self.engine, lambda: self.rules.reload(self.config)
                ).routes,
            ),
            Part(
                "incidents",
                start=self._start_incidents,
                stop=lambda: asyncio.to_thread(self.incident_watcher.stop),
                routes=IncidentsAPI(
                    self.incidents,
                    lambda start, end: self.slos.spent(self.engine, start, end),
                ).routes,
            ),
            Part(
                "errors",
                start=self.error_tracker.start,
                stop=self.error_tracker.stop,
                routes=lambda: [*sentry.routes(), *ErrorsAPI(self.error_tracker).routes()],
                collectors=self.error_tracker.collectors,
            ),
            Part(
                "traces-ingest-api",
                routes=traces_ingest.routes,
                collectors=traces_ingest.collectors,
            ),
            Part("jaeger-api", routes=JaegerAPI(self.spans).routes),
        ]
        # The web UI: Explore, Targets, Rules, Alerts, Silences, Status and the pages other
        # components offer, after every API route. Silences reads Alertmanager's API v2 on this
        # server.
        status = StatusSources(
            runtime_info=prometheus.runtime_info,
            build_info=prometheus.build_info_json,
            flags=prometheus.flags,
            config_text=prometheus.config_shown,
            tsdb_status=prometheus.tsdb_status,
            targets=self.scrape.targets,
        )
        pages = [
            EXPLORE,
            LOGS,  # the Loki API above answers its queries
            *dashboard_pages(self.dashboards),
            targets_page(self.scrape.targets),
            rules_page(self.rules.groups),
            alerts_page(self.rules.groups, held=self.router.active_alerts),
            silences_page(),
            notifications_page(self.router.history.recent),
            *status_pages(status),
            *trace_pages(self.spans, self.error_tracker),  # Jaeger's API answers the search
            *error_pages(self.error_tracker),
            *slo_pages(self.slos, self.engine, self.rules.groups),
            *incident_pages(self.incidents),
            uptime_page(self.probes, self.engine),
            *contributed_pages(components),
            # Last: the Traces section's link goes to its first page, the trace search.
            service_map_page(span_metrics=self.span_metrics is not None),
        ]
        components.append(WebUI(pages))
        components.append(HeapGC())  # full collections walk only what is new (heapgc.py)
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
            runtime._load_router()  # and so does an alertmanager.yml
        except BaseException:
            runtime.backend.close()
            runtime.state.close()
            raise
        return runtime

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every component in order (storage first, readiness last), then hand back the
        memory only start-up needed (``release_startup_memory``)."""
        await self.assembly.start()
        released = await asyncio.to_thread(release_startup_memory, self.backend)
        if released:
            log.debug("start-up over: %.1f MiB of resident pages handed back", released / 2**20)

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
        if self.web is not None:
            try:
                await asyncio.to_thread(self.web.reload)
            except ConfigError as exc:
                failures.append(f"web config: {exc}")
        if failures:
            raise ConfigError("; ".join(failures), file=self.settings.config_file)

    def _storage_status(self) -> dict[str, object]:
        st = self.store.stats()
        return {
            "description": describe_storage(self.settings),
            "samplesAppended": st.samples_appended,
            "samplesFlushed": st.samples_flushed,
            "pendingSamples": st.pending_samples,
            "walSegments": st.wal_segments,
            "walBytes": st.wal_bytes,
            "walReplay": dataclasses.asdict(self.store.replay_progress()),
            "replayedSamples": st.replayed_samples,
            "flushFailures": st.flush_failures,
            "lastFlushError": st.last_flush_error,
        }

    def _load_router(self) -> None:
        self.router.load()
        self._apply_maintenance_windows()
        self._apply_incident_rules()

    async def _reload_router(self) -> None:
        await self.router.reload()
        self._apply_maintenance_windows()
        self._apply_incident_rules()

    def _apply_incident_rules(self) -> None:
        """Hand the incident service the ``spyglass: incidents:`` of the alertmanager.yml just
        loaded (a bad section raises ``ConfigError``, failing the start or the reload)."""
        if self.router.loaded is not None:
            node = self.router.loaded.config.spyglass.incidents
            self.incidents.config = load_incidents_config(node)

    async def _start_incidents(self) -> None:
        self.incident_watcher.start()
        self.router.store.subscribe(lambda a: self.incident_watcher(a.alert, a.fingerprint))

    def _apply_maintenance_windows(self) -> None:
        """Hand the silences the maintenance windows of the alertmanager.yml just loaded."""
        if self.router.loaded is not None:
            self.silences.apply_config(self.router.loaded.config)

    async def _start_scrape(self) -> None:
        await self.scrape.start()
        log.info("%s", describe_scrape(self.settings, self.config, len(self.scrape.loops())))

    async def _reload_scrape(self, config: Config) -> None:
        await self.scrape.reload(config)
        log.info("%s", describe_scrape(self.settings, config, len(self.scrape.loops())))

    def _ready_message(self) -> str:
        scheme = "https" if self.web is not None and self.web.tls else "http"
        url = f"{scheme}://{self.settings.listen_address}"
        return (
            f"spyglass {__version__} ready on {url}: Prometheus API {url}/api/v1 "
            f"(Grafana's Prometheus data source takes this URL), remote_write "
            f"{url}/api/v1/write, OTLP/HTTP {url}/v1/metrics"
        )


class _AsSentToAlertmanagers:
    """The router gets rules' alerts as an external Alertmanager would: with prometheus.yml's
    external labels and alert relabeling applied."""

    def __init__(self, router: Router, notifier: Notifier) -> None:
        self.router = router
        self.notifier = notifier

    def send(self, alerts: Sequence[Alert]) -> None:
        relabeled = self.notifier.relabeled(alerts)
        if relabeled:
            self.router.send(relabeled)


def external_url(settings: Settings) -> str:
    """``--external-url``, or Prometheus' default: this host's name and the listen port."""
    if settings.external_url:
        return settings.external_url.rstrip("/")
    port = settings.listen_address.rpartition(":")[2]
    return f"http://{socket.gethostname()}:{port}"


def query_options(settings: Settings) -> EngineOptions:
    """PromQL engine options of the HTTP API and the UI: the settings' limits, and whether
    range functions are pushed down to ClickHouse (``--query-push-down``)."""
    return EngineOptions(
        lookback_delta_ms=settings.lookback_delta,
        max_samples=settings.query_max_samples,
        timeout_s=settings.query_timeout / 1000,
        push_down=settings.query_push_down,
    )


def head_window_ms(settings: Settings) -> int:
    """The metrics head's window: as set, else 2h with embedded storage and off with a
    ClickHouse server.

    The head knows only what this node wrote; other nodes writing to the same server would be
    missing from it, so there it takes an explicit ``--head-window`` (docs/decisions.md).
    """
    if settings.head_window is not None:
        return settings.head_window
    return 0 if settings.storage_url else DEFAULT_HEAD_WINDOW_MS


def range_cache_on(settings: Settings) -> bool:
    """Whether range queries go through the range query cache: as set, else on with embedded
    storage and off with a ClickHouse server.

    A node learns of late samples only from its own writes; with other nodes writing to the
    same server its cache could keep answers their late samples changed (docs/decisions.md).
    """
    if settings.range_cache_max_bytes == 0:
        return False
    if settings.range_cache is not None:
        return settings.range_cache
    return not settings.storage_url


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
    logs = format_duration(settings.logs_retention or settings.retention)
    errors = format_duration(settings.errors_retention or settings.retention)
    spans = format_duration(settings.traces_retention or settings.retention)
    return (
        f"{where}; WAL in {Path(settings.data_dir) / 'wal'}; metrics kept {keep}, logs {logs}, "
        f"spans {spans}, error events {errors}; {head}"
    )


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
    """A setting's effective value, as Prometheus' /flags shows each flag's value: a setting left
    empty shows what it falls back to (``2h``, ``0s`` for off), never an empty cell."""
    value: Any = getattr(settings, name)
    setting = next(st for st in SETTINGS if st.name == name)
    kind = setting.kind
    if name == "head_window":
        return format_duration(head_window_ms(settings))
    if name == "external_url":
        return external_url(settings)
    if kind == "duration" and not value and not setting.default and name.endswith("_retention"):
        return format_duration(settings.retention)  # a signal's own retention, unset
    if kind == "duration":
        return format_duration(int(value))
    if kind == "bool":
        # None: left to the runtime (--range-cache), shown empty as it was given.
        return "" if value is None else "true" if value else "false"
    if isinstance(value, tuple):  # file globs
        return ",".join(value)
    if name in ("storage_url", "state_url"):
        return _redact(str(value))  # /flags and its page must not show a database password
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


class _UvicornConfig(uvicorn.Config):
    """uvicorn's config serving with an ``ssl.SSLContext`` built here (from the web config)
    rather than one uvicorn builds from file names: it carries the client-certificate policy,
    versions and ciphers, and a reload rotates its certificate in place."""

    def __init__(self, app: Any, *, ssl_context: ssl.SSLContext | None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._ssl_context = ssl_context

    def load(self) -> None:
        super().load()
        if self._ssl_context is not None:
            self.ssl = self._ssl_context


def bind_otlp_http(settings: Settings) -> socket.socket | None:
    """The OTLP/HTTP listener's socket, or ``None`` when it is off or its default port is taken
    (logged: Spyglass runs without it). A port the user chose that is taken raises
    ``Unavailable``: Spyglass must not start without what was asked for."""
    if not settings.otlp_http_address:
        return None
    try:
        return bind_http(settings.otlp_http_address, "--otlp-http-address")
    except Unavailable as exc:
        if "otlp_http_address" in settings.explicit:
            raise
        log.warning(
            "%s: OpenTelemetry SDKs' default endpoint will not reach Spyglass (OTLP/HTTP is "
            "still served on --listen-address); set --otlp-http-address to another port, "
            "or to empty to turn this listener off",
            exc,
        )
        return None


def run(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT; returns the process exit code."""
    tune_allocator()  # before chDB starts its threads (server/process_memory.py)
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
        otlp_sock = bind_otlp_http(settings)
    except Unavailable as exc:
        sock.close()
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
        if otlp_sock:
            otlp_sock.close()
        log.error("cannot start: %s", exc)
        return 1
    app: Any = create_app(runtime.assembly, runtime.metrics)
    sockets = [sock]
    if otlp_sock:
        # Same server, second socket: what arrives there reaches only the OTLP routes.
        port = otlp_sock.getsockname()[1]
        app = ListenerSplit(app, otlp_app(runtime.assembly.routes(), runtime.metrics), port)
        sockets.append(otlp_sock)
        log.info("OTLP/HTTP receiver on %s", settings.otlp_http_address)
    if runtime.web is not None:
        app = WebGuard(app, runtime.web)
    config = _UvicornConfig(
        app,
        ssl_context=runtime.web.ssl_context if runtime.web is not None else None,
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
        server.run(sockets=sockets)
    finally:
        for each in sockets:
            each.close()
        # If uvicorn never reached the lifespan, or its start-up failed, release storage here.
        with contextlib.suppress(Exception):
            asyncio.run(runtime.stop())
    if not server.started:
        return 1
    return 0


__all__ = [
    "HTTP_KEEPALIVE_S",
    "PROMETHEUS_API_VERSION",
    "SILENCES_SYNC_S",
    "Runtime",
    "bind_http",
    "bind_otlp_http",
    "describe_scrape",
    "describe_storage",
    "load_scrape_config",
    "run",
]
