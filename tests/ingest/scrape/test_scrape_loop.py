"""One scrape, end to end but in process: httpx's MockTransport plays the target."""

from __future__ import annotations

import asyncio
import base64
import math
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.config import ScrapeConfig, load_config
from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels, labels_of
from spyglass.core.samples import SampleBatch, is_stale
from spyglass.ingest.exposition import parse
from spyglass.ingest.scrape import REPORT_NAMES, ScrapeLoop, ScrapeResult, build_targets
from spyglass.ingest.scrape._http import accept_header, timeout_header
from spyglass.storage.memory import MemoryStore

PAGE = """\
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} 10
http_requests_total{method="post",code="500"} 2
# TYPE temperature gauge
temperature 21.5
"""


class Target:
    """A scripted target: each request gets the next page (or status) in line."""

    def __init__(self, pages: list[str | int], content_type: str = "text/plain; version=0.0.4"):
        self.pages = pages
        self.content_type = content_type
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        page = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
        if isinstance(page, int):
            return httpx.Response(page, text="oops")
        return httpx.Response(200, text=page, headers={"content-type": self.content_type})


def job(extra: str = "", job_name: str = "app") -> ScrapeConfig:
    text = f"""\
scrape_configs:
  - job_name: {job_name}
    scrape_interval: 10s
    static_configs:
      - targets: ['app:8080']
        labels:
          env: prod
""" + textwrap.indent(textwrap.dedent(extra), "    ")
    return load_config(text).scrape_configs[0]


def make_loop(
    sc: ScrapeConfig, handler: Callable[[httpx.Request], httpx.Response], sink: MemoryStore
) -> ScrapeLoop:
    targets, _, _ = build_targets(sc, sc.static_configs)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ScrapeLoop(targets[0], sc, client, sink, parse)


def scrape(loop: ScrapeLoop) -> ScrapeResult:
    return asyncio.run(loop.scrape_once())


def by_name(batch: SampleBatch) -> dict[str, list[tuple[Labels, float]]]:
    out: dict[str, list[tuple[Labels, float]]] = {}
    for fp, value in zip(batch.fingerprints, batch.values, strict=True):
        labels = batch.series[int(fp)]
        out.setdefault(dict(labels)["__name__"], []).append((labels, float(value)))
    return out


def test_samples_get_target_labels_and_synthetic_series() -> None:
    store = MemoryStore()
    result = scrape(make_loop(job(), Target([PAGE]), store))
    assert result.error == ""
    got = by_name(result.batch)
    assert got["temperature"] == [
        (
            (
                ("__name__", "temperature"),
                ("env", "prod"),
                ("instance", "app:8080"),
                ("job", "app"),
            ),
            21.5,
        )
    ]
    assert len(got["http_requests_total"]) == 2
    target = (("env", "prod"), ("instance", "app:8080"), ("job", "app"))
    for name in REPORT_NAMES:
        ((labels, _),) = got[name]
        assert labels == tuple(sorted((("__name__", name), *target)))
    assert got["up"][0][1] == 1.0
    assert got["scrape_samples_scraped"][0][1] == 3.0
    assert got["scrape_samples_post_metric_relabeling"][0][1] == 3.0
    assert got["scrape_series_added"][0][1] == 3.0
    assert got["scrape_duration_seconds"][0][1] >= 0.0
    assert result.batch.metadata["http_requests_total"].type == "counter"
    assert len(set(result.batch.timestamps.tolist())) == 1  # all at the scrape's start time
    assert store.metadata("temperature")["temperature"][0].type == "gauge"


def test_request_headers_and_url() -> None:
    target = Target([PAGE])
    sc = job("""\
        metrics_path: /custom/metrics
        params:
          module: [http_2xx]
          debug: ['1']
        scrape_timeout: 2500ms
        """)
    scrape(make_loop(sc, target, MemoryStore()))
    (req,) = target.requests
    assert str(req.url) == "http://app:8080/custom/metrics?debug=1&module=http_2xx"
    assert req.headers["accept"] == accept_header(sc.scrape_protocols)
    assert req.headers["accept"].startswith("application/openmetrics-text;version=1.0.0")
    assert req.headers["x-prometheus-scrape-timeout-seconds"] == "2.5"
    assert timeout_header(10_000) == "10"


def test_prometheus_default_accept_header() -> None:
    assert accept_header(
        (
            "OpenMetricsText1.0.0",
            "OpenMetricsText0.0.1",
            "PrometheusText1.0.0",
            "PrometheusText0.0.4",
        )
    ) == (
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
        "application/openmetrics-text;version=0.0.1;q=0.5,"
        "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
        "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
    )


