"""Every ingest protocol refuses the same bad series with a limit-naming error; spans are cut to
OpenTelemetry's span limits instead."""

import pytest

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.labels import labels_of
from spyglass.core.limits import (
    IngestLimits,
    SpanLimits,
    check_series,
    check_series_count,
    limit_spans,
)
from spyglass.core.spans import Span, SpanBatch, SpanEvent, SpanLink

LIMITS = IngestLimits(
    max_labels_per_series=3,
    max_label_name_length=8,
    max_label_value_length=5,
    max_series_per_request=2,
)


def test_good_series_passes() -> None:
    check_series(labels_of({"__name__": "up", "job": "api"}), LIMITS)


@pytest.mark.parametrize(
    ("labels", "limit"),
    [
        ({"__name__": "x", "a": "1", "b": "2", "c": "3"}, "max_labels_per_series"),
        ({"__name__": "x", "abcdefghi": "1"}, "max_label_name_length"),
        ({"__name__": "x", "a": "123456"}, "max_label_value_length"),
    ],
)
def test_limits_are_named(labels: dict[str, str], limit: str) -> None:
    with pytest.raises(LimitExceeded) as err:
        check_series(labels_of(labels), LIMITS)
    assert err.value.limit == limit
    assert limit in str(err.value)


def test_missing_name_and_bad_label_names_are_bad_input() -> None:
    with pytest.raises(BadInput, match="no metric name"):
        check_series(labels_of({"job": "x"}), LIMITS)
    with pytest.raises(BadInput, match="invalid label name"):
        check_series(labels_of({"__name__": "x", "1a": "y"}), LIMITS)


def test_series_count() -> None:
    check_series_count(2, LIMITS)
    with pytest.raises(LimitExceeded, match="max_series_per_request"):
        check_series_count(3, LIMITS)


# -- span limits (OpenTelemetry's: truncate and drop, never refuse) ------------------------------

SPAN_LIMITS = SpanLimits(
    max_attributes_per_span=2,
    max_attribute_value_length=4,
    max_events_per_span=1,
    max_links_per_span=1,
)


def test_spans_within_the_limits_pass_untouched() -> None:
    batch = SpanBatch((Span("a" * 32, "b" * 16, "op", 1, 1, attributes={"k": "v"}),))
    limited, report = limit_spans(batch, SPAN_LIMITS)
    assert limited is batch
    assert not report.anything


def test_long_values_are_cut_and_extra_attributes_events_links_dropped() -> None:
    """The spec's AttributeValueLengthLimit cuts a value to the limit (in characters); past
    AttributeCountLimit and the event and link counts, later entries are dropped."""
    resource = {"service.name": "checkout-service"}
    span = Span(
        "a" * 32,
        "b" * 16,
        "op",
        1,
        1,
        attributes={"a": "12345678", "b": "ok", "c": "dropped"},
        resource=resource,
        events=(SpanEvent(1, "e1", {"x": "€€€€€€"}), SpanEvent(2, "e2")),
        links=(SpanLink("c" * 32, "d" * 16), SpanLink("e" * 32, "f" * 16)),
    )
    other = Span("1" * 32, "2" * 16, "op2", 1, 1, resource=resource)
    limited, report = limit_spans(SpanBatch((span, other)), SPAN_LIMITS)
    first, second = limited.spans
    assert dict(first.attributes) == {"a": "1234", "b": "ok"}
    assert dict(first.resource) == {"service.name": "chec"}
    assert first.events == (SpanEvent(1, "e1", {"x": "€€€€"}),)
    assert first.links == (SpanLink("c" * 32, "d" * 16),)
    # The resource both spans share is cut once (and counted once).
    assert second.resource is first.resource
    assert (report.truncated_values, report.dropped_attributes) == (3, 1)
    assert (report.dropped_events, report.dropped_links) == (1, 1)
    assert report.anything


def test_zero_turns_each_span_limit_off() -> None:
    span = Span("a" * 32, "b" * 16, "op", 1, 1, attributes={str(i): "x" * 100 for i in range(300)})
    batch = SpanBatch((span,))
    limited, report = limit_spans(batch, SpanLimits(0, 0, 0, 0))
    assert limited is batch
    assert not report.anything
