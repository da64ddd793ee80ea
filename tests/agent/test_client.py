"""The push client speaks Promtail's wire format (snappy protobuf, tenant header, auth), retries
429/5xx/no answer with doubling backoff, drops other 4xx at once, and gives up waiting when the
agent stops."""

from __future__ import annotations

import asyncio

import httpx
from hypothesis import given
from hypothesis import strategies as st

from spyglass.agent import Entry, Outcome, PushClient, encode_push
from spyglass.agent._config import ClientConfig
from spyglass.core.limits import LogLimits
from spyglass.ingest.loki import decode_push


def _entries() -> list[Entry]:
    return [
        Entry(
            "first",
            1_700_000_000_000_000_001,
            {"job": "a", "filename": "/f"},
            metadata={"trace_id": "t1"},
        ),
        Entry("second", 1_700_000_000_000_000_002, {"job": "b"}),
        Entry("third", 1_700_000_000_000_000_003, {"job": "a", "filename": "/f"}),
    ]


def test_the_body_decodes_with_spyglass_loki_decoder() -> None:
    body = encode_push(_entries(), {"host": "h1"})
    got = decode_push(body, "application/x-protobuf", "", LogLimits(), 1_700_000_000_000_000_000)
    records = sorted((r.stream, r.line, r.timestamp_ns, dict(r.metadata)) for r in got.batch)
    assert records == [
        (
            (("filename", "/f"), ("host", "h1"), ("job", "a")),
            "first",
            1_700_000_000_000_000_001,
            {"trace_id": "t1"},
        ),
        (
            (("filename", "/f"), ("host", "h1"), ("job", "a")),
            "third",
            1_700_000_000_000_000_003,
            {},
        ),
        ((("host", "h1"), ("job", "b")), "second", 1_700_000_000_000_000_002, {}),
    ]


_LINES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=50)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), _LINES), min_size=1, max_size=10))
def test_any_entries_round_trip_through_the_loki_decoder(items: list[tuple[str, str]]) -> None:
    entries = [Entry(line, 10**18 + i, {"job": job}) for i, (job, line) in enumerate(items)]
    got = decode_push(encode_push(entries, {}), "application/x-protobuf", "", LogLimits(), 10**18)
    assert sorted((r.timestamp_ns, r.line) for r in got.batch) == [
        (e.ts_ns, e.line) for e in entries
    ]


def _client(handler, **kw: object) -> PushClient:
    cfg = ClientConfig(
        "http://loki.test/loki/api/v1/push", min_backoff_ms=1, max_backoff_ms=4, **kw
    )  # type: ignore[arg-type]
    return PushClient(cfg, transport=httpx.MockTransport(handler))


def test_headers_and_retry_until_acknowledged() -> None:
    seen: list[httpx.Request] = []
    answers = [503, 429, 0, 204]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = answers[len(seen) - 1]
        if status == 0:
            raise httpx.ConnectError("refused")
        return httpx.Response(status)

    async def go() -> None:
        client = _client(handler, tenant_id="t", basic_auth=("u", "p"))
        result = await client.push(_entries(), asyncio.Event())
        await client.close()
        assert result.outcome is Outcome.SENT

    asyncio.run(go())
    assert len(seen) == 4
    r = seen[0]
    assert r.headers["content-type"] == "application/x-protobuf"
    assert r.headers["x-scope-orgid"] == "t"
    assert r.headers["authorization"].startswith("Basic ")
    assert r.headers["user-agent"].startswith("spyglass-agent/")


def test_a_4xx_is_dropped_at_once_and_retries_end() -> None:
    calls = {"n": 0}

    def bad(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(400, text="entry out of order")

    def down(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(500)

    async def go() -> None:
        result = await _client(bad).push(_entries(), asyncio.Event())
        assert (result.outcome, result.status, result.reason) == (Outcome.DROPPED, 400, "4xx")
        assert calls["n"] == 1
        calls["n"] = 0
        result = await _client(down, max_retries=2).push(_entries(), asyncio.Event())
        assert (result.outcome, result.reason) == (Outcome.DROPPED, "max_retries")
        assert calls["n"] == 3
        calls["n"] = 0
        stopping = asyncio.Event()
        stopping.set()
        result = await _client(down).push(_entries(), stopping)
        assert result.outcome is Outcome.ABORTED
        assert calls["n"] == 1

    asyncio.run(go())