def test_honor_labels_false_renames_conflicts_to_exported() -> None:
    page = 'm{job="from-app",instance="i1",exported_job="x",other="o"} 1\n'
    got = by_name(scrape(make_loop(job(), Target([page]), MemoryStore())).batch)
    ((labels, _),) = got["m"]
    assert dict(labels) == {
        "__name__": "m",
        "job": "app",
        "instance": "app:8080",
        "env": "prod",
        "exported_job": "x",
        "exported_exported_job": "from-app",
        "exported_instance": "i1",
        "other": "o",
    }


def test_honor_labels_true_keeps_scraped_values() -> None:
    page = 'm{job="from-app",instance="i1"} 1\n'
    got = by_name(
        scrape(make_loop(job("honor_labels: true\n"), Target([page]), MemoryStore())).batch
    )
    ((labels, _),) = got["m"]
    assert dict(labels) == {"__name__": "m", "job": "from-app", "instance": "i1", "env": "prod"}


def test_metric_relabel_configs_apply_after_target_labels() -> None:
    sc = job("""\
        metric_relabel_configs:
          - source_labels: [__name__]
            regex: http_requests_total
            action: drop
          - source_labels: [env]
            target_label: stage
          - regex: env
            action: labeldrop
        """)
    result = scrape(make_loop(sc, Target([PAGE]), MemoryStore()))
    got = by_name(result.batch)
    assert "http_requests_total" not in got
    ((labels, _),) = got["temperature"]
    assert dict(labels)["stage"] == "prod"
    assert "env" not in dict(labels)
    assert got["scrape_samples_scraped"][0][1] == 3.0
    assert got["scrape_samples_post_metric_relabeling"][0][1] == 1.0


def test_vanished_series_get_staleness_markers() -> None:
    store = MemoryStore()
    loop = make_loop(job(), Target([PAGE, "temperature 22\n"]), store)
    scrape(loop)
    second = scrape(loop)
    got = by_name(second.batch)
    stale = [labels for labels, v in got["http_requests_total"] if is_stale(v)]
    assert len(stale) == 2
    assert got["temperature"][0][1] == 22.0
    assert got["scrape_series_added"][0][1] == 0.0


def test_samples_with_timestamps_are_not_staleness_tracked() -> None:
    loop = make_loop(job(), Target(["a 1 1700000000000\nb 2\n", "c 3\n"]), MemoryStore())
    first = scrape(loop)
    ts = {
        dict(first.batch.series[int(fp)])["__name__"]: int(t)
        for fp, t in zip(first.batch.fingerprints, first.batch.timestamps, strict=True)
    }
    assert ts["a"] == 1_700_000_000_000
    got = by_name(scrape(loop).batch)
    assert "a" not in got  # no marker for the explicitly timestamped series
    assert is_stale(got["b"][0][1])


def test_honor_timestamps_false_uses_scrape_time() -> None:
    result = scrape(
        make_loop(job("honor_timestamps: false\n"), Target(["a 1 1000\n"]), MemoryStore())
    )
    assert int(result.batch.timestamps[0]) > 1_600_000_000_000


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([500], "server returned HTTP status 500 Internal Server Error"),
        (["this is { not a page\n"], ""),
    ],
)
def test_failed_scrape_reports_down_and_stales_previous_series(
    pages: list[str | int], message: str
) -> None:
    loop = make_loop(job(), Target([PAGE, *pages]), MemoryStore())
    scrape(loop)
    failed = scrape(loop)
    assert failed.error
    assert message in failed.error
    got = by_name(failed.batch)
    assert got["up"][0][1] == 0.0
    assert all(is_stale(v) for _, v in got["http_requests_total"] + got["temperature"])
    assert not any(is_stale(v) for name in REPORT_NAMES for _, v in got[name])
    assert loop.state.health == "down"
    assert loop.state.last_error == failed.error
    # the next failure has nothing left to mark stale
    assert set(by_name(scrape(loop).batch)) == set(REPORT_NAMES)


def test_sample_limit_fails_the_scrape() -> None:
    loop = make_loop(job("sample_limit: 2\n"), Target([PAGE]), MemoryStore())
    result = scrape(loop)
    assert result.error == "sample limit exceeded"
    got = by_name(result.batch)
    assert set(got) == set(REPORT_NAMES)
    assert got["up"][0][1] == 0.0
    assert got["scrape_samples_scraped"][0][1] == 3.0


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("label_limit: 4\n", "label_limit exceeded"),
        ("label_name_length_limit: 5\n", "label_name_length_limit exceeded"),
        ("label_value_length_limit: 3\n", "label_value_length_limit exceeded"),
    ],
)
def test_label_limits_fail_the_scrape(extra: str, fragment: str) -> None:
    result = scrape(make_loop(job(extra), Target([PAGE]), MemoryStore()))
    assert fragment in result.error
    assert by_name(result.batch)["up"][0][1] == 0.0


