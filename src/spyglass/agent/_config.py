"""Promtail's configuration file, read the way Promtail reads it (strictly: an unknown field is
an error naming file, line and field, as ``promtail -check-syntax`` does).

Supported: ``server`` (the agent's own ``/metrics`` and ``/ready``), ``positions``, ``clients``
(and the older single ``client``), ``scrape_configs`` with ``static_configs``,
``relabel_configs`` and ``pipeline_stages``, ``target_config.sync_period`` and
``global.file_watch_config``. Promtail's other discovery and receiver kinds (journal, syslog,
Kubernetes, Docker, Kafka, ...) are refused by name: the agent tails files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.agent._pipeline import Pipeline, build_pipeline
from spyglass.agent._stage import Drops
from spyglass.agent._stages import label_names
from spyglass.core.config import Node, load_yaml
from spyglass.core.config.fields import Section, resolve
from spyglass.core.errors import ConfigError
from spyglass.core.relabel import RelabelConfig

DEFAULT_BATCH_WAIT_MS = 1_000
DEFAULT_BATCH_SIZE = 1 << 20
DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_MIN_BACKOFF_MS = 500
DEFAULT_MAX_BACKOFF_MS = 300_000
DEFAULT_MAX_RETRIES = 10
DEFAULT_SYNC_MS = 10_000
DEFAULT_POLL_MS = 250
DEFAULT_HTTP_PORT = 9080
DEFAULT_POSITIONS = "/var/log/positions.yaml"

_TOP = ("server", "clients", "client", "positions", "scrape_configs", "target_config", "global")
_CLIENT = (
    "url",
    "name",
    "tenant_id",
    "batchwait",
    "batchsize",
    "basic_auth",
    "authorization",
    "bearer_token",
    "bearer_token_file",
    "external_labels",
    "timeout",
    "backoff_config",
    "headers",
    "tls_config",
    "drop_rate_limited_batches",
)
_SCRAPE = ("job_name", "static_configs", "relabel_configs", "pipeline_stages")
# Promtail's other scrape config kinds: named in the error, so a user knows why.
_UNSUPPORTED_SCRAPE = (
    "journal",
    "syslog",
    "gcplog",
    "windows_events",
    "kafka",
    "gelf",
    "cloudflare",
    "heroku_drain",
    "loki_push_api",
    "azure_event_hubs",
    "docker_sd_configs",
    "kubernetes_sd_configs",
    "consul_sd_configs",
    "consulagent_sd_configs",
    "file_sd_configs",
    "encoding",
    "decompression",
    "limits_config",
)
_RELABEL = (
    "source_labels",
    "separator",
    "regex",
    "target_label",
    "replacement",
    "modulus",
    "action",
)


@dataclass(frozen=True)
class ServerConfig:
    """Where the agent serves its own ``/metrics`` and ``/ready`` (``disable``: nowhere)."""

    listen_address: str = "0.0.0.0"
    port: int = DEFAULT_HTTP_PORT
    disable: bool = False


@dataclass(frozen=True)
class PositionsConfig:
    """The positions file and how often it is written."""

    filename: str = DEFAULT_POSITIONS
    sync_period_ms: int = DEFAULT_SYNC_MS
    ignore_invalid_yaml: bool = False


@dataclass(frozen=True)
class ClientConfig:
    """One Loki push endpoint."""

    url: str
    tenant_id: str = ""
    batch_wait_ms: int = DEFAULT_BATCH_WAIT_MS
    batch_size: int = DEFAULT_BATCH_SIZE
    basic_auth: tuple[str, str] | None = None
    bearer_token: str = ""
    external_labels: dict[str, str] = field(default_factory=dict)
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    min_backoff_ms: int = DEFAULT_MIN_BACKOFF_MS
    max_backoff_ms: int = DEFAULT_MAX_BACKOFF_MS
    max_retries: int = DEFAULT_MAX_RETRIES
    headers: dict[str, str] = field(default_factory=dict)
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False
    drop_rate_limited_batches: bool = False


@dataclass(frozen=True)
class TargetGroup:
    """One ``static_configs`` item: its targets and labels (``__path__`` among them)."""

    targets: tuple[str, ...]
    labels: dict[str, str]


@dataclass(frozen=True)
class ScrapeConfig:
    """One ``scrape_configs`` item."""

    job_name: str
    static_configs: tuple[TargetGroup, ...]
    relabel_configs: tuple[RelabelConfig, ...]
    pipeline: Pipeline


@dataclass(frozen=True)
class AgentConfig:
    """A whole Promtail configuration file."""

    clients: tuple[ClientConfig, ...]
    scrape_configs: tuple[ScrapeConfig, ...]
    server: ServerConfig = ServerConfig()
    positions: PositionsConfig = PositionsConfig()
    target_sync_ms: int = DEFAULT_SYNC_MS
    poll_ms: int = DEFAULT_POLL_MS
    drops: Drops = field(default_factory=Drops)
    file: str = ""


def load_agent_config_file(path: str | Path, now: Callable[[], int] = time.time_ns) -> AgentConfig:
    """Read a Promtail config file; ``ConfigError`` (file, line, field) when it is invalid."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", file=str(p)) from None
    return load_agent_config(text, str(p), now)


