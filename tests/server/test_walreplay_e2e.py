"""``/api/v1/status/walreplay`` after a real ``kill -9``: the restarted server reports the
segments it replayed and, in runtimeinfo, how many samples came back."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
from tests.support.servers import free_port, spyglass, stop

from spyglass.ingest.remote_write import encode_write_request

RW_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def _data(url: str, path: str) -> dict[str, object]:
    body = httpx.get(url + path, timeout=30).json()
    assert body["status"] == "success", body
    data: dict[str, object] = body["data"]
    return data


def test_walreplay_reports_what_an_unclean_stop_left(tmp_path: Path) -> None:
    port = free_port()
    now = int(time.time()) * 1000
    with spyglass(tmp_path / "data", "--flush-interval", "1h", port=port) as sg:
        # A clean start has nothing to replay.
        assert _data(sg.url, "/api/v1/status/walreplay") == {"min": 0, "max": 0, "current": 0}
        series = [
            ((("__name__", "replayed"), ("i", str(i))), [(now - 1000, float(i))]) for i in range(50)
        ]
        r = httpx.post(
            sg.url + "/api/v1/write", content=encode_write_request(series), headers=RW_HEADERS
        )
        assert r.status_code == 204
        stop(sg, signal.SIGKILL)  # nothing flushed: everything is in the WAL only
    segments = sorted(int(p.stem) for p in (tmp_path / "data" / "wal" / "metrics").glob("*.seg"))
    assert segments
    with spyglass(tmp_path / "data", port=port) as sg:
        replay = _data(sg.url, "/api/v1/status/walreplay")
        assert replay == {"min": segments[0], "max": segments[-1], "current": segments[-1]}
        info = _data(sg.url, "/api/v1/status/runtimeinfo")
        storage = info["spyglass"]["storage"]  # type: ignore[index]
        assert storage["replayedSamples"] == 50
        result = _data(sg.url, "/api/v1/query?query=count(replayed)")["result"]
        assert result[0]["value"][1] == "50"  # type: ignore[index]
