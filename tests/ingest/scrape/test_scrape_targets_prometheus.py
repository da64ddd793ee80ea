"""Differential: the same scrape configs in real Prometheus (Debian's 2.42) and in Spyglass give
the same targets: discovered labels, final labels, scrape URLs and dropped targets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from tests.support.required import need_prometheus
from tests.support.servers import prometheus as real_prometheus

from spyglass.core.config import load_config
from spyglass.core.times import parse_duration_ms
from spyglass.ingest.scrape import FileSD, build_targets

pytestmark = pytest.mark.prometheus

# Addresses carry ports: Prometheus 2.x adds a default port where 3.x (and Spyglass) do not.
CONFIG = r"""
global:
  scrape_interval: 1h
scrape_configs:
  - job_name: diff
    scrape_interval: 30s
    scrape_timeout: 5s
    params:
      module: [m1]
    static_configs:
      - targets: ['10.0.0.1:9100', '10.0.0.2:9100', 'web-1.example:8080', 'db:5432']
        labels:
          env: Prod
          team: core
          __meta_zone: eu-1
      - targets: ['10.0.0.3:9100']
        labels:
          env: dev
    relabel_configs:
      - source_labels: [env]
        regex: dev
        action: drop
      - source_labels: [__address__]
        regex: '([^:]+):(\d+)'
        target_label: host
      - source_labels: [__address__]
        target_label: shard
        modulus: 4
        action: hashmod
      - source_labels: [env]
        target_label: env_lower
        action: lowercase
      - source_labels: [team]
        target_label: team_upper
        action: uppercase
      - regex: __meta_(.+)
        replacement: meta_$1
        action: labelmap
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [host]
        regex: db
        target_label: __metrics_path__
        replacement: /db/metrics
      - regex: team
        action: labeldrop
      - source_labels: [host, env]
        separator: '@'
        target_label: combo
      - source_labels: [host]
        regex: '10\.0\.0\.(\d+)'
        target_label: instance
        replacement: 'node-${1}x'
  - job_name: equal
    static_configs:
      - targets: ['a:1', 'b:2']
        labels:
          port: '1'
    relabel_configs:
      - source_labels: [__address__]
        regex: '.*:(\d+)'
        target_label: __tmp_port
      - source_labels: [__tmp_port]
        target_label: port
        action: keepequal
      - regex: 'p(or)t'
        replacement: '${1}_x'
        action: labelmap
  - job_name: files
    file_sd_configs:
      - files: ['sd/*.json', 'sd/*.yml']
    relabel_configs:
      - source_labels: [__meta_filepath]
        regex: '.*/([^/]+)\.(json|yml)'
        target_label: sd_file
      - source_labels: [tier]
        regex: cold
        action: drop
"""
SD_FILES = {
    "sd/web.json": '[{"targets": ["w1:80", "w2:80"], "labels": {"tier": "hot"}}, '
    '{"targets": ["w3:80"], "labels": {"tier": "cold"}}]',
    "sd/db.yml": "- targets: ['d1:5432']\n  labels:\n    tier: hot\n    team: data\n",
}


def write_sd_files(directory: Path) -> None:
    for name, text in SD_FILES.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)


@pytest.fixture(scope="module")
def prometheus_targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    need_prometheus()
    tmp = tmp_path_factory.mktemp("prom")
    write_sd_files(tmp)  # file_sd paths are relative to the config's directory
    with real_prometheus(tmp, CONFIG) as server:
        port = int(server.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        data: dict[str, object] = {}
        while time.monotonic() < deadline:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5)
                data = resp.json()["data"]
                if len(data["activeTargets"]) == 8 and len(data["droppedTargets"]) == 3:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"Prometheus did not list the targets in time: {data}")
        yield {**data, "_port": port, "_dir": tmp}


def ours(directory: Path) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    cfg = load_config(CONFIG, directory=directory)
    active: list[dict[str, object]] = []
    dropped: list[dict[str, str]] = []
    for sc in cfg.scrape_configs:
        groups = list(sc.static_configs)
        for sd_config in sc.file_sd_configs:
            sd = FileSD(sd_config)
            sd.poll()
            groups += sd.groups()
        targets, drops, failures = build_targets(sc, groups)
        assert failures == []
        active += [
            {
                "discoveredLabels": dict(t.discovered_labels),
                "labels": dict(t.labels),
                "scrapeUrl": t.url,
                "scrapePool": t.scrape_pool,
            }
            for t in targets
        ]
        dropped += [dict(d.discovered_labels) for d in drops]
    return active, dropped


def key(entry: dict[str, object]) -> str:
    return str(entry["scrapeUrl"])


def test_active_targets_match_prometheus(prometheus_targets: dict[str, object]) -> None:
    theirs = prometheus_targets["activeTargets"]
    assert isinstance(theirs, list)
    mine, _ = ours(Path(str(prometheus_targets["_dir"])))
    theirs_view = sorted(
        (
            {k: t[k] for k in ("discoveredLabels", "labels", "scrapeUrl", "scrapePool")}
            for t in theirs
        ),
        key=key,
    )
    assert sorted(mine, key=key) == theirs_view


def test_dropped_targets_match_prometheus(prometheus_targets: dict[str, object]) -> None:
    theirs = prometheus_targets["droppedTargets"]
    assert isinstance(theirs, list)
    _, mine = ours(Path(str(prometheus_targets["_dir"])))
    assert sorted(mine, key=str) == sorted((t["discoveredLabels"] for t in theirs), key=str)


def test_config_defaults_match_prometheus(prometheus_targets: dict[str, object]) -> None:
    """Prometheus serves its loaded config with every default filled in; ours must agree."""
    port = prometheus_targets["_port"]
    resp = httpx.get(f"http://127.0.0.1:{port}/api/v1/status/config", timeout=5)
    theirs = yaml.safe_load(resp.json()["data"]["yaml"])
    cfg = load_config(CONFIG, directory=Path(str(prometheus_targets["_dir"])))
    g = theirs["global"]
    assert parse_duration_ms(g["scrape_interval"]) == cfg.global_config.scrape_interval_ms
    assert parse_duration_ms(g["scrape_timeout"]) == cfg.global_config.scrape_timeout_ms
    assert parse_duration_ms(g["evaluation_interval"]) == cfg.global_config.evaluation_interval_ms
    for job in theirs["scrape_configs"]:
        sc = cfg.scrape_config(job["job_name"])
        assert sc is not None
        assert parse_duration_ms(job["scrape_interval"]) == sc.scrape_interval_ms
        assert parse_duration_ms(job["scrape_timeout"]) == sc.scrape_timeout_ms
        assert job["metrics_path"] == sc.metrics_path
        assert job["scheme"] == sc.scheme
        assert job["honor_timestamps"] == sc.honor_timestamps
        assert job.get("honor_labels", False) == sc.honor_labels
        assert job["follow_redirects"] == sc.follow_redirects
        for mine, their in zip(sc.relabel_configs, job.get("relabel_configs", []), strict=True):
            assert their["action"] == mine.action
            assert their["separator"] == mine.separator
            assert their["replacement"] == mine.replacement
            assert their["regex"] == mine.regex
