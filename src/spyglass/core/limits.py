"""Limits on what ingest accepts, and the one check every decoder applies to a series.

Each limit is a setting (``settings.py``) so the error can name what to raise. A violation is a
``LimitExceeded`` (a ``BadInput``): the whole request is refused with the protocol's 4xx, so a
client never retries it and nothing half-accepted is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.labels import LABEL_NAME_RE, METRIC_NAME, Labels


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What one write may contain. ``0`` disables a limit."""

    max_body_bytes: int = 64 * 1024 * 1024
    max_labels_per_series: int = 64
    max_label_name_length: int = 1024
    max_label_value_length: int = 4096
    max_series_per_request: int = 1_000_000


@dataclass(frozen=True, slots=True)
class LogLimits:
    """What one log record may be, as Loki's ``limits_config`` has it. ``0`` disables a limit.

    ``max_line_size`` counts UTF-8 bytes, as Loki does; with ``max_line_size_truncate`` a longer
    line is cut to it (at a character boundary) instead of refused. A record older than
    ``reject_old_samples_max_age_ms`` or newer than ``creation_grace_period_ms`` from now is
    refused.
    """

    max_line_size: int = 256_000
    max_line_size_truncate: bool = False
    max_labels_per_stream: int = 15
    max_label_name_length: int = 1024
    max_label_value_length: int = 2048
    reject_old_samples_max_age_ms: int = 7 * 86_400_000
    creation_grace_period_ms: int = 600_000


def check_series(labels: Labels, limits: IngestLimits) -> None:
    """Refuse a label set that breaks a limit or has no metric name / invalid label names.

    Names follow Prometheus' legacy rules; ``__name__`` must be present and non-empty.
    """
    if limits.max_labels_per_series and len(labels) > limits.max_labels_per_series:
        raise LimitExceeded(
            "max_labels_per_series",
            limits.max_labels_per_series,
            f"series has {len(labels)} labels",
        )
    has_name = False
    previous = ""
    for name, value in labels:
        if name == METRIC_NAME:
            has_name = True
        elif not LABEL_NAME_RE.match(name):
            raise BadInput(f"invalid label name {name!r}")
        if name == previous:
            raise BadInput(f"duplicate label name {name!r}")
        previous = name
        if limits.max_label_name_length and len(name) > limits.max_label_name_length:
            raise LimitExceeded(
                "max_label_name_length",
                limits.max_label_name_length,
                f"label name {name[:64]!r}... is {len(name)} characters long",
            )
        if limits.max_label_value_length and len(value) > limits.max_label_value_length:
            raise LimitExceeded(
                "max_label_value_length",
                limits.max_label_value_length,
                f"value of label {name!r} is {len(value)} characters long",
            )
    if not has_name:
        raise BadInput("series has no metric name (__name__ label)")


def check_series_count(count: int, limits: IngestLimits) -> None:
    """Refuse a request carrying more series than allowed."""
    if limits.max_series_per_request and count > limits.max_series_per_request:
        raise LimitExceeded(
            "max_series_per_request",
            limits.max_series_per_request,
            f"request carries {count} series",
        )


__all__ = ["IngestLimits", "LogLimits", "check_series", "check_series_count"]
