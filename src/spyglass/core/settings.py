"""Server settings: one table gives each setting's name, default, type and help.

The table drives the ``spyglass serve`` options, the ``SPYGLASS_*`` environment variables and the
settings reference in docs/settings.md (a test checks that every setting is documented). Values are
parsed once, here, into a frozen ``Settings``; the rest of the code never reads the environment.
Precedence: command-line option, then environment variable, then default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spyglass.core.errors import BadInput, ConfigError
from spyglass.core.limits import IngestLimits, LogLimits, SpanLimits
from spyglass.core.times import parse_duration_ms

ENV_PREFIX = "SPYGLASS_"


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise BadInput(f"not a boolean: {text!r}")


def _size(text: str) -> int:
    """Bytes with an optional KiB/MiB/GiB (or KB/MB/GB, also powers of two) suffix."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(t[-1:], 1)
    number = t[:-1] if mult > 1 else t
    try:
        value = int(number) * mult
    except ValueError:
        raise BadInput(f"not a size: {text!r}") from None
    if value < 0:
        raise BadInput(f"not a size: {text!r}")
    return value


def _auto_bool(text: str) -> bool | None:
    """A boolean, or ``None`` for empty (the runtime then decides)."""
    return _bool(text) if text.strip() else None


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"not an integer: {text!r}") from None
    if value < 0:
        raise BadInput(f"must not be negative: {text!r}")
    return value


def _duration(text: str) -> int:
    return parse_duration_ms(text)


def _fraction(text: str) -> float:
    """A number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise BadInput(f"must be between 0 and 1: {text!r}")
    return value


def _factor(text: str) -> float:
    """A number of at least 1."""
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"not a number: {text!r}") from None
    if not value >= 1.0:
        raise BadInput(f"must be at least 1: {text!r}")
    return value


def _drain_depth(text: str) -> int:
    value = _nonneg_int(text)
    if value < 3:
        raise BadInput(f"must be at least 3: {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = _nonneg_int(text)
    if value == 0:
        raise BadInput(f"must be positive: {text!r}")
    return value


def _optional_duration(text: str) -> int:
    """A duration, or 0 for empty (the setting then falls back to another)."""
    return parse_duration_ms(text) if text.strip() else 0


def _auto_duration(text: str) -> int | None:
    """A duration, or ``None`` for empty (the runtime then picks one)."""
    return parse_duration_ms(text) if text.strip() else None


def _str(text: str) -> str:
    return text


def _globs(text: str) -> tuple[str, ...]:
    """Comma-separated file globs (empty: none)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


_STATE_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "sqlite")


