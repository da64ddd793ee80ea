"""Pushing batches to a Loki push endpoint, as Promtail's client does.

A batch is sent as a snappy-compressed protobuf ``PushRequest`` (``Content-Type:
application/x-protobuf``) with the tenant in ``X-Scope-OrgID``. A 2xx is an acknowledgement. A
429, a 5xx or no answer at all is retried with exponential backoff (``min_period`` doubling up to
``max_period``, at most ``max_retries`` times; a 429 is dropped at once with
``drop_rate_limited_batches``); any other 4xx means the server will never take the batch, so it
is dropped and counted, as Promtail does. A retry wait ends early when the agent stops: the
batch is then neither acknowledged nor dropped, and its lines are read again after a restart.
"""

from __future__ import annotations

import asyncio
import enum
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import cramjam
import httpx

from spyglass.agent._config import ClientConfig
from spyglass.agent._entry import Entry
from spyglass.core.version import __version__
from spyglass.ingest.loki import PushRequest, format_stream_labels

USER_AGENT = f"spyglass-agent/{__version__}"


class Outcome(enum.Enum):
    """What became of a batch."""

    SENT = "sent"
    DROPPED = "dropped"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Result:
    """A batch's outcome, the last HTTP status (0: none) and why it was dropped."""

    outcome: Outcome
    status: int = 0
    reason: str = ""


def encode_push(entries: Iterable[Entry], external_labels: dict[str, str]) -> bytes:
    """Entries as a snappy-compressed ``PushRequest``, one stream per label set (the client's
    ``external_labels`` added), entries in the order given."""
    req = PushRequest()
    # The protobuf messages are built at run time (ingest.loki): typed as Any.
    streams: dict[tuple[tuple[str, str], ...], Any] = {}
    for e in entries:
        labels = {**e.labels, **external_labels} if external_labels else e.labels
        key = tuple(sorted((k, v) for k, v in labels.items() if v))
        stream = streams.get(key)
        if stream is None:
            stream = req.streams.add()
            stream.labels = format_stream_labels(key).encode()
            streams[key] = stream
        pb = stream.entries.add()
        pb.timestamp.seconds, pb.timestamp.nanos = divmod(e.ts_ns, 1_000_000_000)
        pb.line = e.line.encode()
        for name, value in e.metadata.items():
            pair = pb.structuredMetadata.add()
            pair.name = name.encode()
            pair.value = value.encode()
    return bytes(cramjam.snappy.compress_raw(req.SerializeToString()))


class PushClient:
    """Sends batches to one ``clients`` entry."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        observe: Callable[[str, int, float], None] | None = None,
    ) -> None:
        self.config = config
        self.observe = observe
        headers = {
            **config.headers,
            "Content-Type": "application/x-protobuf",
            "User-Agent": USER_AGENT,
        }
        if config.tenant_id:
            headers["X-Scope-OrgID"] = config.tenant_id
        if config.bearer_token:
            headers["Authorization"] = f"Bearer {config.bearer_token}"
        verify: ssl.SSLContext | bool = True
        if config.url.startswith("https://"):
            ctx = ssl.create_default_context(cafile=config.ca_file or None)
            if config.cert_file:
                ctx.load_cert_chain(config.cert_file, config.key_file or None)
            if config.insecure_skip_verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            verify = ctx
        self.http = httpx.AsyncClient(
            headers=headers,
            auth=config.basic_auth,
            timeout=config.timeout_ms / 1000,
            verify=verify,
            transport=transport,
        )
        self.host = httpx.URL(config.url).host

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def push(self, entries: list[Entry], stopping: asyncio.Event) -> Result:
        """Send ``entries``, retrying as configured until acknowledged, dropped or stopped."""
        body = encode_push(entries, self.config.external_labels)
        backoff = self.config.min_backoff_ms / 1000
        attempt = 0
        status = 0
        while True:
            started = time.monotonic()
            try:
                response = await self.http.post(self.config.url, content=body)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            if self.observe is not None:
                self.observe(self.host, status, time.monotonic() - started)
            if 200 <= status < 300:
                return Result(Outcome.SENT, status)
            if 400 <= status < 500 and status != 429:
                return Result(Outcome.DROPPED, status, "4xx")
            if status == 429 and self.config.drop_rate_limited_batches:
                return Result(Outcome.DROPPED, status, "rate_limited")
            attempt += 1
            if attempt > self.config.max_retries:
                return Result(Outcome.DROPPED, status, "max_retries")
            if stopping.is_set():
                return Result(Outcome.ABORTED, status)
            try:
                await asyncio.wait_for(stopping.wait(), backoff)
                return Result(Outcome.ABORTED, status)
            except TimeoutError:
                pass
            backoff = min(backoff * 2, self.config.max_backoff_ms / 1000)


__all__ = ["USER_AGENT", "Outcome", "PushClient", "Result", "encode_push"]
