"""prometheus.yml loading: realistic files load unchanged, defaults match Prometheus, errors say
file:line and field like promtool."""

from __future__ import annotations

import contextlib
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.required import need_promtool

from spyglass.core import config as config_pkg
from spyglass.core.config import load_config, load_config_file, load_yaml
from spyglass.core.errors import ConfigError

GUIDE = """\
# my global config, as in Prometheus' getting-started guide
global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels:
    monitor: 'codelab-monitor'

alerting:
  alertmanagers:
    - static_configs:
        - targets: ['alertmanager:9093']

rule_files:
  - "rules/first_rules.yml"
  - "rules/*.rules.yml"

scrape_configs:
  - job_name: 'prometheus'
    scrape_interval: 5s
    static_configs:
      - targets: ['localhost:9090']

  - job_name: 'node'
    file_sd_configs:
      - files: ['targets/nodes/*.json', 'targets/nodes/*.yml']
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        regex: '([^:]+):\\d+'
        target_label: host
      - action: labelmap
        regex: __meta_(.+)
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'go_gc_.*'
        action: drop

  - job_name: 'api'
    metrics_path: /internal/metrics
    scheme: https
    params:
      module: [http_2xx]
    basic_auth:
      username: prom
      password_file: secrets/api-password
    tls_config:
      insecure_skip_verify: true
    sample_limit: 5000
    static_configs:
      - targets: ['api-1:8443', 'api-2:8443']
        labels:
          env: prod
          team: payments

  - job_name: 'kube'
    bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    kubernetes_sd_configs:
      - role: pod

remote_write:
  - url: http://remote.example/api/v1/write
    write_relabel_configs:
      - source_labels: [__name__]
        regex: expensive.*
        action: drop

storage:
  tsdb:
    out_of_order_time_window: 10m
tracing:
  endpoint: otel:4317
"""


def test_public_names() -> None:
    assert set(config_pkg.__all__) == {
        "DEFAULT_SCRAPE_PROTOCOLS",
        "SCRAPE_PROTOCOLS",
        "TLS_CIPHER_SUITES",
        "TLS_CURVES",
        "AlertmanagerConfig",
        "Authorization",
        "BasicAuth",
        "Config",
        "FileSDConfig",
        "GlobalConfig",
        "Node",
        "OAuth2",
        "ScrapeConfig",
        "TLSConfig",
        "TLSServerConfig",
        "TargetGroup",
        "WebConfig",
        "load_config",
        "load_config_file",
        "load_web_config",
        "load_web_config_file",
        "load_yaml",
        "redact_secrets",
    }