def _state_url(text: str) -> str:
    """Empty, or a URL the state store opens (the store checks the rest when it connects)."""
    scheme = text.split("://", 1)[0].lower() if "://" in text else None
    if text and scheme not in _STATE_SCHEMES:
        raise BadInput(
            "must be empty (SQLite in data_dir), postgresql://user:password@host:port/database "
            "or sqlite:///path/to/state.db"
        )
    return text


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its name (also the field of ``Settings``), default text, parser and help."""

    name: str
    default: str
    parse: Callable[[str], Any]
    help: str
    kind: str  # how docs and the CLI show the value: path, address, duration, size, int, bool, text

    @property
    def env(self) -> str:
        """Environment variable that sets it."""
        return ENV_PREFIX + self.name.upper()

    @property
    def option(self) -> str:
        """Command-line option that sets it."""
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir", "./data", Path, "Directory for the embedded database, WAL and state.", "path"
    ),
    Setting(
        "listen_address",
        "127.0.0.1:9090",
        _str,
        "host:port of the HTTP server (web UI, Prometheus API, remote_write, OTLP/HTTP).",
        "address",
    ),
    Setting(
        "external_url",
        "",
        _str,
        "The URL users reach Spyglass at, for links in alerts (generatorURL) and templates; "
        "empty: http://<this host's name>:<port of listen_address>.",
        "text",
    ),
    Setting(
        "otlp_grpc_address",
        "127.0.0.1:4317",
        _str,
        "host:port of the OTLP gRPC receiver; empty disables it.",
        "address",
    ),
    Setting(
        "otlp_http_address",
        "127.0.0.1:4318",
        _str,
        "host:port of a second HTTP listener serving only the OTLP/HTTP routes (every route "
        "under /v1/), where OpenTelemetry SDKs send by default; empty disables it. "
        "Left at its default, a taken port is logged and skipped; set explicitly, it stops "
        "start-up.",
        "address",
    ),
    Setting(
        "config_file",
        "",
        _str,
        "A prometheus.yml whose scrape_configs Spyglass runs; empty runs no scrapes.",
        "path",
    ),
    Setting(
        "web_config_file",
        "",
        _str,
        "A web.config.yml (Prometheus' exporter-toolkit format) for TLS, basic auth and "
        "response headers on the HTTP listener; empty serves plain HTTP to everyone.",
        "path",
    ),
    Setting(
        "alertmanager_config_file",
        "",
        _str,
        "An alertmanager.yml Spyglass routes alerts with, as Alertmanager does; empty: "
        "/api/v2/alerts still takes and lists alerts, but nothing is routed or sent.",
        "path",
    ),
    Setting(
        "dashboards_config_file",
        "",
        _str,
        "A Grafana dashboard provisioning file (apiVersion: 1, providers: [...]) whose "
        "dashboards Spyglass loads and keeps in step with their files; empty: only the "
        "built-in dashboards.",
        "path",
    ),
    Setting(
        "probes_config_file",
        "",
        _str,
        "A probes file: the blackbox exporter's modules (a blackbox.yml works unchanged) for "
        "/probe?target=&module=, plus probes: Spyglass runs on its own schedule and stores; "
        "empty: /probe answers with the built-in http_2xx module only.",
        "path",
    ),
    Setting(
        "slo_files",
        "",
        _str,
        "SLO specs to evaluate: a file or a glob of Sloth (prometheus/v1) and OpenSLO v1 files. "
        "Spyglass generates their recording rules and burn-rate alerts (as `spyglass slo "
        "generate` prints them) and runs them with the other rules; empty: no SLOs.",
        "path",
    ),
    Setting(
        "storage_url",
        "",
        _str,
        "Empty: embedded ClickHouse (chDB) under data_dir. Or a ClickHouse server, "
        "e.g. http://user:password@host:8123/spyglass.",
        "text",
    ),
    Setting(
        "storage_cluster",
        "",
        _str,
        "ClickHouse cluster name for ON CLUSTER DDL and Distributed tables (server only).",
        "text",
    ),
    Setting(
        "state_url",
        "",
        _state_url,
        "Empty: control-plane state (Spyglass's own small database) in SQLite at "
        "data_dir/state.db. Or a PostgreSQL database that several Spyglass nodes share, "
        "e.g. postgresql://user:password@host:5432/spyglass (needs spyglass[postgres]).",
        "text",
    ),
    Setting(
        "retention",
        "15d",
        _duration,
        "How long data is kept (applied as a ClickHouse TTL); the default of every signal.",
        "duration",
    ),
    Setting(
        "metrics_retention",
        "",
        _optional_duration,
        "How long metric samples are kept; empty: --retention.",
        "duration",
    ),
    Setting(
        "logs_retention",
        "",
        _optional_duration,
        "How long log records are kept; empty: --retention.",
        "duration",
    ),
    Setting(
        "errors_retention",
        "",
        _optional_duration,
        "How long error events are kept; empty: --retention. Issues stay until deleted.",
        "duration",
    ),
    Setting(
        "errors_keys",
        "",
        _str,
        "Sentry DSN public keys the Sentry ingest endpoints accept, comma-separated: 'key' "
        "for every project or 'project:key' for one (the DSN http://key@host/project). "
        "Empty: any key is accepted (a request without a key is still refused).",
        "text",
    ),
    Setting(
        "logs_max_line_size",
        "250KiB",
        _size,
        "Longest log line accepted, in bytes (Loki's max_line_size, 256KB = 256,000 bytes); "
        "longer lines are refused, or cut with --logs-max-line-size-truncate (0: no limit).",
        "size",
    ),
    Setting(
        "logs_max_line_size_truncate",
        "false",
        _bool,
        "Cut lines longer than --logs-max-line-size instead of refusing them "
        "(Loki's max_line_size_truncate).",
        "bool",
    ),
    Setting(
        "logs_max_labels_per_stream",
        "15",
        _nonneg_int,
        "Most labels one log stream may carry (Loki's max_label_names_per_series; 0: no limit).",
        "int",
    ),
    Setting(
        "logs_max_streams",
        "5000",
        _nonneg_int,
        "Most active log streams (distinct label sets that received a line within the last "
        "hour; at start, those with a line stamped in the last hour); a push's lines for new "
        "streams past it are refused (Loki push: 429 with Loki's 'Maximum active stream limit "
        "exceeded' message), the other lines are stored (Loki's max_global_streams_per_user; "
        "0: no limit).",
        "int",
    ),
    Setting(
        "logs_max_pending_bytes",
        "128MiB",
        _size,
        "Most memory log lines accepted but not yet stored may take; past it log pushes are "
        "refused until storage catches up (Loki push and OTLP: 503, Elasticsearch _bulk: 429 "
        "per item; shippers retry), so a burst cannot grow memory without bound (0: bounded "
        "by count alone, 10 million lines).",
        "size",
    ),
    Setting(
        "logs_reject_old_samples_max_age",
        "1w",
        _optional_duration,
        "Refuse log records older than this (Loki's reject_old_samples_max_age; empty or 0: "
        "accept any age).",
        "duration",
    ),
    Setting(
        "logs_creation_grace_period",
        "10m",
        _duration,
        "Refuse log records timestamped more than this into the future (Loki's "
        "creation_grace_period).",
        "duration",
    ),
    Setting(
        "logs_patterns_similarity",
        "0.4",
        _fraction,
        "Log pattern mining: the share of equal tokens (0-1) a message needs to join a template "
        "(Drain's similarity threshold); higher makes more, narrower templates.",
        "text",
    ),
    Setting(
        "logs_patterns_depth",
        "4",
        _drain_depth,
        "Log pattern mining: depth of Drain's prefix tree (at least 3); the first depth - 3 "
        "tokens of a message (those without digits) must be equal for it to join a template.",
        "int",
    ),
    Setting(
        "logs_patterns_max_templates",
        "1000",
        _positive_int,
        "Most templates pattern mining keeps per service and level in one request; lines that "
        "would start another are counted as unclustered.",
        "int",
    ),
    Setting(
        "logs_patterns_max_lines",
        "50000",
        _positive_int,
        "Most log lines one patterns or impact request reads per period (the newest); the answer "
        "says when this cut a period short. Mining takes roughly 10-20k lines a second.",
        "int",
    ),
    Setting(
        "logs_patterns_growth_factor",
        "2",
        _factor,
        "A template is growing when its rate in the window is at least this many times its rate "
        "in the baseline.",
        "text",
    ),
    Setting(
        "logs_patterns_min_growth_count",
        "10",
        _nonneg_int,
        "Fewest lines in the window for a template to count as growing.",
        "int",
    ),
    Setting(
        "logs_impact_user_field",
        "user_id",
        _str,
        "The field (JSON, structured metadata or label) naming the user, for user impact.",
        "text",
    ),
    Setting(
        "traces_retention",
        "",
        _optional_duration,
        "How long spans are kept; empty: --retention.",
        "duration",
    ),
    Setting(
        "traces_max_attributes_per_span",
        "128",
        _nonneg_int,
        "Most attributes a span (and each of its events and links) keeps; later ones are "
        "dropped and counted, as OpenTelemetry's AttributeCountLimit says (0: no limit).",
        "int",
    ),
    Setting(
        "traces_max_attribute_value_length",
        "16384",
        _nonneg_int,
        "Longest span, resource, event or link attribute value kept, in characters; longer "
        "values are cut to it and counted, as OpenTelemetry's AttributeValueLengthLimit says "
        "(0: no limit).",
        "int",
    ),
    Setting(
        "traces_max_events_per_span",
        "128",
        _nonneg_int,
        "Most events a span keeps; later ones are dropped and counted (0: no limit).",
        "int",
    ),
    Setting(
        "traces_max_links_per_span",
        "128",
        _nonneg_int,
        "Most links a span keeps; later ones are dropped and counted (0: no limit).",
        "int",
    ),
    Setting(
        "logs_rule_files",
        "",
        _globs,
        "Loki ruler rule files (comma-separated globs): Prometheus rule-file groups whose "
        "expressions are LogQL metric queries, evaluated over the logs like prometheus.yml's "
        "rule_files; empty: none.",
        "path",
    ),
    Setting(
        "head_window",
        "",
        _auto_duration,
        "How much recent metric data is also held in memory to answer queries without "
        "ClickHouse; 0 turns the head off. Empty: 2h with embedded storage, off with "
        "--storage-url (other nodes' writes to that server would be missing from it).",
        "duration",
    ),
    Setting(
        "head_max_bytes",
        "1GiB",
        _size,
        "Most memory the head may take; past it the head holds a shorter span and says so "
        "in the log (0: no limit).",
        "size",
    ),
    Setting(
        "older_reads_max_bytes",
        "64MiB",
        _size,
        "Most memory spent keeping what selectors read from ClickHouse before the head's "
        "start, so the same selector over the same stretch (or one inside it) is not read "
        "again; the least recently used go first (0: only selectors that found nothing). "
        "Embedded storage only.",
        "size",
    ),
    Setting(
        "label_cache_bytes",
        "128MiB",
        _size,
        "Most memory each push receiver (remote_write, OTLP/HTTP, OTLP/gRPC) spends on label "
        "sets it has checked, so a series seen before costs no parsing; past it the oldest "
        "quarter is forgotten (0: bounded by count alone).",
        "size",
    ),
    Setting(
        "flush_interval",
        "1s",
        _duration,
        "Longest time an accepted sample waits in memory before it is inserted.",
        "duration",
    ),
    Setting(
        "flush_max_samples",
        "200000",
        _nonneg_int,
        "Insert as soon as this many samples are pending.",
        "int",
    ),
    Setting(
        "lookback_delta",
        "5m",
        _duration,
        "How far back PromQL looks for the latest sample of a series.",
        "duration",
    ),
    Setting(
        "range_cache",
        "",
        _auto_bool,
        "Keep range query results older than --range-cache-offset, so a refreshed dashboard "
        "evaluates only its new steps. Empty: on with embedded storage, off with --storage-url "
        "(late samples another node writes would not reach this node's cache); turn it on "
        "there only on a node that is the only writer of its metrics.",
        "bool",
    ),
    Setting(
        "range_cache_max_bytes",
        "256MiB",
        _size,
        "Most memory the range query cache may take; the least recently used answers go "
        "first (0 turns the cache off).",
        "size",
    ),
    Setting(
        "range_cache_offset",
        "5m",
        _duration,
        "Range query steps newer than now minus this are always evaluated, never cached "
        "(VictoriaMetrics' -search.cacheTimestampOffset); raise it when samples arrive later.",
        "duration",
    ),
    Setting("query_timeout", "2m", _duration, "Longest a query may run.", "duration"),
    Setting(
        "query_max_samples",
        "50000000",
        _nonneg_int,
        "Most samples one query may hold in memory.",
        "int",
    ),
    Setting(
        "query_push_down",
        "false",
        _bool,
        "Let ClickHouse evaluate rate, increase, *_over_time and the other range functions its "
        "timeSeries*ToGrid aggregates compute exactly as PromQL does, sending a value per series "
        "and step instead of every sample.",
        "bool",
    ),
    Setting(
        "max_body_bytes",
        "64MiB",
        _size,
        "Largest request body accepted by the write endpoints (after decompression) and by "
        "POST /api/v2/alerts.",
        "size",
    ),
    Setting(
        "max_labels_per_series",
        "64",
        _nonneg_int,
        "Most labels one series may carry (0: no limit).",
        "int",
    ),
    Setting(
        "max_label_name_length",
        "1024",
        _nonneg_int,
        "Longest label name accepted (0: no limit).",
        "int",
    ),
    Setting(
        "max_label_value_length",
        "4096",
        _nonneg_int,
        "Longest label value accepted (0: no limit).",
        "int",
    ),
    Setting(
        "max_series_per_request",
        "1000000",
        _nonneg_int,
        "Most series one write request may carry (0: no limit).",
        "int",
    ),
    Setting(
        "scrape_self",
        "false",
        _bool,
        "Also scrape Spyglass's own /metrics as job 'spyglass'.",
        "bool",
    ),
    Setting(
        "span_metrics",
        "true",
        _bool,
        "Derive RED metrics (traces_spanmetrics_calls_total, traces_spanmetrics_duration_seconds) "
        "and the service graph (traces_service_graph_request_total...) from accepted spans, "
        "as Tempo's metrics-generator does.",
        "bool",
    ),
    Setting("log_level", "info", _str, "debug, info, warning or error.", "text"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Parsed settings. Build with ``Settings.load``; durations are milliseconds."""

    data_dir: Path = Path("./data")
    listen_address: str = "127.0.0.1:9090"
    external_url: str = ""
    otlp_grpc_address: str = "127.0.0.1:4317"
    otlp_http_address: str = "127.0.0.1:4318"
    config_file: str = ""
    web_config_file: str = ""
    alertmanager_config_file: str = ""
    dashboards_config_file: str = ""
    probes_config_file: str = ""
    slo_files: str = ""
    storage_url: str = ""
    storage_cluster: str = ""
    state_url: str = ""
    retention: int = 15 * 86_400_000
    metrics_retention: int = 0
    logs_retention: int = 0
    errors_retention: int = 0
    errors_keys: str = ""
    logs_max_line_size: int = 256_000
    logs_max_line_size_truncate: bool = False
    logs_max_labels_per_stream: int = 15
    logs_max_streams: int = 5000
    logs_max_pending_bytes: int = 128 * 2**20
    logs_reject_old_samples_max_age: int = 7 * 86_400_000
    logs_creation_grace_period: int = 600_000
    logs_patterns_similarity: float = 0.4
    logs_patterns_depth: int = 4
    logs_patterns_max_templates: int = 1000
    logs_patterns_max_lines: int = 50_000
    logs_patterns_growth_factor: float = 2.0
    logs_patterns_min_growth_count: int = 10
    logs_impact_user_field: str = "user_id"
    traces_retention: int = 0
    traces_max_attributes_per_span: int = 128
    traces_max_attribute_value_length: int = 16_384
    traces_max_events_per_span: int = 128
    traces_max_links_per_span: int = 128
    logs_rule_files: tuple[str, ...] = ()
    head_window: int | None = None
    head_max_bytes: int = 1024**3
    older_reads_max_bytes: int = 64 * 1024**2
    label_cache_bytes: int = 128 * 1024**2
    flush_interval: int = 1_000
    flush_max_samples: int = 200_000
    lookback_delta: int = 300_000
    range_cache: bool | None = None
    range_cache_max_bytes: int = 256 * 1024**2
    range_cache_offset: int = 300_000
    query_timeout: int = 120_000
    query_max_samples: int = 50_000_000
    query_push_down: bool = False
    max_body_bytes: int = 64 * 1024 * 1024
    max_labels_per_series: int = 64
    max_label_name_length: int = 1024
    max_label_value_length: int = 4096
    max_series_per_request: int = 1_000_000
    scrape_self: bool = False
    span_metrics: bool = True
    log_level: str = "info"
    # Not a setting: the names of those given by option or environment rather than left at
    # their default (a default port that is taken is skipped; a chosen one is an error).
    explicit: frozenset[str] = dataclasses.field(default=frozenset(), compare=False)

    @classmethod
    def load(
        cls, overrides: Mapping[str, str | None] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Parse settings from ``overrides`` (CLI, text), then ``env``, then defaults.

        Errors name the option or variable at fault.
        """
        overrides = overrides or {}
        env = env or {}
        values: dict[str, Any] = {}
        explicit: set[str] = set()
        for s in SETTINGS:
            given = overrides.get(s.name)
            source = s.option
            if given is None:
                given = env.get(s.env)
                source = s.env
            if given is None:
                given, source = s.default, "default"
            else:
                explicit.add(s.name)
            try:
                values[s.name] = s.parse(given)
            except BadInput as exc:
                raise ConfigError(str(exc), field=source) from None
        return cls(**values, explicit=frozenset(explicit))

    @property
    def ingest_limits(self) -> IngestLimits:
        """The limits every ingest protocol applies."""
        return IngestLimits(
            max_body_bytes=self.max_body_bytes,
            max_labels_per_series=self.max_labels_per_series,
            max_label_name_length=self.max_label_name_length,
            max_label_value_length=self.max_label_value_length,
            max_series_per_request=self.max_series_per_request,
        )

    @property
    def log_limits(self) -> LogLimits:
        """The limits every log ingest protocol applies (Loki's ``limits_config`` subset)."""
        return LogLimits(
            max_line_size=self.logs_max_line_size,
            max_line_size_truncate=self.logs_max_line_size_truncate,
            max_labels_per_stream=self.logs_max_labels_per_stream,
            max_label_name_length=self.max_label_name_length,
            max_label_value_length=self.max_label_value_length,
            reject_old_samples_max_age_ms=self.logs_reject_old_samples_max_age,
            creation_grace_period_ms=self.logs_creation_grace_period,
        )

    @property
    def span_limits(self) -> SpanLimits:
        """What trace ingest keeps of each span (OpenTelemetry's span limits)."""
        return SpanLimits(
            max_attributes_per_span=self.traces_max_attributes_per_span,
            max_attribute_value_length=self.traces_max_attribute_value_length,
            max_events_per_span=self.traces_max_events_per_span,
            max_links_per_span=self.traces_max_links_per_span,
        )

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests use this)."""
        return dataclasses.replace(self, **changes)


__all__ = ["ENV_PREFIX", "SETTINGS", "Setting", "Settings"]
