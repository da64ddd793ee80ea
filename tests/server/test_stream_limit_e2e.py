"""``--logs-max-streams`` on a real ``spyglass serve`` over loopback: a flood of new streams
through Loki's push API is cut at the limit with Loki's 429 and message, a push to an existing
stream still goes through, ``/metrics`` counts the refused lines, and after ``kill -9`` and a
restart (the WAL replayed), and again after a clean stop (the streams then in the store's
index), the streams still count against the limit."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
from tests.server.test_logs_ingest_e2e import promtail_body
from tests.support.servers import spyglass, stop

LIMIT = 100
MESSAGE = (
    'Maximum active stream limit exceeded when trying to create stream {{flood="{i}", '
    'job="app"}}, reduce the number of active streams (reduce labels or reduce label '
    "values), or contact your Loki administrator to see if the limit can be increased, "
    "user: 'fake'"
)


def _flood(first: int, count: int) -> dict[str, object]:
    now = time.time_ns()
    return {
        "streams": [
            {"stream": {"job": "app", "flood": str(i)}, "values": [[str(now + i), f"line {i}"]]}
            for i in range(first, first + count)
        ]
    }


def _series(url: str) -> int:
    r = httpx.get(url + "/loki/api/v1/series", params={"match[]": '{job="app"}'})
    r.raise_for_status()
    return len(r.json()["data"])


def test_a_flood_of_new_streams_is_cut_at_the_limit_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    args = ("--logs-max-streams", str(LIMIT), "--flush-interval", "1h")
    with spyglass(data, *args) as sg:
        r = httpx.post(sg.url + "/loki/api/v1/push", json=_flood(0, 3 * LIMIT))
        assert r.status_code == 429
        assert r.text.strip() == MESSAGE.format(i=LIMIT)
        # A push to an existing stream, here as Promtail sends it, is still taken.
        now = time.time_ns()
        r = httpx.post(
            sg.url + "/loki/api/v1/push",
            content=promtail_body('{flood="0", job="app"}', [(now, "again")]),
            headers={"content-type": "application/x-protobuf"},
        )
        assert r.status_code == 204, r.text
        assert _series(sg.url) == LIMIT
        metrics = httpx.get(sg.url + "/metrics").text
        assert (
            f'spyglass_logs_refused_lines_total{{reason="stream_limit"}} {2.0 * LIMIT}' in metrics
        )
        assert f"spyglass_logs_active_streams {float(LIMIT)}" in metrics
        # Nothing flushed yet (--flush-interval 1h): the restart must find them in the WAL.
        stop(sg, signal.SIGKILL)
    with spyglass(data, *args) as sg:
        r = httpx.post(sg.url + "/loki/api/v1/push", json=_flood(3 * LIMIT, 1))
        assert r.status_code == 429
        assert r.text.strip() == MESSAGE.format(i=3 * LIMIT)
        r = httpx.post(sg.url + "/loki/api/v1/push", json=_flood(LIMIT - 1, 1))
        assert r.status_code == 204, r.text
        assert _series(sg.url) == LIMIT
        stop(sg)  # a clean stop stores everything: the next start reads the stream index
    with spyglass(data, *args) as sg:
        r = httpx.post(sg.url + "/loki/api/v1/push", json=_flood(3 * LIMIT + 1, 1))
        assert r.status_code == 429
        assert r.text.strip() == MESSAGE.format(i=3 * LIMIT + 1)
        assert httpx.post(sg.url + "/loki/api/v1/push", json=_flood(0, 1)).status_code == 204
        stop(sg)