def test_guide_config_loads_with_prometheus_defaults(tmp_path: Path) -> None:
    path = tmp_path / "prometheus.yml"
    path.write_text(GUIDE)
    cfg = load_config_file(path)
    g = cfg.global_config
    assert (g.scrape_interval_ms, g.scrape_timeout_ms, g.evaluation_interval_ms) == (
        15_000,
        10_000,
        15_000,
    )
    assert g.external_labels == (("monitor", "codelab-monitor"),)
    assert cfg.rule_files == (
        str(tmp_path / "rules/first_rules.yml"),
        str(tmp_path / "rules/*.rules.yml"),
    )
    assert [s.job_name for s in cfg.scrape_configs] == ["prometheus", "node", "api", "kube"]

    prom = cfg.scrape_config("prometheus")
    assert prom is not None
    assert (prom.scrape_interval_ms, prom.scrape_timeout_ms) == (5_000, 5_000)
    assert prom.metrics_path == "/metrics"
    assert prom.scheme == "http"
    assert prom.honor_timestamps is True
    assert prom.honor_labels is False
    assert prom.static_configs[0].targets == ("localhost:9090",)

    node = cfg.scrape_config("node")
    assert node is not None
    assert node.scrape_interval_ms == 15_000
    assert node.scrape_timeout_ms == 10_000
    assert node.file_sd_configs[0].refresh_interval_ms == 60_000
    assert node.file_sd_configs[0].files[0] == str(tmp_path / "targets/nodes/*.json")
    assert [r.action for r in node.relabel_configs] == ["replace", "labelmap"]
    assert node.metric_relabel_configs[0].action == "drop"

    api = cfg.scrape_config("api")
    assert api is not None
    assert api.scheme == "https"
    assert api.metrics_path == "/internal/metrics"
    assert api.params == (("module", ("http_2xx",)),)
    assert api.basic_auth is not None
    assert api.basic_auth.username == "prom"
    assert api.basic_auth.password_file == str(tmp_path / "secrets/api-password")
    assert api.tls_config.insecure_skip_verify is True
    assert api.sample_limit == 5000
    assert api.static_configs[0].labels == (("env", "prod"), ("team", "payments"))

    kube = cfg.scrape_config("kube")
    assert kube is not None
    assert kube.unsupported_sd_configs == ("kubernetes_sd_configs",)
    assert kube.authorization is not None
    assert kube.authorization.type == "Bearer"
    assert any("kubernetes_sd" in w for w in cfg.warnings)

    assert cfg.remote_write[0]["url"] == "http://remote.example/api/v1/write"
    assert cfg.storage == {"tsdb": {"out_of_order_time_window": "10m"}}
    assert cfg.tracing == {"endpoint": "otel:4317"}
    assert cfg.alerting["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert cfg.raw["global"]["scrape_interval"] == "15s"


def test_empty_file_is_all_defaults() -> None:
    cfg = load_config("")
    assert cfg.global_config.scrape_interval_ms == 60_000
    assert cfg.global_config.scrape_timeout_ms == 10_000
    assert cfg.global_config.evaluation_interval_ms == 60_000
    assert cfg.scrape_configs == ()


def test_global_interval_below_default_timeout_caps_timeout() -> None:
    cfg = load_config("global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n")
    assert cfg.global_config.scrape_timeout_ms == 5_000
    assert cfg.scrape_configs[0].scrape_timeout_ms == 5_000


def test_job_interval_below_global_timeout_caps_timeout() -> None:
    cfg = load_config("scrape_configs:\n  - job_name: a\n    scrape_interval: 2s\n")
    assert cfg.scrape_configs[0].scrape_timeout_ms == 2_000


def test_global_limits_are_inherited() -> None:
    cfg = load_config(
        textwrap.dedent("""\
        global:
          sample_limit: 100
          body_size_limit: 10MB
        scrape_configs:
          - job_name: a
          - job_name: b
            sample_limit: 7
        """)
    )
    a, b = cfg.scrape_configs
    assert (a.sample_limit, b.sample_limit) == (100, 7)
    assert a.body_size_limit == 10 * 1024 * 1024


def test_anchors_and_merge_keys_work() -> None:
    cfg = load_config(
        textwrap.dedent("""\
        scrape_configs:
          - &base
            job_name: a
            scrape_interval: 30s
          - <<: *base
            job_name: b
        """)
    )
    assert [(s.job_name, s.scrape_interval_ms) for s in cfg.scrape_configs] == [
        ("a", 30_000),
        ("b", 30_000),
    ]


BAD = [
    # (yaml, line, field, message fragment)
    ("foo: 1\n", 1, "foo", "field foo not found in type config.plain"),
    (
        "global:\n  scrape_interval: 15\n",
        2,
        "global.scrape_interval",
        'not a valid duration string: "15"',
    ),
    (
        "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
        3,
        "global.scrape_timeout",
        "global scrape timeout greater than scrape interval",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
        4,
        "scrape_configs[0].scrape_timeout",
        "scrape timeout greater than scrape interval",
    ),
    (
        "scrape_configs:\n  - job_name: a\n  - job_name: a\n",
        3,
        "scrape_configs[1].job_name",
        'found multiple scrape configs with job name "a"',
    ),
    (
        "scrape_configs:\n  - scrape_interval: 5s\n",
        2,
        "scrape_configs[0].job_name",
        "job_name is empty",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    static_config:\n      - targets: [x]\n",
        3,
        "scrape_configs[0].static_config",
        "field static_config not found",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n"
        "        target_label: t\n",
        4,
        "scrape_configs[0].relabel_configs[0].modulus",
        "requires non-zero modulus",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n"
        "        regex: '(unclosed'\n",
        5,
        "scrape_configs[0].relabel_configs[0].regex",
        "error parsing regexp",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n"
        "        action: replace\n",
        4,
        "scrape_configs[0].relabel_configs[0].target_label",
        "requires 'target_label' value",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n",
        4,
        "scrape_configs[0].relabel_configs[0].action",
        'unknown relabel action "explode"',
    ),
    (
        "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n      - action: labeldrop\n"
        "        source_labels: [a]\n",
        4,
        "scrape_configs[0].metric_relabel_configs[0].action",
        "labeldrop action requires only 'regex', and no other fields",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    basic_auth:\n      username: u\n"
        "      password: p\n      password_file: f\n",
        3,
        "scrape_configs[0].basic_auth",
        "at most one of basic_auth password & password_file",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    bearer_token: t\n    basic_auth:\n"
        "      username: u\n",
        4,
        "scrape_configs[0].basic_auth",
        "at most one of basic_auth",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets:\n"
        "          - 'host:80/path'\n",
        5,
        "scrape_configs[0].static_configs[0].targets[0]",
        "is not a valid hostname",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n",
        4,
        "scrape_configs[0].file_sd_configs[0].files",
        "is not valid for file discovery",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    sample_limit: -1\n",
        3,
        "scrape_configs[0].sample_limit",
        "cannot unmarshal",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n",
        3,
        "scrape_configs[0].honor_labels",
        "into bool",
    ),
    ("scrape_configs:\n  job_name: a\n", 2, "scrape_configs", "cannot unmarshal !!map"),
    (
        "global:\n  scrape_interval: 15s\n  scrape_interval: 30s\n",
        3,
        "global.scrape_interval",
        "field scrape_interval already set in type config.plain",
    ),
    (
        "scrape_configs: []\nscrape_configs: []\n",
        2,
        "scrape_configs",
        "field scrape_configs already set in type config.plain",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x]\n"
        "        labels: {a: '1', a: '2'}\n",
        5,
        "scrape_configs[0].static_configs[0].labels.a",
        'key "a" already set in map',
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      -\n",
        4,
        "scrape_configs[0].relabel_configs[0]",
        "empty or null target relabeling rule",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n      - action:\n",
        4,
        "scrape_configs[0].metric_relabel_configs[0].action",
        "relabel action cannot be empty",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: lowercase\n"
        "        target_label: x\n        replacement: y\n",
        6,
        "scrape_configs[0].relabel_configs[0].replacement",
        "'replacement' can not be set for lowercase action",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    body_size_limit: 100\n",
        3,
        "scrape_configs[0].body_size_limit",
        "units: unknown unit  in 100",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    body_size_limit: 10mb\n",
        3,
        "scrape_configs[0].body_size_limit",
        "units: unknown unit mb in 10mb",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    consult_sd_configs: []\n",
        3,
        "scrape_configs[0].consult_sd_configs",
        "field consult_sd_configs not found in type",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    static_configs:\n      -\n",
        4,
        "scrape_configs[0].static_configs[0]",
        "empty or null section in static_configs",
    ),
    (
        "rule_files: ['rules/*/*.yml']\n",
        1,
        "rule_files[0]",
        'invalid rule file path "rules/*/*.yml"',
    ),
    (
        "remote_write:\n  - url: http://a/\n    name: q\n  - url: http://b/\n    name: q\n",
        5,
        "remote_write[1].name",
        'found multiple remote write configs with job name "q"',
    ),
    ("scrape_configs:\n  - job_name: [a\n", 2, "", "yaml:"),
    ("remote_write:\n  - name: x\n", 2, "remote_write[0].url", "url for remote_write is empty"),
    (
        "scrape_configs:\n  - job_name: a\n    metric_name_validation_scheme: legacy\n"
        "    metric_name_escaping_scheme: allow-utf-8\n",
        4,
        "scrape_configs[0].metric_name_escaping_scheme",
        "utf8 metric names requested but validation scheme is not set to UTF8",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    metric_name_validation_scheme: legacy\n"
        "    relabel_configs:\n      - target_label: my.label\n",
        5,
        "scrape_configs[0].relabel_configs[0].target_label",
        "\"my.label\" is invalid 'target_label' for replace action",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    oauth2:\n      client_id: x\n",
        3,
        "scrape_configs[0].oauth2",
        "oauth2 token_url must be configured",
    ),
    (
        "scrape_configs:\n  - job_name: a\n    scrape_protocols: [Foo]\n",
        3,
        "scrape_configs[0].scrape_protocols",
        "unknown scrape protocol Foo",
    ),
]


