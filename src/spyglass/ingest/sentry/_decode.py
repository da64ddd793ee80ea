"""Request bodies of Sentry's ingest endpoints to ``ErrorBatch``es.

``decode_envelope`` reads ``/api/<project>/envelope/`` bodies (the format every current SDK
sends) and ``decode_store`` the older ``/api/<project>/store/`` ones (one event as JSON). Only
``event`` items become error events; the other item types an SDK sends alongside (sessions,
client reports, transactions, attachments, ...) are counted in ``Decoded.skipped`` so the
endpoint can accept them without storing them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from spyglass.core.error_events import ErrorBatch
from spyglass.core.errors import LimitExceeded
from spyglass.ingest.sentry._envelope import parse_envelope
from spyglass.ingest.sentry._event import event_from_json, parse_event_json

MAX_EVENT_BYTES = 1024 * 1024  # Sentry's own cap on one event's JSON


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one request held: its error events, the envelope's event id, the items skipped."""

    batch: ErrorBatch
    event_id: str = ""
    dsn: str = ""
    skipped: Counter[str] = field(default_factory=Counter)


def decode_envelope(
    body: bytes, *, project_id: int, received_ns: int, max_event_bytes: int = MAX_EVENT_BYTES
) -> Decoded:
    """The error events of an envelope; ``BadInput`` for a malformed envelope or event."""
    envelope = parse_envelope(body)
    header_id = envelope.headers.get("event_id")
    event_id = header_id.replace("-", "").lower() if isinstance(header_id, str) else ""
    events = []
    skipped: Counter[str] = Counter()
    for item in envelope.items:
        if item.type != "event":
            skipped[item.type] += 1
            continue
        _check_size(len(item.payload), max_event_bytes)
        data = parse_event_json(item.payload)
        event = event_from_json(
            data, project_id=project_id, received_ns=received_ns, event_id=event_id
        )
        events.append(event)
        event_id = event_id or event.event_id
    dsn = envelope.headers.get("dsn")
    dsn_text = dsn if isinstance(dsn, str) else ""
    return Decoded(ErrorBatch(tuple(events)), event_id, dsn_text, skipped)


def decode_store(
    body: bytes, *, project_id: int, received_ns: int, max_event_bytes: int = MAX_EVENT_BYTES
) -> Decoded:
    """The one error event of a store request's JSON body."""
    _check_size(len(body), max_event_bytes)
    event = event_from_json(parse_event_json(body), project_id=project_id, received_ns=received_ns)
    return Decoded(ErrorBatch((event,)), event.event_id)


def _check_size(size: int, limit: int) -> None:
    if limit and size > limit:
        raise LimitExceeded("max_event_bytes", limit, f"event is larger than {limit} bytes")


__all__ = ["MAX_EVENT_BYTES", "Decoded", "decode_envelope", "decode_store"]
