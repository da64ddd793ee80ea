"""Loki's query API over MemoryLogStore: Loki's JSON shapes, its time and duration formats, its
validation messages as plain-text 400s, Grafana's "Save & test" query and the requests logcli
makes, in process through an ASGI client and on a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from tests.support.am_proxy import serve_app

from spyglass.core.labels import labels_of
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.server.api.loki import LokiAPI, parse_duration_ns, parse_time_ns
from spyglass.storage import LogSelection, MemoryLogStore
from spyglass.storage.backends import ChdbBackend
from spyglass.storage.logs import LogStore

S = 10**9
T0 = 1_700_000_000 * S  # 2023-11-14T22:13:20Z
API = labels_of({"service_name": "api", "env": "prod"})
DB = labels_of({"service_name": "db", "env": "prod"})


def _line(level: str, status: int, path: str, ms: int) -> str:
    return json.dumps({"level": level, "status": status, "path": path, "duration_ms": ms})


@pytest.fixture
def store() -> MemoryLogStore:
    s = MemoryLogStore()
    s.load(
        [
            LogRecord(T0 + 10 * S, _line("info", 200, "/users", 12), API),
            LogRecord(T0 + 20 * S, _line("error", 500, "/orders", 340), API),
            LogRecord(T0 + 30 * S, _line("info", 200, "/users", 8), API),
            LogRecord(T0 + 40 * S, _line("warn", 429, "/orders", 3), API),
            LogRecord(T0 + 25 * S, "checkpoint complete", DB),
        ]
    )
    return s


@pytest.fixture
def client(store: MemoryLogStore) -> TestClient:
    return TestClient(Starlette(routes=LokiAPI(store).routes()))


def _range(client: TestClient, **params: object) -> httpx.Response:
    return client.get("/loki/api/v1/query_range", params=params)


def test_log_query_returns_streams_newest_first_with_stats(client: TestClient) -> None:
    r = _range(client, query='{service_name="api"} |= "orders"', start=T0, end=T0 + 60 * S)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success"
    data = body["data"]
    assert data["resultType"] == "streams"
    [stream] = data["result"]
    assert stream["stream"] == {"service_name": "api", "env": "prod"}
    assert [v[0] for v in stream["values"]] == [str(T0 + 40 * S), str(T0 + 20 * S)]
    assert data["stats"]["summary"]["totalEntriesReturned"] == 2
    assert data["stats"]["summary"]["totalLinesProcessed"] == 2  # the filter ran in the store
    r = _range(client, query='{env="prod"} | json | level="info"', start=T0, end=T0 + 60 * S)
    summary = r.json()["data"]["stats"]["summary"]
    assert (summary["totalLinesProcessed"], summary["totalPostFilterLines"]) == (5, 2)


def test_forward_direction_limit_and_parsed_labels(client: TestClient) -> None:
    r = _range(
        client,
        query='{env="prod"} | json | level!="info"',
        start=T0,
        end=T0 + 60 * S,
        direction="FORWARD",  # logcli sends the enum name
        limit=1,
    )
    [stream] = r.json()["data"]["result"]
    assert stream["stream"]["level"] == "error"
    assert stream["stream"]["status"] == "500"
    assert len(stream["values"]) == 1


def test_end_is_exclusive_for_log_queries(client: TestClient) -> None:
    r = _range(client, query='{service_name="api"}', start=T0 + 20 * S, end=T0 + 40 * S)
    [stream] = r.json()["data"]["result"]
    assert [v[0] for v in stream["values"]] == [str(T0 + 30 * S), str(T0 + 20 * S)]


def test_metric_range_query_is_a_matrix_of_string_values(client: TestClient) -> None:
    r = _range(
        client,
        query='sum by (level) (count_over_time({service_name="api"} | json [1m]))',
        start=T0 + 60 * S,
        end=T0 + 120 * S,
        step="60s",
    )
    data = r.json()["data"]
    assert data["resultType"] == "matrix"
    got = {s["metric"]["level"]: s["values"] for s in data["result"]}
    assert got == {
        "error": [[1_700_000_060, "1"]],
        "info": [[1_700_000_060, "2"]],
        "warn": [[1_700_000_060, "1"]],
    }


def test_grafana_save_and_test_query(client: TestClient) -> None:
    """Grafana's Loki data source health check runs vector(1)+vector(1) and expects 2."""
    r = client.get("/loki/api/v1/query", params={"query": "vector(1)+vector(1)", "time": T0})
    data = r.json()["data"]
    assert data["resultType"] == "vector"
    assert data["result"] == [{"metric": {}, "value": [1_700_000_000, "2"]}]


