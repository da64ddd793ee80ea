"""The ``prometheus.yml`` model: load a user's file unchanged, apply Prometheus' defaults.

Sections Spyglass runs (``global``, ``scrape_configs``, ``rule_files``) are modelled field by
field and validated like Prometheus 3 validates them; sections for other features (``alerting``,
``remote_write``, ``remote_read``, ``storage``, ``tracing``, ``otlp``, ``runtime``) are checked for
shape and kept as plain data. Service discovery mechanisms other than static and file are accepted
and listed in ``Config.warnings`` (and logged) as unsupported, never rejected.
"""

from __future__ import annotations

import glob
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spyglass.core.config import fields as f
from spyglass.core.config._yaml import Node, load_yaml
from spyglass.core.config.fields import Section
from spyglass.core.errors import ConfigError
from spyglass.core.labels import Labels, labels_of
from spyglass.core.relabel import RelabelConfig

log = logging.getLogger(__name__)

DEFAULT_SCRAPE_INTERVAL_MS = 60_000
DEFAULT_SCRAPE_TIMEOUT_MS = 10_000
DEFAULT_EVALUATION_INTERVAL_MS = 60_000
DEFAULT_FILE_SD_REFRESH_MS = 300_000
SCRAPE_PROTOCOLS = (
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
    "PrometheusProto",
)
DEFAULT_SCRAPE_PROTOCOLS = (
    "OpenMetricsText1.0.0",
    "OpenMetricsText0.0.1",
    "PrometheusText1.0.0",
    "PrometheusText0.0.4",
)

