"""LogQL end to end on a real ``spyglass serve``: lines pushed as Promtail and Grafana's Loki
data source would push and ask them come back through Loki's query API, from the records still
in the write buffer and again after they are flushed to ClickHouse."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tests.support.servers import spyglass


def _push(url: str, now: int) -> None:
    lines = [
        ('{"level":"error","status":500,"route":"/orders","user_id":"u1"}', "api"),
        ('{"level":"info","status":200,"route":"/orders","user_id":"u2"}', "api"),
        ('{"level":"error","status":503,"route":"/login","user_id":"u1"}', "api"),
        ("plain worker line with error inside", "worker"),
    ]
    streams = [
        {
            "stream": {"service_name": service, "env": "prod"},
            "values": [[str(now - (len(lines) - i) * 1_000_000_000), line]],
        }
        for i, (line, service) in enumerate(lines)
    ]
    r = httpx.post(url + "/loki/api/v1/push", json={"streams": streams})
    assert r.status_code == 204, r.text


def _ask(url: str, now: int) -> dict[str, object]:
    start, end = str(now - 3_600_000_000_000), str(now + 1_000_000_000)
    logs = httpx.get(
        url + "/loki/api/v1/query_range",
        params={
            "query": '{service_name="api"} |= "error" | json | status >= 500',
            "start": start,
            "end": end,
            "direction": "forward",
            "limit": "100",
        },
    ).json()
    rate = httpx.get(
        url + "/loki/api/v1/query",
        params={
            "query": 'sum by (route) (count_over_time({env="prod"} | json | level="error" [1h]))',
            "time": end,
        },
    ).json()
    labels = httpx.get(url + "/loki/api/v1/labels", params={"start": start, "end": end}).json()
    values = httpx.get(
        url + "/loki/api/v1/label/service_name/values", params={"start": start, "end": end}
    ).json()
    return {"logs": logs, "rate": rate, "labels": labels, "values": values}


def test_logql_over_loki_push_before_and_after_flush(tmp_path: Path) -> None:
    now = time.time_ns()
    with spyglass(tmp_path / "data", "--flush-interval", "1h") as sg:
        _push(sg.url, now)
        before = _ask(sg.url, now)
    with spyglass(tmp_path / "data") as sg:  # replayed from the WAL, then flushed on stop
        after_replay = _ask(sg.url, now)
    with spyglass(tmp_path / "data") as sg:
        flushed = _ask(sg.url, now)
    for answer in (before, after_replay, flushed):
        logs = answer["logs"]
        assert logs["status"] == "success", logs  # type: ignore[index]
        data = logs["data"]  # type: ignore[index]
        assert data["resultType"] == "streams"
        lines = [line for s in data["result"] for _, line in s["values"]]
        assert lines == [
            '{"level":"error","status":500,"route":"/orders","user_id":"u1"}',
            '{"level":"error","status":503,"route":"/login","user_id":"u1"}',
        ]
        assert {s["stream"]["status"] for s in data["result"]} == {"500", "503"}
        rate = answer["rate"]["data"]  # type: ignore[index]
        assert rate["resultType"] == "vector"
        counts = {r["metric"].get("route", ""): r["value"][1] for r in rate["result"]}
        assert counts == {"/orders": "1", "/login": "1"}
        assert {"env", "service_name"} <= set(answer["labels"]["data"])  # type: ignore[index]
        assert answer["values"]["data"] == ["api", "worker"]  # type: ignore[index]