def load_agent_config(
    text: str, file: str = "", now: Callable[[], int] = time.time_ns
) -> AgentConfig:
    """Read a Promtail config's text (``file`` names it in errors; relative paths in it are
    taken from that file's directory, as Promtail's working directory would be)."""
    root = load_yaml(text, file)
    top = Section(root, "promtail.Config", "", _TOP)
    directory = Path(file).parent if file else None
    drops = Drops()
    clients = [_client(Section(n, "client.Config", top.p("clients") + f"[{i}]", _CLIENT))
               for i, n in enumerate(top.seq("clients"))]  # fmt: skip
    if "client" in top:
        clients.append(_client(Section(top.at("client"), "client.Config", "client", _CLIENT)))
    if not clients:
        raise top.error("clients", "at least one client config must be provided")
    scrapes: list[ScrapeConfig] = []
    names: set[str] = set()
    for i, node in enumerate(top.seq("scrape_configs")):
        sc = _scrape(node, f"scrape_configs[{i}]", drops, now)
        if sc.job_name in names:
            raise ConfigError(
                f"found multiple scrape configs with job name {sc.job_name!r}",
                file=node.file,
                line=node.line,
                field=f"scrape_configs[{i}].job_name",
            )
        names.add(sc.job_name)
        scrapes.append(sc)
    target = _sub(top, "target_config", "file.Config", ("sync_period", "stdin"))
    watch = _sub(
        _sub(top, "global", "promtail.GlobalConfig", ("file_watch_config",)),
        "file_watch_config",
        "file.WatchConfig",
        ("min_poll_frequency", "max_poll_frequency"),
    )
    return AgentConfig(
        clients=tuple(clients),
        scrape_configs=tuple(scrapes),
        server=_server(top),
        positions=_positions(top, directory),
        target_sync_ms=target.dur("sync_period") or DEFAULT_SYNC_MS,
        poll_ms=watch.dur("min_poll_frequency") or DEFAULT_POLL_MS,
        drops=drops,
        file=file,
    )


def _sub(s: Section, key: str, type_name: str, allowed: tuple[str, ...] | None) -> Section:
    """The mapping at ``key`` as a section (an empty one when the key is absent)."""
    node = s.items[key] if key in s else Node(None, s.node.line, s.node.file)
    return Section(node, type_name, s.p(key), allowed)


def _server(top: Section) -> ServerConfig:
    if "server" not in top:
        return ServerConfig()
    # weaveworks' server config has dozens of knobs (timeouts, gRPC, TLS, log format); the agent
    # uses where to listen and whether to, and leaves the rest to their defaults.
    s = _sub(top, "server", "server.Config", None)
    port = s.count("http_listen_port") if "http_listen_port" in s else DEFAULT_HTTP_PORT
    if port > 65535:
        raise s.error("http_listen_port", f"invalid port {port}")
    return ServerConfig(s.text("http_listen_address", "0.0.0.0"), port, s.flag("disable", False))


def _positions(top: Section, directory: Path | None) -> PositionsConfig:
    s = _sub(
        top, "positions", "positions.Config", ("filename", "sync_period", "ignore_invalid_yaml")
    )
    return PositionsConfig(
        resolve(directory, s.text("filename", DEFAULT_POSITIONS)),
        s.dur("sync_period") or DEFAULT_SYNC_MS,
        s.flag("ignore_invalid_yaml", False),
    )