def test_instant_rate_and_scalar(client: TestClient) -> None:
    r = client.post(
        "/loki/api/v1/query",
        data={"query": 'rate({service_name="api"} |= "error" [1m])', "time": "1700000060"},
    )
    [sample] = r.json()["data"]["result"]
    assert sample["metric"] == {"service_name": "api", "env": "prod"}
    assert sample["value"] == [1_700_000_060, str(1 / 60)]
    r = client.get("/loki/api/v1/query", params={"query": "1 + 1", "time": "1700000000.5"})
    assert r.json()["data"] == {
        "resultType": "scalar",
        "result": [1_700_000_000.5, "2"],
        "stats": r.json()["data"]["stats"],
    }


def test_errors_are_plain_text_400s_in_lokis_words(client: TestClient) -> None:
    r = client.get("/loki/api/v1/query_range", params={"query": "{app=}"})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == "parse error at line 1, col 6: syntax error: unexpected }, expecting STRING"
    r = client.get("/loki/api/v1/query", params={"query": '{app="a"}'})
    assert r.status_code == 400
    assert r.text.startswith("log queries are not supported as an instant query type")
    cases = {
        "limit=0": "limit must be a positive value",
        "limit=6000": "max entries limit per query exceeded, limit > max_entries_limit "
        "(6000 > 5000)",
        "start=20&end=10": "end timestamp must not be before or equal to start time",
        "step=0": "zero or negative query resolution step widths are not accepted. "
        "Try a positive integer",
        "start=0&end=100000&step=1": "exceeded maximum resolution of 11,000 points per "
        "time series. Try increasing the value of the step parameter",
        "direction=sideways": "invalid direction 'sideways'",
        "start=yesterday": 'strconv.ParseInt: parsing "yesterday": invalid syntax',
    }
    for extra, message in cases.items():
        r = client.get(f"/loki/api/v1/query_range?query=count_over_time({{a=%22b%22}}[1m])&{extra}")
        assert (r.status_code, r.text) == (400, message), extra


def test_pipeline_errors_reach_the_client(client: TestClient) -> None:
    r = _range(client, query='count_over_time({env="prod"} | json [1m])', start=T0, end=T0 + 60 * S)
    assert r.status_code == 400
    assert "pipeline error: 'JSONParserErr'" in r.text


def test_time_formats() -> None:
    """Loki's formats: ns, seconds up to 10 digits, float seconds (ms kept), RFC 3339."""
    assert parse_time_ns("1700000000") == T0
    assert parse_time_ns(str(T0)) == T0
    assert parse_time_ns("1700000000.123456") == T0 + 123_000_000
    assert parse_time_ns("2023-11-14T22:13:20Z") == T0
    assert parse_time_ns("2023-11-14T23:13:20.5+01:00") == T0 + 500_000_000
    assert parse_duration_ns("90") == 90 * S
    assert parse_duration_ns("1.5") == 1_500_000_000
    assert parse_duration_ns("1h30m") == 5400 * S


def test_since_sets_start_back_from_end(client: TestClient) -> None:
    r = _range(client, query='{service_name="api"}', end=T0 + 41 * S, since="15s")
    [stream] = r.json()["data"]["result"]
    assert [v[0] for v in stream["values"]] == [str(T0 + 40 * S), str(T0 + 30 * S)]


def test_metadata_endpoints(client: TestClient) -> None:
    window = {"start": T0, "end": T0 + 60 * S}
    assert client.get("/loki/api/v1/labels", params=window).json() == {
        "status": "success",
        "data": ["env", "service_name"],
    }
    r = client.get("/loki/api/v1/label/service_name/values", params=window)
    assert r.json()["data"] == ["api", "db"]
    r = client.get(
        "/loki/api/v1/label/service_name/values", params={**window, "query": '{env="prod"}'}
    )
    assert r.json()["data"] == ["api", "db"]
    r = client.get("/loki/api/v1/series", params={**window, "match[]": '{service_name="db"}'})
    assert r.json()["data"] == [{"env": "prod", "service_name": "db"}]
    # logcli sends "match" rather than "match[]".
    r = client.get("/loki/api/v1/series", params={**window, "match": '{service_name=~".+"}'})
    assert len(r.json()["data"]) == 2
    assert client.get("/loki/api/v1/label", params=window).json()["data"] == [
        "env",
        "service_name",
    ]
    # The default window is the last six hours, so old data is not listed.
    assert client.get("/loki/api/v1/labels").json()["data"] == []