_TOP_FIELDS = (
    "global",
    "runtime",
    "alerting",
    "rule_files",
    "scrape_config_files",
    "scrape_configs",
    "storage",
    "tracing",
    "remote_write",
    "remote_read",
    "otlp",
)
_GLOBAL_FIELDS = (
    "scrape_interval",
    "scrape_timeout",
    "scrape_protocols",
    "evaluation_interval",
    "rule_query_offset",
    "external_labels",
    "query_log_file",
    "scrape_failure_log_file",
    "body_size_limit",
    "sample_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "target_limit",
    "keep_dropped_targets",
    "metric_name_validation_scheme",
    "metric_name_escaping_scheme",
    "always_scrape_classic_histograms",
    "convert_classic_histograms_to_nhcb",
    "scrape_native_histograms",
    "extra_scrape_metrics",
)
_HTTP_FIELDS = (
    "basic_auth",
    "authorization",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "follow_redirects",
    "enable_http2",
    "http_headers",
)
_SCRAPE_FIELDS = (
    "job_name",
    "honor_labels",
    "honor_timestamps",
    "track_timestamps_staleness",
    "params",
    "scrape_interval",
    "scrape_timeout",
    "scrape_protocols",
    "fallback_scrape_protocol",
    "scrape_classic_histograms",
    "always_scrape_classic_histograms",
    "convert_classic_histograms_to_nhcb",
    "scrape_native_histograms",
    "metrics_path",
    "scheme",
    "enable_compression",
    "body_size_limit",
    "sample_limit",
    "target_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "native_histogram_bucket_limit",
    "native_histogram_min_bucket_factor",
    "keep_dropped_targets",
    "metric_name_validation_scheme",
    "metric_name_escaping_scheme",
    "scrape_failure_log_file",
    "relabel_configs",
    "metric_relabel_configs",
    "static_configs",
    "file_sd_configs",
    "extra_scrape_metrics",
    *_HTTP_FIELDS,
)
_ALERTMANAGER_FIELDS = (
    "scheme",
    "path_prefix",
    "timeout",
    "api_version",
    "relabel_configs",
    "alert_relabel_configs",
    "static_configs",
    "file_sd_configs",
    "sigv4",
    *_HTTP_FIELDS,
)
DEFAULT_ALERTMANAGER_TIMEOUT_MS = 10_000
_RELABEL_FIELDS = (
    "source_labels",
    "separator",
    "regex",
    "modulus",
    "target_label",
    "replacement",
    "action",
)
_TLS_FIELDS = (
    "ca",
    "ca_file",
    "ca_ref",
    "cert",
    "cert_file",
    "cert_ref",
    "key",
    "key_file",
    "key_ref",
    "server_name",
    "insecure_skip_verify",
    "min_version",
    "max_version",
)
ESCAPING_SCHEMES = ("allow-utf-8", "underscores", "dots", "values")
_OAUTH2_FIELDS = (
    "client_id",
    "client_secret",
    "client_secret_file",
    "client_secret_ref",
    "scopes",
    "token_url",
    "endpoint_params",
    "tls_config",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "client_certificate_key",
    "client_certificate_key_file",
    "client_certificate_key_id",
    "client_certificate_key_ref",
    "signature_algorithm",
    "iss",
    "audience",
    "claims",
)
# Prometheus allows one wildcard, in the last path element, in rule and scrape config file paths.
_RULE_PATH_RE = re.compile(r"^[^*]*(\*[^/]*)?$")
SD_CONFIG_KEYS = frozenset(
    f"{name}_sd_configs"
    for name in (
        "azure",
        "consul",
        "digitalocean",
        "docker",
        "dockerswarm",
        "dns",
        "ec2",
        "eureka",
        "gce",
        "hetzner",
        "http",
        "ionos",
        "kubernetes",
        "kuma",
        "lightsail",
        "linode",
        "marathon",
        "nerve",
        "nomad",
        "openstack",
        "ovhcloud",
        "puppetdb",
        "scaleway",
        "serverset",
        "stackit",
        "triton",
        "uyuni",
        "vultr",
    )
)
# Go's yaml names the type a mapping is read into; Prometheus reads many through a local alias
# called "plain", so that is the name its messages show.
_STATIC_GROUP_TYPE = (
    'struct { Targets []string "yaml:\\"targets\\""; Labels model.LabelSet "yaml:\\"labels\\"" }'
)
_FILE_SD_RE = re.compile(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$")


@dataclass(frozen=True, slots=True)
class GlobalConfig:
    """``global:``. Durations in milliseconds; limits ``0`` mean none."""

    scrape_interval_ms: int = DEFAULT_SCRAPE_INTERVAL_MS
    scrape_timeout_ms: int = DEFAULT_SCRAPE_TIMEOUT_MS
    evaluation_interval_ms: int = DEFAULT_EVALUATION_INTERVAL_MS
    rule_query_offset_ms: int = 0
    external_labels: Labels = ()
    query_log_file: str = ""
    scrape_failure_log_file: str = ""
    scrape_protocols: tuple[str, ...] = DEFAULT_SCRAPE_PROTOCOLS
    body_size_limit: int = 0
    sample_limit: int = 0
    label_limit: int = 0
    label_name_length_limit: int = 0
    label_value_length_limit: int = 0
    target_limit: int = 0
    keep_dropped_targets: int = 0
    metric_name_validation_scheme: str = "utf8"
    metric_name_escaping_scheme: str = "allow-utf-8"


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """``basic_auth``: the password comes from ``password`` or is read from ``password_file``."""

    username: str = ""
    password: str = ""
    password_file: str = ""
    username_file: str = ""


@dataclass(frozen=True, slots=True)
class Authorization:
    """``authorization`` (and the older ``bearer_token``/``bearer_token_file``)."""

    type: str = "Bearer"
    credentials: str = ""
    credentials_file: str = ""


@dataclass(frozen=True, slots=True)
class OAuth2:
    """``oauth2``: the client-credentials flow; the token is sent as a bearer token."""

    client_id: str
    token_url: str
    client_secret: str = ""
    client_secret_file: str = ""
    scopes: tuple[str, ...] = ()
    endpoint_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """``tls_config``: what httpx can apply (CA, client certificate, server name, verification)."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    insecure_skip_verify: bool = False


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """A ``static_configs`` entry or one group of a file_sd file: addresses plus common labels."""

    targets: tuple[str, ...]
    labels: Labels = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class FileSDConfig:
    """``file_sd_configs`` entry: glob patterns (resolved against the config's directory)."""

    files: tuple[str, ...]
    refresh_interval_ms: int = DEFAULT_FILE_SD_REFRESH_MS


@dataclass(frozen=True, slots=True)
class ScrapeConfig:
    """One ``scrape_configs`` entry with every default applied."""

    job_name: str
    scrape_interval_ms: int = DEFAULT_SCRAPE_INTERVAL_MS
    scrape_timeout_ms: int = DEFAULT_SCRAPE_TIMEOUT_MS
    metrics_path: str = "/metrics"
    scheme: str = "http"
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    honor_labels: bool = False
    honor_timestamps: bool = True
    track_timestamps_staleness: bool = False
    scrape_protocols: tuple[str, ...] = DEFAULT_SCRAPE_PROTOCOLS
    fallback_scrape_protocol: str = ""
    enable_compression: bool = True
    follow_redirects: bool = True
    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    oauth2: OAuth2 | None = None
    tls_config: TLSConfig = TLSConfig()
    proxy_url: str = ""
    proxy_from_environment: bool = False
    http_headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    http_header_files: tuple[tuple[str, tuple[str, ...]], ...] = ()
    static_configs: tuple[TargetGroup, ...] = ()
    file_sd_configs: tuple[FileSDConfig, ...] = ()
    unsupported_sd_configs: tuple[str, ...] = ()
    relabel_configs: tuple[RelabelConfig, ...] = ()
    metric_relabel_configs: tuple[RelabelConfig, ...] = ()
    sample_limit: int = 0
    label_limit: int = 0
    label_name_length_limit: int = 0
    label_value_length_limit: int = 0
    target_limit: int = 0
    body_size_limit: int = 0
    keep_dropped_targets: int = 0
    metric_name_validation_scheme: str = "utf8"
    metric_name_escaping_scheme: str = "allow-utf-8"

    @property
    def params_dict(self) -> dict[str, list[str]]:
        """``params`` as a mutable mapping."""
        return {k: list(v) for k, v in self.params}


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """One ``alerting.alertmanagers`` entry: where alerts are sent and how."""

    scheme: str = "http"
    path_prefix: str = ""
    timeout_ms: int = DEFAULT_ALERTMANAGER_TIMEOUT_MS
    api_version: str = "v2"
    follow_redirects: bool = True
    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    oauth2: OAuth2 | None = None
    tls_config: TLSConfig = TLSConfig()
    proxy_url: str = ""
    proxy_from_environment: bool = False
    http_headers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    http_header_files: tuple[tuple[str, tuple[str, ...]], ...] = ()
    static_configs: tuple[TargetGroup, ...] = ()
    file_sd_configs: tuple[FileSDConfig, ...] = ()
    unsupported_sd_configs: tuple[str, ...] = ()
    relabel_configs: tuple[RelabelConfig, ...] = ()
    alert_relabel_configs: tuple[RelabelConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """A loaded ``prometheus.yml``.

    ``raw`` keeps the whole document as plain data (what ``/api/v1/status/config`` shows);
    sections Spyglass does not model yet are in it and in the typed fields below as plain data.
    ``warnings`` lists what was accepted but is not acted on (unsupported service discovery).
    """

    global_config: GlobalConfig = GlobalConfig()
    scrape_configs: tuple[ScrapeConfig, ...] = ()
    rule_files: tuple[str, ...] = ()
    alerting: dict[str, Any] = field(default_factory=dict)
    alert_relabel_configs: tuple[RelabelConfig, ...] = ()
    alertmanagers: tuple[AlertmanagerConfig, ...] = ()
    remote_write: tuple[dict[str, Any], ...] = ()
    remote_read: tuple[dict[str, Any], ...] = ()
    storage: dict[str, Any] = field(default_factory=dict)
    tracing: dict[str, Any] = field(default_factory=dict)
    otlp: dict[str, Any] = field(default_factory=dict)
    runtime: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    file: str = ""
    warnings: tuple[str, ...] = ()

    def scrape_config(self, job_name: str) -> ScrapeConfig | None:
        """The scrape config named ``job_name``, if any."""
        for sc in self.scrape_configs:
            if sc.job_name == job_name:
                return sc
        return None


def load_config_file(path: str | Path) -> Config:
    """Read and validate a ``prometheus.yml``; errors are ``ConfigError`` with file and line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", file=str(path)) from None
    return load_config(data, file=str(path), directory=p.parent)


def load_config(
    text: str | bytes, *, file: str = "", directory: str | Path | None = None
) -> Config:
    """Parse and validate ``prometheus.yml`` text.

    Relative file names inside (``rule_files``, ``file_sd_configs``, credential and TLS files)
    resolve against ``directory`` (the config file's own directory, as in Prometheus).
    """
    root = load_yaml(text, file)
    return _Loader(root, Path(directory) if directory is not None else None).load()


class _Loader:
    def __init__(self, root: Node, directory: Path | None) -> None:
        self.root = root
        self.dir = directory
        self.warnings: list[str] = []

    def path(self, name: str) -> str:
        return f.resolve(self.dir, name)

    def load(self) -> Config:
        top = Section(self.root, "config.plain", "", _TOP_FIELDS)
        gc = self.global_config(top.at("global") if "global" in top else None)
        jobs: list[ScrapeConfig] = []
        seen: set[str] = set()
        scrape_nodes = top.seq("scrape_configs", "[]*config.ScrapeConfig")
        nodes = [(n, f"scrape_configs[{i}]") for i, n in enumerate(scrape_nodes)]
        nodes += self.scrape_config_files(top)
        for node, path in nodes:
            sc = self.scrape_config(node, path, gc)
            if sc.job_name in seen:
                raise node.error(
                    f'found multiple scrape configs with job name "{sc.job_name}"',
                    f.join(path, "job_name"),
                )
            seen.add(sc.job_name)
            jobs.append(sc)
        rule_files = []
        for i, item in enumerate(top.seq("rule_files")):
            name = f.string(item, f"rule_files[{i}]")
            if not _RULE_PATH_RE.match(name) or not _valid_glob(name):
                raise item.error(f'invalid rule file path "{name}"', f"rule_files[{i}]")
            rule_files.append(self.path(name))
        alert_relabel, alertmanagers = self.alerting(top)
        for w in self.warnings:
            log.warning("%s: %s", self.root.file or "config", w)
        return Config(
            global_config=gc,
            scrape_configs=tuple(jobs),
            rule_files=tuple(rule_files),
            alerting=self.section(top, "alerting", "config.plain"),
            alert_relabel_configs=tuple(alert_relabel),
            alertmanagers=tuple(alertmanagers),
            remote_write=self.remote_list(top, "remote_write", "config.plain"),
            remote_read=self.remote_list(top, "remote_read", "config.plain"),
            storage=self.section(top, "storage", "config.StorageConfig"),
            tracing=self.section(top, "tracing", "config.TracingConfig"),
            otlp=self.section(top, "otlp", "config.OTLPConfig"),
            runtime=self.section(top, "runtime", "config.RuntimeConfig"),
            raw=self.root.plain() if isinstance(self.root.value, dict) else {},
            file=self.root.file,
            warnings=tuple(self.warnings),
        )

    # -- sections kept as data -------------------------------------------------------------
    def section(self, top: Section, key: str, type_name: str) -> dict[str, Any]:
        if key not in top:
            return {}
        f.mapping(top.at(key), type_name, key)
        plain = top.at(key).plain()
        return plain if isinstance(plain, dict) else {}

    def alerting(self, top: Section) -> tuple[list[RelabelConfig], list[AlertmanagerConfig]]:
        if "alerting" not in top:
            return [], []
        sec = Section(top.at("alerting"), "config.plain", "alerting")
        out = self.relabel_configs(sec, "alert_relabel_configs", what="alert relabeling rule")
        ams = [
            self.alertmanager(am, f"alerting.alertmanagers[{i}]")
            for i, am in enumerate(sec.seq("alertmanagers"))
        ]
        return out, ams

    def alertmanager(self, node: Node, path: str) -> AlertmanagerConfig:
        s = Section(
            node, "config.AlertmanagerConfig", path, (*_ALERTMANAGER_FIELDS, *SD_CONFIG_KEYS)
        )
        api = s.text("api_version") or "v2"
        if api != "v2":
            # Prometheus 3 removed v1; Alertmanager 0.27 removed its v1 API too.
            raise s.error(
                "api_version",
                f"expected Alertmanager api version to be one of [v2] but got {api}",
            )
        return AlertmanagerConfig(
            scheme=s.text("scheme") or "http",
            path_prefix=s.text("path_prefix"),
            timeout_ms=s.dur("timeout") or DEFAULT_ALERTMANAGER_TIMEOUT_MS,
            api_version=api,
            **self.client_and_targets(s),
            relabel_configs=tuple(
                self.relabel_configs(
                    s, "relabel_configs", what="Alertmanager target relabeling rule"
                )
            ),
            alert_relabel_configs=tuple(
                self.relabel_configs(s, "alert_relabel_configs", what="alert relabeling rule")
            ),
        )

    def remote_list(self, top: Section, key: str, type_name: str) -> tuple[dict[str, Any], ...]:
        out = []
        what = key.replace("_", " ")
        names: set[str] = set()
        for i, item in enumerate(top.seq(key)):
            if item.is_null:
                raise item.error(f"empty or null {what} config section", f"{key}[{i}]")
            sec = Section(item, type_name, f"{key}[{i}]")
            if not sec.text("url"):
                raise sec.error("url", f"url for {key} is empty")
            name = sec.text("name")
            if name and name in names:
                raise sec.error("name", f'found multiple {what} configs with job name "{name}"')
            names.add(name)
            self.relabel_configs(
                sec, "write_relabel_configs", what="relabeling rule in remote write config"
            )
            plain = item.plain()
            out.append(plain if isinstance(plain, dict) else {})
        return tuple(out)

    def scrape_config_files(self, top: Section) -> list[tuple[Node, str]]:
        out: list[tuple[Node, str]] = []
        for i, item in enumerate(top.seq("scrape_config_files")):
            raw_pattern = f.string(item, f"scrape_config_files[{i}]")
            if not _RULE_PATH_RE.match(raw_pattern) or not _valid_glob(raw_pattern):
                raise item.error(
                    f'invalid scrape config file path "{raw_pattern}"', f"scrape_config_files[{i}]"
                )
            pattern = self.path(raw_pattern)
            for name in sorted(glob.glob(pattern)):
                try:
                    data = Path(name).read_bytes()
                except OSError as exc:
                    raise item.error(
                        f"cannot read {name}: {exc.strerror}", f"scrape_config_files[{i}]"
                    ) from None
                sub = Section(
                    load_yaml(data, name), "config.ScrapeConfigs", "", ("scrape_configs",)
                )
                out += [
                    (n, f"scrape_configs[{j}]") for j, n in enumerate(sub.seq("scrape_configs"))
                ]
        return out

    # -- global ----------------------------------------------------------------------------
    def global_config(self, node: Node | None) -> GlobalConfig:
        if node is None:
            return GlobalConfig()
        g = Section(node, "config.plain", "global", _GLOBAL_FIELDS)
        interval = g.dur("scrape_interval") or DEFAULT_SCRAPE_INTERVAL_MS
        timeout = g.dur("scrape_timeout")
        if timeout > interval:
            raise g.error("scrape_timeout", "global scrape timeout greater than scrape interval")
        if timeout == 0:
            timeout = min(DEFAULT_SCRAPE_TIMEOUT_MS, interval)
        external = g.strmap("external_labels")
        if "" in external:
            raise g.error("external_labels", '"" is not a valid label name')
        scheme = g.text("metric_name_validation_scheme") or "utf8"
        if scheme not in ("utf8", "legacy"):
            raise g.error(
                "metric_name_validation_scheme",
                "unknown global name validation method specified, must be either '', "
                f"'legacy' or 'utf8', got {scheme}",
            )
        escaping = g.text("metric_name_escaping_scheme") or (
            "underscores" if scheme == "legacy" else "allow-utf-8"
        )
        if escaping not in ESCAPING_SCHEMES:
            raise g.error(
                "metric_name_escaping_scheme",
                "unknown global name escaping method specified, must be one of "
                f"'allow-utf-8', 'underscores', 'dots', or 'values', got \"{escaping}\"",
            )
        return GlobalConfig(
            scrape_interval_ms=interval,
            scrape_timeout_ms=timeout,
            evaluation_interval_ms=g.dur("evaluation_interval") or DEFAULT_EVALUATION_INTERVAL_MS,
            rule_query_offset_ms=g.dur("rule_query_offset"),
            external_labels=labels_of(external),
            query_log_file=self.path(g.text("query_log_file")),
            scrape_failure_log_file=self.path(g.text("scrape_failure_log_file")),
            scrape_protocols=self.protocols(g) or DEFAULT_SCRAPE_PROTOCOLS,
            body_size_limit=g.size("body_size_limit"),
            sample_limit=g.count("sample_limit"),
            label_limit=g.count("label_limit"),
            label_name_length_limit=g.count("label_name_length_limit"),
            label_value_length_limit=g.count("label_value_length_limit"),
            target_limit=g.count("target_limit"),
            keep_dropped_targets=g.count("keep_dropped_targets"),
            metric_name_validation_scheme=scheme,
            metric_name_escaping_scheme=escaping,
        )

    def protocols(self, sec: Section, where: str = "global config") -> tuple[str, ...]:
        if "scrape_protocols" not in sec:
            return ()
        names = sec.strs("scrape_protocols")
        for i, name in enumerate(names):
            if name not in SCRAPE_PROTOCOLS:
                raise sec.error(
                    "scrape_protocols", f"scrape_protocols: {_unknown_protocol(name)} for {where}"
                )
            if name in names[:i]:
                raise sec.error(
                    "scrape_protocols",
                    f"duplicated protocol in scrape_protocols, got [{' '.join(names)}] for {where}",
                )
        if not names:
            raise sec.error("scrape_protocols", f"scrape_protocols cannot be empty for {where}")
        return tuple(names)

    # -- scrape_configs --------------------------------------------------------------------
    def scrape_config(self, node: Node, path: str, gc: GlobalConfig) -> ScrapeConfig:
        if node.is_null:
            raise node.error("empty or null scrape config section", path)
        s = Section(node, "config.ScrapeConfig", path, (*_SCRAPE_FIELDS, *SD_CONFIG_KEYS))
        job = s.text("job_name")
        if not job:
            raise s.error("job_name", "job_name is empty")
        interval = s.dur("scrape_interval") or gc.scrape_interval_ms
        timeout = s.dur("scrape_timeout") or min(gc.scrape_timeout_ms, interval)
        if timeout > interval:
            raise s.error(
                "scrape_timeout",
                "scrape timeout greater than scrape interval for scrape config with job name "
                f'"{job}"',
            )
        # Like Prometheus, another scheme is not a config error: its scrapes fail and say why.
        scheme = s.text("scheme") or "http"
        params = []
        if "params" in s:
            ps = Section(s.at("params"), "url.Values", s.p("params"))
            params = [(k, tuple(ps.strs(k))) for k in ps.items]
        fallback = s.text("fallback_scrape_protocol")
        if fallback and fallback not in SCRAPE_PROTOCOLS:
            raise s.error(
                "fallback_scrape_protocol",
                "invalid fallback_scrape_protocol for scrape "
                f'config with job name "{job}": {_unknown_protocol(fallback)}',
            )
        self.auth(s)  # its errors come before the validation scheme's, as in Prometheus
        local_validation = s.text("metric_name_validation_scheme")
        validation = local_validation or gc.metric_name_validation_scheme
        if validation not in ("utf8", "legacy"):
            raise s.error(
                "metric_name_validation_scheme",
                "unknown scrape config name validation method specified, must be "
                f"either '', 'legacy' or 'utf8', got {validation}",
            )
        # A job that only sets its validation scheme gets the matching escaping, not the
        # global one (Prometheus: legacy jobs must not inherit allow-utf-8).
        escaping = s.text("metric_name_escaping_scheme") or (
            gc.metric_name_escaping_scheme
            if not local_validation
            else "underscores"
            if validation == "legacy"
            else "allow-utf-8"
        )
        if escaping not in ESCAPING_SCHEMES:
            raise s.error(
                "metric_name_escaping_scheme",
                "unknown scrape config name escaping method specified, must be one of "
                f"'allow-utf-8', 'underscores', 'dots', or 'values', got {escaping}",
            )
        if escaping == "allow-utf-8" and validation != "utf8":
            raise s.error(
                "metric_name_escaping_scheme",
                "utf8 metric names requested but validation scheme is not set to UTF8",
            )
        return ScrapeConfig(
            job_name=job,
            scrape_interval_ms=interval,
            scrape_timeout_ms=timeout,
            metrics_path=s.text("metrics_path") or "/metrics",
            scheme=scheme,
            params=tuple(params),
            honor_labels=s.flag("honor_labels", False),
            honor_timestamps=s.flag("honor_timestamps", True),
            track_timestamps_staleness=s.flag("track_timestamps_staleness", False),
            scrape_protocols=self.protocols(s, f'scrape config with job name "{job}"')
            or gc.scrape_protocols,
            fallback_scrape_protocol=fallback,
            enable_compression=s.flag("enable_compression", True),
            **self.client_and_targets(s),
            relabel_configs=tuple(
                self.relabel_configs(
                    s, "relabel_configs", validation, "target relabeling rule in scrape config"
                )
            ),
            metric_relabel_configs=tuple(
                self.relabel_configs(
                    s,
                    "metric_relabel_configs",
                    validation,
                    "metric relabeling rule in scrape config",
                )
            ),
            sample_limit=s.count("sample_limit") or gc.sample_limit,
            label_limit=s.count("label_limit") or gc.label_limit,
            label_name_length_limit=s.count("label_name_length_limit")
            or gc.label_name_length_limit,
            label_value_length_limit=s.count("label_value_length_limit")
            or gc.label_value_length_limit,
            target_limit=s.count("target_limit") or gc.target_limit,
            body_size_limit=s.size("body_size_limit") or gc.body_size_limit,
            keep_dropped_targets=s.count("keep_dropped_targets") or gc.keep_dropped_targets,
            metric_name_validation_scheme=validation,
            metric_name_escaping_scheme=escaping,
        )

    def client_and_targets(self, s: Section) -> dict[str, Any]:
        """The HTTP client settings and target discovery a scrape config and an Alertmanager
        config share, as keyword arguments of either."""
        basic_auth, authorization = self.auth(s)
        return {
            "follow_redirects": s.flag("follow_redirects", True),
            "basic_auth": basic_auth,
            "authorization": authorization,
            "oauth2": self.oauth2(s),
            "tls_config": self.tls(s),
            "proxy_url": s.text("proxy_url"),
            "proxy_from_environment": s.flag("proxy_from_environment", False),
            "http_headers": self.headers(s, "values"),
            "http_header_files": self.headers(s, "files"),
            "static_configs": tuple(
                self.static_group(n, f"{s.p('static_configs')}[{i}]")
                for i, n in enumerate(s.seq("static_configs"))
            ),
            "file_sd_configs": tuple(
                self.file_sd(n, f"{s.p('file_sd_configs')}[{i}]")
                for i, n in enumerate(s.seq("file_sd_configs"))
            ),
            "unsupported_sd_configs": self.unsupported_sd(s),
        }

    def unsupported_sd(self, s: Section) -> tuple[str, ...]:
        kinds = []
        for key in s.items:
            if key in SD_CONFIG_KEYS:
                s.seq(key)
                kinds.append(key)
                self.warnings.append(
                    f"{s.p(key)} (line {s.at(key).line}): {key.removesuffix('_configs')} service "
                    "discovery is not supported by Spyglass; its targets are not scraped"
                )
        return tuple(kinds)

    def headers(self, s: Section, kind: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``http_headers``: literal values (``values`` and ``secrets``) or ``files`` to read."""
        if "http_headers" not in s:
            return ()
        hs = Section(s.at("http_headers"), "config.Headers", s.p("http_headers"))
        out = []
        for name, node in hs.items.items():
            h = Section(node, "config.Header", hs.p(name), ("values", "secrets", "files"))
            if kind == "files":
                files = tuple(self.path(f) for f in h.strs("files"))
                if files:
                    out.append((name, files))
            else:
                out.append((name, (*h.strs("values"), *h.strs("secrets"))))
        return tuple(out)

    def auth(self, s: Section) -> tuple[BasicAuth | None, Authorization | None]:
        basic = None
        if "basic_auth" in s:
            b = Section(
                s.at("basic_auth"),
                "config.plain",
                s.p("basic_auth"),
                (
                    "username",
                    "username_file",
                    "username_ref",
                    "password",
                    "password_file",
                    "password_ref",
                ),
            )
            if b.text("username") and b.text("username_file"):
                raise s.error(
                    "basic_auth",
                    "at most one of basic_auth username & username_file must be configured",
                )
            if b.text("password") and b.text("password_file"):
                raise s.error(
                    "basic_auth",
                    "at most one of basic_auth password & password_file must be configured",
                )
            basic = BasicAuth(
                b.text("username"),
                b.text("password"),
                self.path(b.text("password_file")),
                self.path(b.text("username_file")),
            )
        authz = None
        if "authorization" in s:
            a = Section(
                s.at("authorization"),
                "config.Authorization",
                s.p("authorization"),
                ("type", "credentials", "credentials_file", "credentials_ref"),
            )
            if a.text("credentials") and a.text("credentials_file"):
                raise s.error(
                    "authorization",
                    "at most one of authorization credentials & "
                    "credentials_file must be configured",
                )
            kind = a.text("type").strip() or "Bearer"
            if kind.lower() == "basic":
                raise s.error(
                    "authorization",
                    'authorization type cannot be set to "basic", use "basic_auth" instead',
                )
            authz = Authorization(
                kind, a.text("credentials"), self.path(a.text("credentials_file"))
            )
        token, token_file = s.text("bearer_token"), s.text("bearer_token_file")
        oauth = "oauth2" in s
        if token and token_file:
            raise s.error(
                "bearer_token", "at most one of bearer_token & bearer_token_file must be configured"
            )
        if sum((basic is not None, oauth, bool(token or token_file))) > 1:
            raise s.error(
                "basic_auth" if basic else "oauth2",
                "at most one of basic_auth, "
                "oauth2, bearer_token & bearer_token_file must be configured",
            )
        if authz is not None and (basic is not None or oauth):
            raise s.error(
                "authorization",
                "at most one of basic_auth, oauth2 & authorization must be configured",
            )
        if authz is not None and (token or token_file):
            raise s.error(
                "authorization",
                "authorization is not compatible with bearer_token & bearer_token_file",
            )
        if token or token_file:
            authz = Authorization("Bearer", token, self.path(token_file))
        return basic, authz

    def oauth2(self, s: Section) -> OAuth2 | None:
        if "oauth2" not in s:
            return None
        o = Section(s.at("oauth2"), "config.OAuth2", s.p("oauth2"), _OAUTH2_FIELDS)
        if not o.text("client_id"):
            raise s.error("oauth2", "oauth2 client_id must be configured")
        if not o.text("token_url"):
            raise s.error("oauth2", "oauth2 token_url must be configured")
        if o.text("client_secret") and o.text("client_secret_file"):
            raise s.error(
                "oauth2",
                "at most one of oauth2 client_secret & client_secret_file must be configured",
            )
        for key in (
            "tls_config",
            "proxy_url",
            "no_proxy",
            "proxy_from_environment",
            "proxy_connect_header",
            "client_certificate_key",
            "signature_algorithm",
            "iss",
            "audience",
            "claims",
            "client_certificate_key_file",
            "client_certificate_key_id",
            "client_certificate_key_ref",
        ):
            if key in o:
                self.warnings.append(
                    f"{o.p(key)} (line {o.at(key).line}): not supported by "
                    "Spyglass; the token request goes out without it"
                )
        return OAuth2(
            client_id=o.text("client_id"),
            client_secret=o.text("client_secret"),
            client_secret_file=self.path(o.text("client_secret_file")),
            scopes=tuple(o.strs("scopes")),
            token_url=o.text("token_url"),
            endpoint_params=tuple(sorted(o.strmap("endpoint_params").items())),
        )

    def tls(self, s: Section) -> TLSConfig:
        if "tls_config" not in s:
            return TLSConfig()
        t = Section(s.at("tls_config"), "config.plain", s.p("tls_config"), _TLS_FIELDS)
        if t.text("ca") and t.text("ca_file"):
            raise s.error("tls_config", "at most one of ca and ca_file must be configured")
        if (t.text("cert_file") or t.text("cert")) and not (t.text("key_file") or t.text("key")):
            raise s.error(
                "tls_config",
                "exactly one of key or key_file must be configured when "
                "a client certificate is configured",
            )
        return TLSConfig(
            ca_file=self.path(t.text("ca_file")),
            cert_file=self.path(t.text("cert_file")),
            key_file=self.path(t.text("key_file")),
            server_name=t.text("server_name"),
            insecure_skip_verify=t.flag("insecure_skip_verify", False),
        )

    def static_group(self, node: Node, path: str) -> TargetGroup:
        if node.is_null:
            raise node.error("empty or null section in static_configs", path)
        g = Section(node, _STATIC_GROUP_TYPE, path, ("targets", "labels"))
        targets = g.strs("targets")
        for i, t in enumerate(targets):
            if "/" in t:
                raise (
                    g.at("targets")
                    .value[i]
                    .error(f'"{t}" is not a valid hostname', f"{g.p('targets')}[{i}]")
                )
        labels = g.strmap("labels")
        if "" in labels:
            raise g.error("labels", '"" is not a valid label name')
        return TargetGroup(tuple(targets), labels_of(labels), path)

    def file_sd(self, node: Node, path: str) -> FileSDConfig:
        s = Section(node, "file.plain", path, ("files", "refresh_interval"))
        files = [name.strip() for name in s.strs("files")]
        if not files:
            raise s.error(
                "files", "file service discovery config must contain at least one path name"
            )
        for name in files:
            if not _FILE_SD_RE.match(name):
                raise s.error("files", f'path name "{name}" is not valid for file discovery')
        refresh = s.dur("refresh_interval") or DEFAULT_FILE_SD_REFRESH_MS
        return FileSDConfig(tuple(self.path(n) for n in files), refresh)

    def relabel_configs(
        self, s: Section, key: str, scheme: str = "utf8", what: str = "relabeling rule"
    ) -> list[RelabelConfig]:
        out = []
        for i, n in enumerate(s.seq(key, "[]*relabel.Config")):
            if n.is_null:
                raise n.error(f"empty or null {what}", f"{s.p(key)}[{i}]")
            out.append(self.relabel(n, f"{s.p(key)}[{i}]", scheme))
        return out

    def relabel(self, node: Node, path: str, scheme: str = "utf8") -> RelabelConfig:
        r = Section(node, "relabel.plain", path, _RELABEL_FIELDS)
        kwargs: dict[str, Any] = {
            k: r.text(k)
            for k in ("separator", "target_label", "replacement", "regex")
            if k in r.items
        }
        if "source_labels" in r:
            kwargs["source_labels"] = tuple(r.strs("source_labels"))
        if "modulus" in r:
            kwargs["modulus"] = r.count("modulus")
        # "action:" with no value unmarshals to "" in Go, which Prometheus then rejects.
        if "action" in r.items:
            kwargs["action"] = r.text("action")
            if r.items["action"].is_null:
                raise r.error("action", "relabel action cannot be empty")
            if kwargs["action"] == "":
                raise r.error("action", 'unknown relabel action ""')
        try:
            cfg = RelabelConfig(**kwargs)
            if scheme == "legacy":
                cfg.check_legacy_names()
            return cfg
        except ConfigError as exc:
            raise r.error(exc.field, exc.message) from None


def _unknown_protocol(name: str) -> str:
    return f"unknown scrape protocol {name}, supported: [{' '.join(sorted(SCRAPE_PROTOCOLS))}]"


def _valid_glob(pattern: str) -> bool:
    # Go's filepath.Match rejects unbalanced character classes; so do we.
    depth = 0
    escaped = False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            if depth:
                return False
            depth = 1
        elif c == "]":
            depth = 0
    return depth == 0 and not escaped


__all__ = [
    "DEFAULT_SCRAPE_PROTOCOLS",
    "SCRAPE_PROTOCOLS",
    "Authorization",
    "BasicAuth",
    "Config",
    "FileSDConfig",
    "GlobalConfig",
    "OAuth2",
    "ScrapeConfig",
    "TLSConfig",
    "TargetGroup",
    "load_config",
    "load_config_file",
]
