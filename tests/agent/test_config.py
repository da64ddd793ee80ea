"""A Promtail config file reads as Promtail reads it: defaults, clients, positions, targets
after relabeling; mistakes are errors naming file, line and field; receivers the agent does not
have are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from spyglass.agent import load_agent_config, load_agent_config_file, targets
from spyglass.core.errors import ConfigError

FULL = """
server:
  http_listen_port: 9081
  grpc_listen_port: 0
positions:
  filename: positions.yaml
  sync_period: 5s
clients:
  - url: http://loki:3100/loki/api/v1/push
    tenant_id: team-a
    batchwait: 2s
    batchsize: 102400
    basic_auth: {username: u, password: p}
    external_labels: {host: web-1}
    timeout: 5s
    backoff_config: {min_period: 100ms, max_period: 10s, max_retries: 3}
target_config:
  sync_period: 30s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [localhost]
        labels:
          job: app
          __path__: /var/log/app/*.log
          __path_exclude__: /var/log/app/*.gz.log
      - targets: [localhost]
        labels: {job: skipme, __path__: /var/log/skip/*.log}
    relabel_configs:
      - source_labels: [job]
        regex: skipme
        action: drop
      - source_labels: [__path__]
        regex: '/var/log/(\\w+)/.*'
        target_label: service
    pipeline_stages:
      - json: {expressions: {level: }}
      - labels: {level: }
"""


def test_a_full_config(tmp_path: Path) -> None:
    f = tmp_path / "promtail.yaml"
    f.write_text(FULL)
    cfg = load_agent_config_file(f)
    assert cfg.server.port == 9081
    assert cfg.positions.filename == str(tmp_path / "positions.yaml")
    assert cfg.positions.sync_period_ms == 5000
    assert cfg.target_sync_ms == 30_000
    (c,) = cfg.clients
    assert (c.tenant_id, c.batch_wait_ms, c.batch_size, c.timeout_ms) == (
        "team-a",
        2000,
        102400,
        5000,
    )
    assert c.basic_auth == ("u", "p")
    assert c.external_labels == {"host": "web-1"}
    assert (c.min_backoff_ms, c.max_backoff_ms, c.max_retries) == (100, 10_000, 3)
    (sc,) = cfg.scrape_configs
    (t,) = targets(sc)
    assert t.glob == "/var/log/app/*.log"
    assert t.labels == {"job": "app", "service": "app"}
    assert t.exclude is not None
    assert t.exclude.fullmatch("/var/log/app/x.gz.log")


def test_defaults_are_promtails() -> None:
    cfg = load_agent_config("clients: [{url: 'http://x/loki/api/v1/push'}]\nscrape_configs: []")
    (c,) = cfg.clients
    assert (c.batch_wait_ms, c.batch_size, c.timeout_ms) == (1000, 1 << 20, 10_000)
    assert (c.min_backoff_ms, c.max_backoff_ms, c.max_retries) == (500, 300_000, 10)
    assert cfg.positions.filename == "/var/log/positions.yaml"
    assert cfg.positions.sync_period_ms == 10_000
    assert cfg.server.port == 9080
    assert cfg.poll_ms == 250


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("clients: []", 1, "clients", "at least one client"),
        ("clients:\n  - tenant_id: a", 2, "clients[0].url", "client needs target URL"),
        (
            "clients:\n  - url: http://x\n    batchsiz: 1",
            3,
            "clients[0].batchsiz",
            "field batchsiz not found in type client.Config",
        ),
        ("clients: [{url: 'ftp://x'}]", 1, "clients[0].url", "unsupported protocol scheme"),
        ("clients: [{url: 'http://x', batchwait: soon}]", 1, "clients[0].batchwait", "duration"),
        (
            "clients: [{url: 'http://x'}]\nscrape_configs:\n  - job_name: j\n    journal: {}",
            4,
            "scrape_configs[0].journal",
            "journal is not supported",
        ),
        (
            "clients: [{url: 'http://x'}]\nscrape_configs:\n  - static_configs: []",
            3,
            "scrape_configs[0].job_name",
            "job_name is required",
        ),
        (
            "clients: [{url: 'http://x'}]\nscrape_configs:\n  - job_name: j\n"
            "    relabel_configs:\n      - action: explode",
            5,
            "scrape_configs[0].relabel_configs[0].action",
            'unknown relabel action "explode"',
        ),
        (
            "clients: [{url: 'http://x'}]\nscrape_configs:\n  - job_name: j\n"
            "    pipeline_stages:\n      - cri: {}",
            5,
            "scrape_configs[0].pipeline_stages[0].cri",
            'unknown pipeline stage "cri"',
        ),
        (
            "clients: [{url: 'http://x'}]\nlimits_config: {}",
            2,
            "limits_config",
            "field limits_config not found in type promtail.Config",
        ),
        (
            "clients: [{url: 'http://x'}]\npositions: {filename: p, sync_period: x}",
            2,
            "positions.sync_period",
            "duration",
        ),
    ],
)
def test_errors_name_file_line_and_field(text: str, line: int, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_agent_config(text, "promtail.yaml")
    err = info.value
    assert (err.file, err.line, err.field) == ("promtail.yaml", line, field)
    assert message in err.message
    assert str(err).startswith(f"promtail.yaml:{line}: {field}: ")


def test_a_target_without_path_or_targets_is_skipped() -> None:
    cfg = load_agent_config(
        "clients: [{url: 'http://x'}]\nscrape_configs:\n  - job_name: j\n    static_configs:\n"
        "      - targets: [localhost]\n        labels: {job: j}\n"
        "      - targets: []\n        labels: {__path__: /x}\n"
    )
    assert targets(cfg.scrape_configs[0]) == []


_KEYS = [
    "clients", "url", "scrape_configs", "job_name", "static_configs", "labels",
    "pipeline_stages", "json", "regex", "expression", "positions", "server",
    "multiline", "firstline", "timestamp", "source", "format", "x",
]  # fmt: skip
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8))
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4),
    ),
    max_leaves=20,
)


@given(_TREES)
def test_any_yaml_document_is_a_config_or_a_config_error(doc: object) -> None:
    error: ConfigError | None = None
    try:
        load_agent_config(yaml.safe_dump(doc), "promtail.yaml")
    except ConfigError as exc:
        error = exc
    assert error is None or error.file == "promtail.yaml"
