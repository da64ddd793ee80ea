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
from spyglass.core.limits import IngestLimits, LogLimits
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
    Setting("log_level", "info", _str, "debug, info, warning or error.", "text"),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Parsed settings. Build with ``Settings.load``; durations are milliseconds."""

    data_dir: Path = Path("./data")
    listen_address: str = "127.0.0.1:9090"
    external_url: str = ""
    otlp_grpc_address: str = "127.0.0.1:4317"
    config_file: str = ""
    web_config_file: str = ""
    alertmanager_config_file: str = ""
    dashboards_config_file: str = ""
    storage_url: str = ""
    storage_cluster: str = ""
    state_url: str = ""
    retention: int = 15 * 86_400_000
    metrics_retention: int = 0
    logs_retention: int = 0
    logs_max_line_size: int = 256_000
    logs_max_line_size_truncate: bool = False
    logs_max_labels_per_stream: int = 15
    logs_reject_old_samples_max_age: int = 7 * 86_400_000
    logs_creation_grace_period: int = 600_000
    logs_rule_files: tuple[str, ...] = ()
    head_window: int | None = None
    head_max_bytes: int = 1024**3
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
    log_level: str = "info"

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
        for s in SETTINGS:
            given = overrides.get(s.name)
            source = s.option
            if given is None:
                given = env.get(s.env)
                source = s.env
            if given is None:
                given, source = s.default, "default"
            try:
                values[s.name] = s.parse(given)
            except BadInput as exc:
                raise ConfigError(str(exc), field=source) from None
        return cls(**values)

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

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests use this)."""
        return dataclasses.replace(self, **changes)


__all__ = ["ENV_PREFIX", "SETTINGS", "Setting", "Settings"]