def test_index_stats_and_volume(client: TestClient, store: MemoryLogStore) -> None:
    window = {"start": T0, "end": T0 + 60 * S}
    r = client.get("/loki/api/v1/index/stats", params={**window, "query": '{env="prod"}'})
    lines = [rec.line for rec in store.select_logs(LogSelection((), T0, T0 + 60 * S))]
    assert r.json() == {
        "streams": 2,
        "chunks": 2,
        "entries": 5,
        "bytes": sum(len(line.encode()) for line in lines),
    }
    r = client.get("/loki/api/v1/index/volume", params={**window, "query": '{service_name=~".+"}'})
    data = r.json()["data"]
    assert data["resultType"] == "vector"
    assert [s["metric"] for s in data["result"]] == [
        {"service_name": "api"},
        {"service_name": "db"},
    ]


def test_index_stats_and_volume_on_clickhouse_count_what_the_lines_say(tmp_path: Path) -> None:
    """On the ClickHouse store, where the lines are counted in SQL rather than read, stats and
    volume equal the in-memory store's over the same records: flushed and pending ones, a
    record pushed twice (one record, as in Loki), multi-byte lines (bytes are UTF-8), the
    range's start included and its end left out."""
    web = labels_of({"service_name": "web", "env": "prod"})
    records = [
        LogRecord(T0 + 5 * S, "GET /é 200", API),  # 11 bytes
        LogRecord(T0 + 10 * S, "before the end", API),
        LogRecord(T0 + 20 * S, "at the end: left out", API),
        LogRecord(T0 + 12 * S, "✓ ok", web),  # 6 bytes
        LogRecord(T0 + 4 * S, "before the start", web),
    ]
    pending = [LogRecord(T0 + 15 * S, "pending", web), records[0]]  # records[0] again
    memory = MemoryLogStore()  # keeps what it is given: the copy is left out
    memory.load([*records, pending[0]])
    backend = ChdbBackend(tmp_path / "chdb")
    store = LogStore(backend, tmp_path, retention_ms=10 * 365 * 86_400_000,
                     flush_interval_ms=3_600_000)  # fmt: skip
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(store.start())
        loop.run_until_complete(store.append(LogBatch.of(records)))
        store.flush_now()
        loop.run_until_complete(store.append(LogBatch.of(pending)))
        window = {"start": T0 + 5 * S, "end": T0 + 20 * S}
        answers = []
        for reader in (memory, store):
            client = TestClient(Starlette(routes=LokiAPI(reader).routes()))
            query = {**window, "query": '{env="prod"}'}
            stats = client.get("/loki/api/v1/index/stats", params=query)
            by_service = {**query, "targetLabels": "service_name"}
            volume = client.get("/loki/api/v1/index/volume", params=by_service)
            answers.append((stats.json(), volume.json()["data"]["result"]))
        assert answers[1] == answers[0]
        assert answers[1][0] == {"streams": 2, "chunks": 2, "entries": 4, "bytes": 11 + 14 + 6 + 7}
        assert [(v["metric"], v["value"][1]) for v in answers[1][1]] == [
            ({"service_name": "api"}, "25"),
            ({"service_name": "web"}, "13"),
        ]
    finally:
        loop.run_until_complete(store.close())
        loop.close()
        backend.close()


def test_format_query_and_buildinfo(client: TestClient) -> None:
    r = client.get("/loki/api/v1/format_query", params={"query": '{a="b"}|="x"|json'})
    assert r.json() == {"status": "success", "data": '{a="b"} |= "x" | json'}
    info = client.get("/loki/api/v1/status/buildinfo").json()
    assert info["version"].startswith("3.")


