"""The stream-limit component: seeds the active log streams at start-up and exposes their count.

Every log push path shares one ``ActiveStreams`` (``ingest.active_streams``). Started right
after storage (which has replayed the logs WAL into its pending buffer by then), this component
fills it with the streams the store holds a line stamped within the last hour, so a restart
does not reset ``--logs-max-streams``; ``/metrics`` gets the number of active streams and the
lines refused by the limit (``spyglass_logs_refused_lines_total{reason="stream_limit"}``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from spyglass.core.stats import StatField, StatsCollector
from spyglass.ingest.active_streams import STREAM_LIMIT, ActiveStreams
from spyglass.storage.ports import LogReader

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    active: int
    refused_lines: int


_ACTIVE = StatField(
    "active",
    "spyglass_logs_active_streams",
    "gauge",
    "Log streams that received a line within the last hour (what --logs-max-streams bounds; "
    "0 when it is 0: no limit, nothing counted).",
)
_REFUSED = StatField(
    "refused_lines",
    "spyglass_logs_refused_lines",
    "counter",
    "Log lines refused, by reason (stream_limit: their stream would have been new past "
    "--logs-max-streams).",
)


class LogStreamLimit:
    """A component around the shared ``ActiveStreams``."""

    name = "log-streams"

    def __init__(self, streams: ActiveStreams, reader: LogReader) -> None:
        self.streams = streams
        self.reader = reader

    async def start(self) -> None:
        """Seed the registry with the streams of the last hour."""
        now = self.streams.clock()
        since = now - self.streams.window_ns
        known = await run_in_threadpool(self.reader.log_streams, [], since, now + 1)
        # The store knows a stream's hour, not its last line: count it active from now on,
        # so a stream seen late in the last hour is not forgotten early.
        self.streams.seed(known, now)
        if known:
            log.info("log streams: %d active in the last hour", len(known))

    async def stop(self) -> None:
        """Nothing to stop."""

    def routes(self) -> Sequence[BaseRoute]:
        """No routes of its own."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """The active streams, and the lines refused by the limit."""
        return [
            StatsCollector(lambda: _Snapshot(len(self.streams), 0), [_ACTIVE]),
            StatsCollector(
                lambda: {STREAM_LIMIT: _Snapshot(0, self.streams.refused_lines)},
                [_REFUSED],
                label="reason",
            ),
        ]


__all__ = ["LogStreamLimit"]