# scrape_protocols, name validation/escaping and the static target hostname check are newer
# than Debian's promtool 2.42.
BAD_KNOWN_TO_PROMTOOL = [
    c
    for c in BAD
    if "scrape_protocols" not in c[0] and "hostname" not in c[3] and "metric_name_" not in c[0]
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD)
def test_bad_configs_name_file_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(text, file="prometheus.yml")
    err = info.value
    assert err.file == "prometheus.yml"
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert message in err.message, str(err)
    assert str(err).startswith(f"prometheus.yml:{line}: ")


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD_KNOWN_TO_PROMTOOL)
def test_promtool_also_rejects_the_bad_configs(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    """Differential: every config we reject, promtool 2.42 rejects too; where promtool names a
    line (YAML and unmarshal errors), we name the same line and say the same thing."""
    promtool = need_promtool()
    path = tmp_path / "prometheus.yml"
    path.write_text(text)
    proc = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    with pytest.raises(ConfigError) as info:
        load_config(text)
    their_line = re.search(r"line (\d+): (.*)", output)
    if their_line:
        assert info.value.line == int(their_line.group(1)), output
        if not info.value.message.startswith("yaml:"):
            assert info.value.message == their_line.group(2).strip(), output


def test_promtool_accepts_the_guide_config(tmp_path: Path) -> None:
    promtool = need_promtool()
    path = tmp_path / "prometheus.yml"
    # Debian builds Prometheus without Kubernetes discovery, so that job is left out here.
    kube = GUIDE.index("  - job_name: 'kube'")
    path.write_text(GUIDE[:kube] + GUIDE[GUIDE.index("remote_write:") :])
    proc = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(load_config_file(path).scrape_configs) == 3


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_file(tmp_path / "nope.yml")
    assert info.value.file.endswith("nope.yml")


def test_yaml_nodes_keep_lines() -> None:
    node = load_yaml("a:\n  b: [1, 2]\n  c: x\n", "f.yml")
    assert node.value["a"].value["c"].line == 3
    assert node.value["a"].key_lines["b"] == 2
    assert node.plain() == {"a": {"b": [1, 2], "c": "x"}}


def test_alias_bomb_stays_small() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 12):
        text += f"a{i}: &a{i} [*a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}]\n".replace(
            "*a0", "*a"
        )
    node = load_yaml(text)
    assert node.value["a11"].value[0] is node.value["a11"].value[1]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        load_config(text)


