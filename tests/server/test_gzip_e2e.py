"""Responses gzipped for clients that accept it, on a real ``spyglass serve``: a trace's
Jaeger JSON and page come compressed and decode to what an identity request gets; small
answers, clients that do not ask, and the pre-compressed static bundle are left alone; Loki's
tail websocket still streams lines."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from tests.support.servers import Server, spyglass
from tests.support.trace_data import CHECKOUT, send
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with spyglass(tmp_path_factory.mktemp("gzip") / "data") as s:
        send(s.url)
        yield s


def _raw(url: str, encoding: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent, not decoded."""
    with httpx.stream("GET", url, headers={"Accept-Encoding": encoding}, timeout=30) as r:
        return r, b"".join(r.iter_raw())


@pytest.mark.parametrize("path", [f"/api/traces/{CHECKOUT}", f"/traces/{CHECKOUT}"])
def test_a_trace_comes_gzipped_to_a_client_that_accepts_it(server: Server, path: str) -> None:
    plain, plain_body = _raw(server.url + path, "identity")
    zipped, zipped_body = _raw(server.url + path, "gzip, deflate")
    assert plain.status_code == zipped.status_code == 200
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert int(zipped.headers["content-length"]) == len(zipped_body) < len(plain_body)
    unzipped = gzip.decompress(zipped_body)
    if path.startswith("/api/"):
        assert json.loads(unzipped) == json.loads(plain_body)
    else:
        # The page's nonce differs from one answer to the next; the rest is the same.
        nonce = re.compile(rb'name="csp-nonce" content="[^"]*"')
        assert nonce.sub(b"", unzipped) == nonce.sub(b"", plain_body)
        # Its security headers survive the compression.
        assert "script-src 'self'" in zipped.headers["content-security-policy"]


def test_small_answers_and_compressed_assets_are_left_alone(server: Server) -> None:
    services, body = _raw(server.url + "/api/services", "gzip")
    assert "content-encoding" not in services.headers
    assert json.loads(body)["data"] == ["payments", "shop-api"]
    page = httpx.get(f"{server.url}/traces/{CHECKOUT}", timeout=30).text
    script = re.search(r'src="(/static/waterfall-[^"]+\.js)"', page)
    assert script is not None
    asset, asset_body = _raw(server.url + script.group(1), "gzip")
    # Stored gzipped and sent as is: one layer of gzip, not two.
    assert asset.headers["content-encoding"] == "gzip"
    assert b"wf-span" in gzip.decompress(asset_body)


def test_lokis_tail_websocket_still_streams(server: Server) -> None:
    ws_url = server.url.replace("http://", "ws://")
    query = quote('{service_name="tailed"}')
    with connect(f"{ws_url}/loki/api/v1/tail?query={query}", open_timeout=30) as ws:
        now = time.time_ns()
        stream = {"stream": {"service_name": "tailed"}, "values": [[str(now), "line " * 300]]}
        r = httpx.post(server.url + "/loki/api/v1/push", json={"streams": [stream]}, timeout=30)
        assert r.status_code == 204
        frame = json.loads(ws.recv(timeout=30))
    assert frame["streams"][0]["values"][0][1] == "line " * 300


def test_the_json_download_is_a_smaller_file(server: Server, tmp_path: Path) -> None:
    """What the trace page's Jaeger JSON link saves, through a client that decodes gzip."""
    r = httpx.get(f"{server.url}/api/traces/{CHECKOUT}", timeout=30)
    assert r.headers["content-encoding"] == "gzip"
    assert r.num_bytes_downloaded < len(r.content)
    (tmp_path / "trace.json").write_bytes(r.content)
    assert json.loads((tmp_path / "trace.json").read_text())["data"][0]["traceID"] == CHECKOUT
