"""Hands the router's alerts to the incident service, off the router's path.

The router calls its listeners inline while it stores alerts; an incident decision reads and
writes the state store, so the watcher queues each alert and a worker thread decides, in
order. Stopping drains what is queued first, so no alert that arrived is left undecided.
"""

from __future__ import annotations

import logging
import queue
import threading

from spyglass.core.alerts import Alert
from spyglass.incidents._service import IncidentService

log = logging.getLogger("spyglass.incidents")


class AlertWatcher:
    """A queue and a worker thread in front of ``IncidentService.observe``."""

    def __init__(self, service: IncidentService) -> None:
        self.service = service
        self._queue: queue.Queue[tuple[Alert, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, alert: Alert, fingerprint: str) -> None:
        """Queue an alert the router stored."""
        self._queue.put((alert, fingerprint))

    def start(self) -> None:
        """Start the worker."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="spyglass-incidents", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Decide what is queued, then stop the worker."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def drain(self) -> None:
        """Wait until every queued alert was decided (for tests and orderly stops)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self.service.observe(*item)
            except Exception:  # one bad decision must not end the worker
                log.exception("incidents: deciding on an alert failed")
            finally:
                self._queue.task_done()


__all__ = ["AlertWatcher"]
