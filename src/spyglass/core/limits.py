"""Limits on what ingest accepts, and the one check every decoder applies to a series.

Each limit is a setting (``settings.py``) so the error can name what to raise. A violation is a
``LimitExceeded`` (a ``BadInput``): the whole request is refused with the protocol's 4xx, so a
client never retries it and nothing half-accepted is stored.

Spans are the exception: OpenTelemetry's attribute limits say to truncate a value that is too
long and to drop attributes, events and links past their count, not to refuse the span, and
``limit_spans`` does that, counting what it cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.labels import LABEL_NAME_RE, METRIC_NAME, Labels

if TYPE_CHECKING:
    # Only for types: the CLI imports the limits through its settings and must not pay for
    # numpy, which the span columns import (tests/cli/test_startup.py).
    from spyglass.core.spans import Span, SpanBatch, SpanColumns


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


@dataclass(frozen=True, slots=True)
class SpanLimits:
    """What one span may carry, as OpenTelemetry's span limits have it. ``0`` disables a limit.

    ``max_attributes_per_span`` bounds the span's attributes and those of each of its events and
    links (the spec's AttributeCountLimit, 128 by default); attributes past it are dropped, the
    first ones kept. ``max_attribute_value_length`` cuts longer values to that many characters
    (AttributeValueLengthLimit: unlimited in the spec, bounded here because a backend stores
    what any client sends), in span, resource, event and link attributes alike. Events and links
    past their counts are dropped.
    """

    max_attributes_per_span: int = 128
    max_attribute_value_length: int = 16_384
    max_events_per_span: int = 128
    max_links_per_span: int = 128


@dataclass(slots=True)
class SpanLimitReport:
    """What ``limit_spans`` cut: values truncated, attributes, events and links dropped."""

    truncated_values: int = 0
    dropped_attributes: int = 0
    dropped_events: int = 0
    dropped_links: int = 0
    _resources: dict[int, Mapping[str, str]] = field(default_factory=dict, repr=False)

    @property
    def anything(self) -> bool:
        """Whether anything was cut."""
        return bool(
            self.truncated_values or self.dropped_attributes or self.dropped_events
            or self.dropped_links
        )  # fmt: skip


def limit_spans(batch: SpanBatch, limits: SpanLimits) -> tuple[SpanBatch, SpanLimitReport]:
    """``batch`` within ``limits`` (the same object when nothing is over), and what was cut."""
    report = SpanLimitReport()
    if batch.columns is not None and _columns_within(batch.columns, limits):
        return batch, report
    out: list[Span] = []
    changed = False
    most = limits.max_attributes_per_span
    longest = limits.max_attribute_value_length
    resources = report._resources
    for span in batch.spans:
        attributes = span.attributes
        if (
            # The common case, checked inline: a span of a known resource that was within the
            # limits, no events or links, and attributes within them.
            not span.events
            and not span.links
            and resources.get(id(span.resource)) is span.resource
            and (not most or len(attributes) <= most)
            and (not longest or max(map(len, attributes.values()), default=0) <= longest)
        ):
            out.append(span)
            continue
        limited = _limit_span(span, limits, report)
        changed = changed or limited is not span
        out.append(limited)
    return (type(batch)(tuple(out)) if changed else batch), report


def _columns_within(columns: SpanColumns, limits: SpanLimits) -> bool:
    """Whether nothing of ``columns`` is over ``limits``, checked on the columns (then no
    ``Span`` is built); when something is, the caller cuts the spans one by one."""
    import numpy as np  # noqa: PLC0415 - see the imports above

    scratch = SpanLimitReport()  # the caller counts the cuts when it makes them
    most = limits.max_attributes_per_span
    if most and np.any(np.diff(columns.attr_offsets) > most):
        return False
    longest = limits.max_attribute_value_length
    # A value's characters are at most its UTF-8 bytes: within the limit in bytes is within it.
    if longest and np.any(np.diff(columns.attr_values.offsets) > longest):
        return False
    for resource in columns.resources:
        if _limit_attributes(resource, limits, scratch, count=False) is not resource:
            return False
    for counts, most_nested in (
        (np.diff(columns.event_offsets), limits.max_events_per_span),
        (np.diff(columns.link_offsets), limits.max_links_per_span),
    ):
        if most_nested and np.any(counts > most_nested):
            return False
    nested: list[Mapping[str, str]] = [e.attributes for e in columns.events]
    nested += [lk.attributes for lk in columns.links]
    return all(_limit_attributes(a, limits, scratch) is a for a in nested)


def _limit_span(span: Span, limits: SpanLimits, report: SpanLimitReport) -> Span:
    attributes = _limit_attributes(span.attributes, limits, report)
    resource = report._resources.get(id(span.resource))
    if resource is None:
        # Spans of one export share their resource: cut it once, and share the cut one.
        resource = _limit_attributes(span.resource, limits, report, count=False)
        report._resources[id(span.resource)] = resource
    events = span.events
    if not events and not span.links:
        # Most spans: nothing nested to look at.
        if attributes is span.attributes and resource is span.resource:
            return span
        return replace(span, attributes=attributes, resource=resource)
    if limits.max_events_per_span and len(events) > limits.max_events_per_span:
        report.dropped_events += len(events) - limits.max_events_per_span
        events = events[: limits.max_events_per_span]
    new_events = tuple(
        e if a is e.attributes else type(e)(e.timestamp_ns, e.name, a)
        for e in events
        for a in (_limit_attributes(e.attributes, limits, report),)
    )
    links = span.links
    if limits.max_links_per_span and len(links) > limits.max_links_per_span:
        report.dropped_links += len(links) - limits.max_links_per_span
        links = links[: limits.max_links_per_span]
    new_links = tuple(
        lk if a is lk.attributes else type(lk)(lk.trace_id, lk.span_id, lk.trace_state, a)
        for lk in links
        for a in (_limit_attributes(lk.attributes, limits, report),)
    )
    if (
        attributes is span.attributes
        and resource is span.resource
        and _same(new_events, span.events)
        and _same(new_links, span.links)
    ):
        return span
    return replace(
        span, attributes=attributes, resource=resource, events=new_events, links=new_links
    )


def _same(cut: tuple[object, ...], given: tuple[object, ...]) -> bool:
    # By identity: an event or link within the limits is passed on as the same object, and
    # comparing by value would compare every attribute.
    return len(cut) == len(given) and all(a is b for a, b in zip(cut, given, strict=True))


def _limit_attributes(
    attributes: Mapping[str, str],
    limits: SpanLimits,
    report: SpanLimitReport,
    *,
    count: bool = True,
) -> Mapping[str, str]:
    most = limits.max_attributes_per_span if count else 0
    longest = limits.max_attribute_value_length
    over_count = bool(most) and len(attributes) > most
    over_length = bool(longest) and max(map(len, attributes.values()), default=0) > longest
    if not over_count and not over_length:
        return attributes
    items = list(attributes.items())
    if over_count:
        report.dropped_attributes += len(items) - most
        items = items[:most]
    out: dict[str, str] = {}
    for k, v in items:
        if longest and len(v) > longest:
            report.truncated_values += 1
            out[k] = v[:longest]
        else:
            out[k] = v
    return out


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


__all__ = [
    "IngestLimits",
    "LogLimits",
    "SpanLimitReport",
    "SpanLimits",
    "check_series",
    "check_series_count",
    "limit_spans",
]
