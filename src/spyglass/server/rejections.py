"""Server-log lines for writes that were refused (4xx) or failed (5xx), rate-limited.

``spyglass_ingest_requests_total{outcome}`` counts refused writes; only the log can say who sent
them and why, which is what someone debugging a broken sender needs. A sender that keeps sending
the same bad batch must not flood the log, so each protocol gets at most one line per
``interval_s`` for refusals (warning) and one for failures (error); the next line it gets says how
many were left out in between.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_INTERVAL_S = 10.0
# Reasons quote what the client sent (label names, content types); keep a line a line.
_MAX_REASON = 500


@dataclass
class RejectionLog:
    """Writes one line per refused or failed write to ``logger``, within the rate limit."""

    logger: logging.Logger
    interval_s: float = DEFAULT_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    _last: dict[tuple[str, int], float] = field(default_factory=dict, init=False, repr=False)
    _left_out: dict[tuple[str, int], int] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def refused(self, protocol: str, client: str, status: str, reason: str) -> None:
        """A write the client got wrong (bad data, too large, unsupported): a warning."""
        self._line(
            logging.WARNING, protocol, "refused", f"{client} refused with {status}: {reason}"
        )

    def failed(
        self,
        protocol: str,
        client: str,
        status: str,
        reason: str,
        exc: BaseException | None = None,
    ) -> None:
        """A write we could not take (storage down, a bug): an error, with ``exc``'s traceback
        when given."""
        self._line(
            logging.ERROR, protocol, "failed", f"{client} failed with {status}: {reason}", exc
        )

    def _line(
        self, level: int, protocol: str, what: str, text: str, exc: BaseException | None = None
    ) -> None:
        key = (protocol, level)
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                self._left_out[key] = self._left_out.get(key, 0) + 1
                return
            self._last[key] = now
            left_out = self._left_out.pop(key, 0)
        more = f" ({left_out} more {what} since the previous line, not logged)" if left_out else ""
        self.logger.log(level, "%s write from %s%s", protocol, _one_line(text), more, exc_info=exc)


def _one_line(text: str) -> str:
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:_MAX_REASON])
    return shown + ("..." if len(text) > _MAX_REASON else "")


__all__ = ["DEFAULT_INTERVAL_S", "RejectionLog"]