def _client(s: Section) -> ClientConfig:
    url = s.text("url")
    if not url:
        raise s.error("url", "client needs target URL")
    if not url.startswith(("http://", "https://")):
        raise s.error("url", f"unsupported protocol scheme in URL {url!r}")
    auth = None
    if "basic_auth" in s:
        b = _sub(s, "basic_auth", "config.BasicAuth", ("username", "password", "password_file"))
        password = b.text("password")
        if b.text("password_file"):
            password = _read_secret(b, "password_file")
        auth = (b.text("username"), password)
    token = s.text("bearer_token")
    if s.text("bearer_token_file"):
        token = _read_secret(s, "bearer_token_file")
    if "authorization" in s:
        a = _sub(
            s, "authorization", "config.Authorization", ("type", "credentials", "credentials_file")
        )
        if a.text("type", "Bearer") != "Bearer":
            raise a.error("type", "spyglass agent supports authorization type Bearer only")
        token = (
            _read_secret(a, "credentials_file")
            if a.text("credentials_file")
            else a.text("credentials")
        )
    if auth is not None and token:
        raise s.error(
            "basic_auth",
            "at most one of basic_auth, bearer_token & bearer_token_file must be configured",
        )
    backoff = _sub(
        s, "backoff_config", "backoff.Config", ("min_period", "max_period", "max_retries")
    )
    tls_fields = ("ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify")
    tls = _sub(s, "tls_config", "config.TLSConfig", tls_fields)
    external = s.strmap("external_labels")
    label_names(s, list(external), "external_labels")
    return ClientConfig(
        url=url,
        tenant_id=s.text("tenant_id"),
        batch_wait_ms=s.dur("batchwait") or DEFAULT_BATCH_WAIT_MS,
        batch_size=s.count("batchsize") or DEFAULT_BATCH_SIZE,
        basic_auth=auth,
        bearer_token=token,
        external_labels=external,
        timeout_ms=s.dur("timeout") or DEFAULT_TIMEOUT_MS,
        min_backoff_ms=backoff.dur("min_period") or DEFAULT_MIN_BACKOFF_MS,
        max_backoff_ms=backoff.dur("max_period") or DEFAULT_MAX_BACKOFF_MS,
        max_retries=backoff.count("max_retries")
        if "max_retries" in backoff
        else DEFAULT_MAX_RETRIES,
        headers=s.strmap("headers"),
        ca_file=tls.text("ca_file"),
        cert_file=tls.text("cert_file"),
        key_file=tls.text("key_file"),
        insecure_skip_verify=tls.flag("insecure_skip_verify", False),
        drop_rate_limited_batches=s.flag("drop_rate_limited_batches", False),
    )


def _read_secret(s: Section, key: str) -> str:
    try:
        return Path(s.text(key)).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise s.error(key, f"cannot read {s.text(key)}: {exc.strerror or exc}") from None


def _scrape(node: Node, path: str, drops: Drops, now: Callable[[], int]) -> ScrapeConfig:
    s = Section(node, "scrapeconfig.Config", path, (*_SCRAPE, *_UNSUPPORTED_SCRAPE))
    for key in _UNSUPPORTED_SCRAPE:
        if key in s.items:
            raise s.error(key, f"{key} is not supported by spyglass agent (it tails files found "
                          "by static_configs' __path__)")  # fmt: skip
    job = s.text("job_name")
    if not job:
        raise s.error("job_name", "job_name is required")
    groups = []
    for i, g in enumerate(s.seq("static_configs")):
        gs = Section(
            g, "discovery.StaticConfig", s.p("static_configs") + f"[{i}]", ("targets", "labels")
        )
        labels = gs.strmap("labels")
        groups.append(TargetGroup(tuple(gs.strs("targets")), labels))
    relabels = []
    for i, r in enumerate(s.seq("relabel_configs")):
        rpath = s.p("relabel_configs") + f"[{i}]"
        rs = Section(r, "relabel.Config", rpath, _RELABEL)
        try:
            relabels.append(
                RelabelConfig(
                    source_labels=tuple(rs.strs("source_labels"))
                    if "source_labels" in rs
                    else None,
                    separator=rs.text("separator", ";"),
                    regex=rs.text("regex", "(.*)"),
                    target_label=rs.text("target_label"),
                    replacement=rs.text("replacement", "$1"),
                    modulus=rs.count("modulus"),
                    action=rs.text("action", "replace"),
                )
            )
        except ConfigError as exc:
            raise rs.error(exc.field, exc.message) from None
    pipeline = (
        build_pipeline(s.at("pipeline_stages"), s.p("pipeline_stages"), drops, now)
        if "pipeline_stages" in s
        else Pipeline([])
    )
    return ScrapeConfig(job, tuple(groups), tuple(relabels), pipeline)


__all__ = [
    "AgentConfig",
    "ClientConfig",
    "PositionsConfig",
    "ScrapeConfig",
    "ServerConfig",
    "TargetGroup",
    "load_agent_config",
    "load_agent_config_file",
]