YAMLISH = st.recursive(
    st.one_of(
        st.sampled_from(
            [
                "job_name",
                "scrape_interval",
                "15s",
                "relabel_configs",
                "static_configs",
                "targets",
                "action",
                "regex",
                "x",
                "1",
                "true",
                "!!bool",
                "!!int x",
                "!!timestamp",
                "!!binary ~",
                "!!str 5",
                "!custom x",
                "~",
                "''",
                "1e999",
                "0x1F",
                "2024-01-01",
            ]
        ),
        st.integers(-5, 5).map(str),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.dictionaries(
            st.sampled_from(
                [
                    "job_name",
                    "global",
                    "scrape_configs",
                    "regex",
                    "action",
                    "source_labels",
                    "targets",
                    "labels",
                    "scrape_timeout",
                    "target_label",
                    "modulus",
                ]
            ),
            inner,
            max_size=3,
        ).map(lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(YAMLISH)
def test_config_shaped_yaml_only_raises_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        load_config(f"scrape_configs: [{text}]\nglobal: {text}\n")


def test_scrape_config_files_are_merged_and_errors_name_their_file(tmp_path: Path) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "a.yml").write_text("scrape_configs:\n  - job_name: extra\n")
    main = tmp_path / "prometheus.yml"
    main.write_text("scrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n")
    assert [s.job_name for s in load_config_file(main).scrape_configs] == ["main", "extra"]

    (tmp_path / "jobs" / "b.yml").write_text("scrape_configs:\n  - job_name: main\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(main)
    assert info.value.file == str(tmp_path / "jobs" / "b.yml")
    assert info.value.line == 2
    assert "found multiple scrape configs" in info.value.message


def test_alert_relabel_configs_are_validated() -> None:
    cfg = load_config(
        "alerting:\n  alert_relabel_configs:\n    - regex: replica\n      action: labeldrop\n"
    )
    assert cfg.alert_relabel_configs[0].action == "labeldrop"
    with pytest.raises(ConfigError) as info:
        load_config(
            "alerting:\n  alertmanagers:\n    - relabel_configs:\n"
            "        - action: hashmod\n          target_label: x\n"
        )
    assert info.value.line == 4
    assert info.value.field == "alerting.alertmanagers[0].relabel_configs[0].modulus"


def test_http_client_fields_are_accepted() -> None:
    cfg = load_config(
        textwrap.dedent("""\
        scrape_configs:
          - job_name: a
            follow_redirects: false
            enable_http2: false
            enable_compression: false
            proxy_url: http://proxy:3128
            http_headers:
              X-Scope:
                values: [tenant-1]
            tls_config:
              ca_file: ca.pem
              server_name: example.com
            fallback_scrape_protocol: PrometheusText0.0.4
            track_timestamps_staleness: true
        """),
        directory="/etc/prometheus",
    )
    sc = cfg.scrape_configs[0]
    assert sc.follow_redirects is False
    assert sc.enable_compression is False
    assert sc.proxy_url == "http://proxy:3128"
    assert sc.http_headers == (("X-Scope", ("tenant-1",)),)
    assert sc.tls_config.ca_file == "/etc/prometheus/ca.pem"
    assert sc.fallback_scrape_protocol == "PrometheusText0.0.4"
    assert sc.track_timestamps_staleness is True


def test_name_validation_and_escaping_defaults() -> None:
    cfg = load_config(
        "global:\n  metric_name_validation_scheme: legacy\n"
        "scrape_configs:\n  - job_name: a\n  - job_name: b\n"
        "    metric_name_validation_scheme: utf8\n"
        "    metric_name_escaping_scheme: allow-utf-8\n"
    )
    a, b = cfg.scrape_configs
    assert (a.metric_name_validation_scheme, a.metric_name_escaping_scheme) == (
        "legacy",
        "underscores",
    )
    assert (b.metric_name_validation_scheme, b.metric_name_escaping_scheme) == (
        "utf8",
        "allow-utf-8",
    )
    default = load_config("scrape_configs:\n  - job_name: a\n").scrape_configs[0]
    assert default.metric_name_escaping_scheme == "allow-utf-8"


def test_a_job_setting_legacy_validation_gets_underscore_escaping() -> None:
    cfg = load_config(
        "scrape_configs:\n  - job_name: a\n    metric_name_validation_scheme: legacy\n"
    )
    assert cfg.scrape_configs[0].metric_name_escaping_scheme == "underscores"


def test_utf8_label_names_are_fine_in_relabeling_by_default() -> None:
    cfg = load_config(
        "scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
        "      - target_label: my.label\n        replacement: x\n"
    )
    assert cfg.scrape_configs[0].relabel_configs[0].target_label == "my.label"


def test_byte_sizes_in_go_units() -> None:
    def limit(text: str) -> int:
        cfg = load_config(f"scrape_configs:\n  - job_name: a\n    body_size_limit: {text}\n")
        return cfg.scrape_configs[0].body_size_limit

    assert limit("0") == 0
    assert limit("512B") == 512
    assert limit("10MB") == limit("10MiB") == 10 * 1024**2
    assert limit("1.5KB") == 1536
    assert limit("1GB512MB") == 1024**3 + 512 * 1024**2


def test_alertmanagers_are_modelled_with_prometheus_defaults() -> None:
    cfg = load_config(
        "alerting:\n"
        "  alertmanagers:\n"
        "    - static_configs: [{targets: ['am:9093']}]\n"
        "    - {scheme: https, path_prefix: /am, timeout: 3s,\n"
        "       authorization: {credentials: t}, static_configs: [{targets: ['b:1']}]}\n"
    )
    first, second = cfg.alertmanagers
    assert (first.scheme, first.path_prefix, first.timeout_ms, first.api_version) == (
        "http",
        "",
        10_000,
        "v2",
    )
    assert first.static_configs[0].targets == ("am:9093",)
    assert (second.scheme, second.path_prefix, second.timeout_ms) == ("https", "/am", 3_000)
    assert second.authorization is not None
    assert second.authorization.credentials == "t"


def test_alertmanager_api_v1_is_refused_as_prometheus_3_refuses_it() -> None:
    with pytest.raises(ConfigError, match=r"api version to be one of \[v2\] but got v1"):
        load_config("alerting: {alertmanagers: [{api_version: v1}]}")
