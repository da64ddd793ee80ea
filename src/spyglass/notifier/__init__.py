"""Alerts to external Alertmanagers, as Prometheus' notifier sends them.

Modules in order: ``_discovery`` (prometheus.yml's ``alertmanagers`` entries → URLs),
``_sendloop`` (one Alertmanager's queue and batches), ``_manager`` (``Notifier``: external
labels, alert relabeling, one queue per Alertmanager, reload, self-metrics).
"""

from spyglass.notifier._discovery import alerts_path, discover
from spyglass.notifier._manager import DEFAULT_MAX_BATCH, DEFAULT_QUEUE_CAPACITY, Notifier

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_QUEUE_CAPACITY", "Notifier", "alerts_path", "discover"]
