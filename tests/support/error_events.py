"""Error events made to order for the errors tests."""

from __future__ import annotations

import time
from typing import Any

from spyglass.core.error_events import ErrorEvent, Exception_, Frame

# Two days ago, on the hour: recent enough that the default retention's TTL keeps the rows.
BASE_NS = (time.time_ns() // 3_600_000_000_000 - 48) * 3_600_000_000_000


def event(n: int, **fields: Any) -> ErrorEvent:
    """Event ``n``: id ``n`` as 32 hex digits, ``n`` seconds after ``BASE_NS``, a
    ``ValueError`` raised in ``app.handler``, issue key ``"a" * 32``; ``fields`` override."""
    values: dict[str, Any] = {
        "project_id": 1,
        "event_id": f"{n:032x}",
        "timestamp_ns": BASE_NS + n * 10**9,
        "received_ns": BASE_NS + n * 10**9,
        "release": "1.0",
        "environment": "production",
        "exceptions": (
            Exception_(
                "ValueError",
                f"bad value {n}",
                frames=(Frame("handler", "app", "app.py", lineno=10, in_app=True),),
            ),
        ),
        "user_id": "u1",
        "issue_key": "a" * 32,
        "payload": {"event_id": f"{n:032x}", "breadcrumbs": {"values": [{"message": "hi"}]}},
    }
    values.update(fields)
    return ErrorEvent(**values)


__all__ = ["BASE_NS", "event"]
