"""The error events' insert: one flush of ``ErrorBatch``es into ``error_events``.

Every event becomes one row: the columns issue pages filter and count by, and the whole event
as JSON (``_codec``) for its page.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from spyglass.core.error_events import ErrorBatch
from spyglass.storage._backend import Backend
from spyglass.storage.errors import _codec
from spyglass.storage.schema import ERROR_EVENTS

_MAP = pa.map_(pa.string(), pa.string())
_NS = pa.timestamp("ns")
# DateTime64(9) ends in 2262; the errors domain moves implausible times to the time received,
# this only keeps a bad row from failing every retry of a flush.
MAX_NS = 2**63 - 1


class ErrorsInserter:
    """Inserts chunks of error batches on ``backend``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, batches: list[ErrorBatch]) -> int:
        """Insert ``batches``; returns the events stored. Raises if the insert fails."""
        events = ErrorBatch.concat(batches).events
        n = len(events)
        if not n:
            return 0
        table = pa.table(
            {
                "Timestamp": pa.array(
                    np.fromiter((_clip(e.timestamp_ns) for e in events), np.int64, n), _NS
                ),
                "ReceivedTimestamp": pa.array(
                    np.fromiter((_clip(e.received_ns) for e in events), np.int64, n), _NS
                ),
                "ProjectId": pa.array(
                    np.fromiter((e.project_id for e in events), np.uint64, n), pa.uint64()
                ),
                "EventId": _strings([e.event_id for e in events]),
                "IssueKey": _strings([e.issue_key for e in events]),
                "Level": _strings([e.level for e in events]),
                "Platform": _strings([e.platform for e in events]),
                "Release": _strings([e.release for e in events]),
                "Environment": _strings([e.environment for e in events]),
                "Transaction": _strings([e.transaction for e in events]),
                "Message": _strings([e.message for e in events]),
                "UserId": _strings([e.user_id for e in events]),
                "UserKey": _strings([e.user_key for e in events]),
                "TraceId": _strings([e.trace_id for e in events]),
                "SpanId": _strings([e.span_id for e in events]),
                "Tags": _maps([list(e.tags.items()) for e in events]),
                # ASCII JSON: escapes keep lone surrogates, which a UTF-8 column could not hold.
                "Event": pa.array([_codec.dumps(e) for e in events], pa.string()),
            }
        )
        self.backend.insert(ERROR_EVENTS, table)
        return n


def _clip(ns: int) -> int:
    return min(max(ns, 0), MAX_NS)


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _strings(values: list[str]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowException, UnicodeError):
        # Lone surrogates would fail every retry and block later flushes: store replacements
        # (the Event column keeps the exact text, escaped).
        return pa.array([_clean(v) for v in values], pa.string())


def _maps(values: list[list[tuple[str, str]]]) -> pa.Array:
    try:
        return pa.array(values, _MAP)
    except (pa.ArrowException, UnicodeError):
        return pa.array([[(_clean(k), _clean(v)) for k, v in m] for m in values], _MAP)


__all__ = ["ErrorsInserter"]
