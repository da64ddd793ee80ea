"""Target building like Prometheus: discovered labels, relabeling, instance, URL, dropped."""

from __future__ import annotations

import contextlib
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.config import ScrapeConfig, TargetGroup, load_config
from spyglass.core.errors import BadInput
from spyglass.ingest import scrape as scrape_pkg
from spyglass.ingest.scrape import build_targets, parse_target_file
from spyglass.ingest.scrape._target import offset_ms


def job(extra: str = "") -> ScrapeConfig:
    return load_config(
        "scrape_configs:\n  - job_name: node\n    scrape_interval: 30s\n"
        + textwrap.indent(textwrap.dedent(extra), "    ")
    ).scrape_configs[0]


def group(*targets: str, **labels: str) -> TargetGroup:
    return TargetGroup(targets, tuple(sorted(labels.items())), "test")


def test_public_names() -> None:
    assert set(scrape_pkg.__all__) == {
        "REPORT_NAMES",
        "USER_AGENT",
        "DroppedTarget",
        "FileSD",
        "HTTPClientSettings",
        "OAuth2Token",
        "ScrapeFailed",
        "ScrapeLoop",
        "ScrapeManager",
        "ScrapeResult",
        "Target",
        "accept_header",
        "auth_headers",
        "build_targets",
        "make_client",
        "parse_target_file",
        "populate",
    }


def test_discovered_and_final_labels() -> None:
    (t,), dropped, failures = build_targets(job(), [group("host:9100", rack="r1")])
    assert (dropped, failures) == ([], [])
    assert dict(t.discovered_labels) == {
        "__address__": "host:9100",
        "__metrics_path__": "/metrics",
        "__scheme__": "http",
        "__scrape_interval__": "30s",
        "__scrape_timeout__": "10s",
        "job": "node",
        "rack": "r1",
    }
    assert t.labels == (("instance", "host:9100"), ("job", "node"), ("rack", "r1"))
    assert t.url == "http://host:9100/metrics"
    assert (t.interval_ms, t.timeout_ms) == (30_000, 10_000)


def test_relabeling_can_rewrite_address_path_scheme_interval_and_params() -> None:
    sc = job("""\
        params:
          module: [icmp]
        relabel_configs:
          - source_labels: [__address__]
            target_label: __param_target
          - target_label: __address__
            replacement: blackbox:9115
          - target_label: __metrics_path__
            replacement: /probe
          - target_label: __scheme__
            replacement: https
          - target_label: __scrape_interval__
            replacement: 1m
          - source_labels: [__param_target]
            target_label: instance
        """)
    (t,), _, _ = build_targets(sc, [group("example.com")])
    assert t.url == "https://blackbox:9115/probe?module=icmp&target=example.com"
    assert dict(t.labels) == {"instance": "example.com", "job": "node"}
    assert t.interval_ms == 60_000


def test_dropped_targets_keep_discovered_labels() -> None:
    sc = job("""\
        relabel_configs:
          - source_labels: [env]
            regex: prod
            action: keep
        """)
    active, dropped, _ = build_targets(sc, [group("a:1", env="prod"), group("b:1", env="dev")])
    assert [t.url for t in active] == ["http://a:1/metrics"]
    (d,) = dropped
    assert dict(d.discovered_labels)["__address__"] == "b:1"
    assert d.scrape_pool == "node"


@pytest.mark.parametrize(
    ("relabel", "failure"),
    [
        ("  - target_label: __address__\n    replacement: ''\n", "no address"),
        (
            "  - target_label: __scrape_timeout__\n    replacement: 1h\n",
            "scrape timeout cannot be greater than scrape interval",
        ),
        (
            "  - target_label: __scrape_interval__\n    replacement: soon\n",
            "error parsing scrape interval",
        ),
    ],
)
def test_unusable_targets_are_reported_not_scraped(relabel: str, failure: str) -> None:
    active, dropped, failures = build_targets(job("relabel_configs:\n" + relabel), [group("a:1")])
    assert (active, dropped) == ([], [])
    assert failure in failures[0]


def test_meta_labels_are_removed_and_instance_can_be_set() -> None:
    sc = job("""\
        relabel_configs:
          - source_labels: [__meta_hostname]
            target_label: instance
        """)
    (t,), _, _ = build_targets(sc, [group("10.0.0.1:9100", __meta_hostname="web-1")])
    assert dict(t.labels) == {"instance": "web-1", "job": "node"}
    assert "__meta_hostname" not in dict(t.internal_labels)


def test_duplicate_targets_are_scraped_once() -> None:
    active, _, _ = build_targets(job(), [group("a:1"), group("a:1")])
    assert len(active) == 1


def test_offsets_fall_inside_the_interval_and_keep_their_phase() -> None:
    (t,), _, _ = build_targets(job(), [group("a:1")])
    for now in (0, 1, 12_345, 29_999, 1_700_000_000_123):
        delay = offset_ms(t, 30_000, now)
        assert 0 <= delay <= 30_000
        assert (now + delay) % 30_000 == offset_ms(t, 30_000, 0) % 30_000


def test_file_sd_json_and_yaml() -> None:
    js = b'[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}, {"targets": ["c:3"]}]'
    groups = parse_target_file(js, "/etc/sd/web.json")
    assert [g.targets for g in groups] == [("a:1", "b:2"), ("c:3",)]
    assert dict(groups[0].labels) == {"env": "prod", "__meta_filepath": "/etc/sd/web.json"}
    yml = b"- targets: ['x:1']\n  labels:\n    team: core\n"
    (g,) = parse_target_file(yml, "/etc/sd/x.yml")
    assert dict(g.labels)["team"] == "core"
    assert parse_target_file(b"", "/empty.yml") == []


@pytest.mark.parametrize(
    "data",
    [
        b"{}",
        b'[{"targets": "a:1"}]',
        b'[{"targets": ["a"], "labels": {"x": 1}}]',
        b'[{"hosts": ["a"]}]',
        b"[1]",
        b"not json",
    ],
)
def test_file_sd_rejects_malformed_files(data: bytes) -> None:
    with pytest.raises(BadInput):
        parse_target_file(data, "/sd/t.json")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["t.json", "t.yml"]))
def test_file_sd_arbitrary_bytes_only_raise_bad_input(data: bytes, name: str) -> None:
    with contextlib.suppress(BadInput):
        parse_target_file(data, name)