def test_logcli_requests_on_a_real_server(store: MemoryLogStore) -> None:
    """The exact requests logcli makes (GET, ns times, upper-case direction, float step),
    against a real uvicorn on loopback."""
    app = Starlette(routes=LokiAPI(store).routes())
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        headers = {"User-Agent": "loki-logcli/3.4.0", "X-Scope-OrgID": "fake"}
        r = http.get(
            "/loki/api/v1/query_range",
            params={
                "query": '{service_name="api"} |= "users"',
                "limit": "30",
                "start": str(T0),
                "end": str(T0 + 3600 * S),
                "direction": "BACKWARD",
            },
            headers=headers,
        )
        assert r.status_code == 200
        assert [v[1] for v in r.json()["data"]["result"][0]["values"]] == [
            _line("info", 200, "/users", 8),
            _line("info", 200, "/users", 12),
        ]
        r = http.get(
            "/loki/api/v1/query_range",
            params={
                "query": 'sum(count_over_time({env="prod"}[1h]))',
                "limit": "30",
                "start": str(T0 + 3600 * S),
                "end": str(T0 + 3600 * S),
                "direction": "BACKWARD",
                "step": "60.000000",
            },
            headers=headers,
        )
        assert r.json()["data"]["result"] == [{"metric": {}, "values": [[1_700_003_600, "5"]]}]
        r = http.get(
            "/loki/api/v1/query",
            params={
                "query": 'count_over_time({env="prod"}[1h])',
                "limit": "30",
                "time": str(T0 + 3600 * S),
                "direction": "BACKWARD",
            },
            headers=headers,
        )
        assert sorted(s["value"][1] for s in r.json()["data"]["result"]) == ["1", "4"]
        params = {"start": str(T0), "end": str(T0 + 3600 * S)}
        assert http.get("/loki/api/v1/labels", params=params).json()["data"] == [
            "env",
            "service_name",
        ]
        r = http.get("/loki/api/v1/label/env/values", params=params)
        assert r.json()["data"] == ["prod"]
        r = http.get("/loki/api/v1/series", params={**params, "match": '{service_name="api"}'})
        assert r.json()["data"] == [{"env": "prod", "service_name": "api"}]
        r = http.get("/loki/api/v1/query_range", params={"query": "sum(", **params})
        assert r.status_code == 400
        assert r.text.startswith("parse error at line 1, col 5: syntax error")


def test_tail_sends_the_recent_lines_then_each_new_one_once() -> None:
    """``logcli query --tail`` and Grafana's live view: the lines since ``start`` first, then
    every line as it arrives, never one twice, over the websocket."""
    tail_store = MemoryLogStore()
    now = time.time_ns()
    app = Starlette(routes=LokiAPI(tail_store, tail_poll_s=0.05).routes())
    stream = labels_of({"service_name": "api"})
    tail_store.load(
        [
            LogRecord(now - 3 * 10**9, "old error", stream),
            LogRecord(now - 2 * 10**9, "old info", stream),
            LogRecord(now - 10**9, "old error again", labels_of({"service_name": "db"})),
        ]
    )
    query = '{service_name=~"api|db"} |= "error"'
    with TestClient(app).websocket_connect(
        f"/loki/api/v1/tail?query={query}&start={now - 60 * 10**9}"
    ) as ws:
        first = ws.receive_json()
        lines = sorted(v[1] for s in first["streams"] for v in s["values"])
        assert lines == ["old error", "old error again"]
        tail_store.load(
            [
                LogRecord(time.time_ns(), "new error", stream),
                LogRecord(time.time_ns(), "new info", stream),
            ]
        )
        second = ws.receive_json()
        assert second == {
            "streams": [
                {
                    "stream": {"service_name": "api"},
                    "values": [[second["streams"][0]["values"][0][0], "new error"]],
                }
            ]
        }


def test_tail_refuses_metric_queries_with_a_reason() -> None:
    app = Starlette(routes=LokiAPI(MemoryLogStore()).routes())
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        TestClient(app).websocket_connect(
            '/loki/api/v1/tail?query=count_over_time({a="b"}[1m])'
        ) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
    assert "log queries" in closed.value.reason


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ("delay_for=abc", 'strconv.Atoi: parsing "abc": invalid syntax'),
        ("delay_for=1.5", 'strconv.Atoi: parsing "1.5": invalid syntax'),
        ("delay_for=6", "delay_for can't be greater than 5"),
        ("limit=x", 'invalid limit "x": strconv.Atoi: parsing "x": invalid syntax'),
    ],
)
def test_tail_parameters_that_do_not_parse_close_with_lokis_reason(
    params: str, reason: str
) -> None:
    """A bad ``delay_for`` closes the socket with the reason (1008), as a bad query does; it
    was an unhandled error that dropped the connection without one."""
    app = Starlette(routes=LokiAPI(MemoryLogStore()).routes())
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        TestClient(app).websocket_connect(f'/loki/api/v1/tail?query={{a="b"}}&{params}') as ws,
    ):
        ws.receive_json()
    assert (closed.value.code, closed.value.reason) == (1008, reason)