def test_body_size_limit_fails_the_scrape() -> None:
    result = scrape(make_loop(job("body_size_limit: 100B\n"), Target([PAGE]), MemoryStore()))
    assert "body size limit exceeded" in result.error


def test_timeout_is_a_deadline_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    result = scrape(make_loop(job(), slow, MemoryStore()))
    assert result.error == 'Get "http://app:8080/metrics": context deadline exceeded'


def test_openmetrics_created_series_are_not_ingested() -> None:
    page = (
        "# TYPE c counter\nc_total 3\nc_created 1700000000.5\n# TYPE g gauge\ng_created 7\n# EOF\n"
    )
    target = Target([page], "application/openmetrics-text; version=1.0.0; charset=utf-8")
    got = by_name(scrape(make_loop(job(), target, MemoryStore())).batch)
    assert "c_created" not in got
    assert got["g_created"][0][1] == 7.0  # a gauge that merely ends in _created stays
    assert got["scrape_samples_scraped"][0][1] == 2.0


def test_basic_auth_and_bearer_headers(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    target = Target([PAGE])
    sc = job(f"basic_auth:\n  username: prom\n  password_file: {tmp_path / 'pw'}\n")
    scrape(make_loop(sc, target, MemoryStore()))
    expected = base64.b64encode(b"prom:s3cret").decode()
    assert target.requests[0].headers["authorization"] == f"Basic {expected}"

    target = Target([PAGE])
    scrape(make_loop(job("bearer_token: tok\n"), target, MemoryStore()))
    assert target.requests[0].headers["authorization"] == "Bearer tok"

    target = Target([PAGE])
    scrape(
        make_loop(job("authorization:\n  type: Token\n  credentials: abc\n"), target, MemoryStore())
    )
    assert target.requests[0].headers["authorization"] == "Token abc"


def test_missing_credentials_file_fails_the_scrape(tmp_path: Path) -> None:
    sc = job(f"bearer_token_file: {tmp_path / 'missing'}\n")
    result = scrape(make_loop(sc, Target([PAGE]), MemoryStore()))
    assert "unable to read authorization credentials file" in result.error


def test_api_view_uses_prometheus_field_names() -> None:
    loop = make_loop(job(), Target([PAGE]), MemoryStore())
    before = loop.api_dict("http://host:8080/metrics")
    assert before["health"] == "unknown"
    assert before["lastScrape"] == "0001-01-01T00:00:00Z"
    scrape(loop)
    view = loop.api_dict("http://host:8080/metrics")
    assert set(view) == {
        "discoveredLabels",
        "labels",
        "scrapePool",
        "scrapeUrl",
        "globalUrl",
        "lastError",
        "lastScrape",
        "lastScrapeDuration",
        "health",
        "scrapeInterval",
        "scrapeTimeout",
    }
    assert view["health"] == "up"
    assert view["scrapeInterval"] == "10s"
    assert view["scrapeTimeout"] == "10s"
    assert view["labels"] == {"env": "prod", "instance": "app:8080", "job": "app"}
    assert view["discoveredLabels"] == {
        "__address__": "app:8080",
        "__metrics_path__": "/metrics",
        "__scheme__": "http",
        "__scrape_interval__": "10s",
        "__scrape_timeout__": "10s",
        "env": "prod",
        "job": "app",
    }
    assert str(view["lastScrape"]).endswith("Z")
    assert isinstance(view["lastScrapeDuration"], float)
    assert not math.isnan(view["lastScrapeDuration"])


def test_end_of_run_marks_everything_stale() -> None:
    loop = make_loop(job(), Target([PAGE]), MemoryStore())
    scrape(loop)
    batch = loop.end_of_run_batch(123)
    got = by_name(batch)
    assert set(got) == {"http_requests_total", "temperature", *REPORT_NAMES}
    assert all(is_stale(v) for rows in got.values() for _, v in rows)
    assert set(batch.timestamps.tolist()) == {123}


@pytest.mark.parametrize(
    ("content_type", "extra", "error"),
    [
        (
            "",
            "",
            "non-compliant scrape target sending blank Content-Type and no "
            "fallback_scrape_protocol specified for target",
        ),
        (
            "application/json",
            "",
            'received unsupported Content-Type "application/json" and no '
            "fallback_scrape_protocol specified for target",
        ),
        ("garbage", "", 'cannot parse Content-Type "garbage"'),
        ("", "fallback_scrape_protocol: PrometheusText0.0.4\n", ""),
        ("application/json", "fallback_scrape_protocol: PrometheusText0.0.4\n", ""),
        ("text/plain; charset=utf-8", "", ""),
    ],
)
def test_content_type_rules_of_prometheus_3(content_type: str, extra: str, error: str) -> None:
    result = scrape(make_loop(job(extra), Target([PAGE], content_type), MemoryStore()))
    assert error in result.error
    assert bool(result.error) == bool(error)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300),
    st.sampled_from(["text/plain; version=0.0.4", "application/openmetrics-text; version=1.0.0"]),
)
def test_any_page_is_a_scrape_result_never_an_exception(body: bytes, content_type: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    result = scrape(make_loop(job(), handler, MemoryStore()))
    got = by_name(result.batch)
    assert got["up"][-1][1] == (0.0 if result.error else 1.0)  # synthetic up comes last


def test_oauth2_client_credentials_token_is_fetched_once_and_sent() -> None:
    token_calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            token_calls.append(request)
            return httpx.Response(
                200, json={"access_token": "T1", "token_type": "bearer", "expires_in": 3600}
            )
        if request.headers.get("authorization") != "Bearer T1":
            return httpx.Response(401)
        return httpx.Response(200, text=PAGE, headers={"content-type": "text/plain"})

    sc = job("""\
        oauth2:
          client_id: cid
          client_secret: s e/c
          token_url: http://auth:1/token
          scopes: [read, metrics]
          endpoint_params:
            audience: prom
        """)
    loop = make_loop(sc, handler, MemoryStore())
    assert scrape(loop).error == ""
    assert scrape(loop).error == ""
    (call,) = token_calls
    form = dict(httpx.QueryParams(call.content.decode()))
    assert form == {"grant_type": "client_credentials", "scope": "read metrics", "audience": "prom"}
    assert call.headers["authorization"] == "Basic " + base64.b64encode(b"cid:s+e%2Fc").decode()


def test_oauth2_token_failure_fails_the_scrape() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401)

    sc = job("oauth2:\n  client_id: cid\n  token_url: http://auth:1/token\n")
    result = scrape(make_loop(sc, handler, MemoryStore()))
    assert result.error == "oauth2: cannot fetch token: 401 Unauthorized"


def test_http_headers_from_values_and_files(tmp_path: Path) -> None:
    (tmp_path / "tenant").write_text("tenant-7\n")
    target = Target([PAGE])
    sc = job(f"""\
        http_headers:
          X-Static:
            values: [a, b]
          X-Tenant:
            files: [{tmp_path / "tenant"}]
        """)
    assert scrape(make_loop(sc, target, MemoryStore())).error == ""
    headers = target.requests[0].headers
    assert headers["x-static"] == "a, b"
    assert headers["x-tenant"] == "tenant-7"


def test_utf8_names_are_scraped_by_default_and_refused_in_legacy_mode() -> None:
    page = '{"my.metric", "service.name"="api"} 1\n'
    ok = scrape(make_loop(job(), Target([page]), MemoryStore()))
    assert ok.error == ""
    assert ("service.name", "api") in by_name(ok.batch)["my.metric"][0][0]

    target = Target([page])
    legacy = scrape(
        make_loop(job("metric_name_validation_scheme: legacy\n"), target, MemoryStore())
    )
    assert legacy.error.startswith("invalid metric name or label names")
    assert "escaping=underscores" in target.requests[0].headers["accept"]


def test_openmetrics_exemplars_go_to_the_exemplar_sink_on_the_relabeled_series() -> None:
    class Sink:
        def __init__(self) -> None:
            self.got: list[Exemplar] = []

        async def append_exemplars(self, exemplars: Sequence[Exemplar]) -> None:
            self.got += exemplars

    page = (
        "# TYPE latency histogram\n"
        'latency_bucket{le="0.5"} 3 # {trace_id="abc"} 0.31 1700000000.5\n'
        'latency_bucket{le="+Inf"} 4 # {trace_id="def",span_id="12"} 0.9\n'
        "latency_count 4\nlatency_sum 1.7\n# EOF\n"
    )
    sc = job("metric_relabel_configs: [{target_label: team, replacement: pay}]")
    targets, _, _ = build_targets(sc, sc.static_configs)
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(
            Target([page], "application/openmetrics-text; version=1.0.0; charset=utf-8")
        )
    )
    sink = Sink()
    loop = ScrapeLoop(targets[0], sc, client, MemoryStore(), parse, exemplars=sink)
    result = scrape(loop)
    assert result.error == ""
    base = {"env": "prod", "instance": "app:8080", "job": "app", "team": "pay"}
    scrape_ms = result.batch.timestamps.max()
    assert sink.got == [
        Exemplar(
            labels_of({**base, "__name__": "latency_bucket", "le": "0.5"}),
            (("trace_id", "abc"),),
            0.31,
            1_700_000_000_500,
        ),
        Exemplar(
            labels_of({**base, "__name__": "latency_bucket", "le": "+Inf"}),
            (("span_id", "12"), ("trace_id", "def")),
            0.9,
            int(scrape_ms),  # no timestamp of its own: the sample's
        ),
    ]
