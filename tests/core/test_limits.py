"""Every ingest protocol refuses the same bad series with a limit-naming error; spans are cut to
OpenTelemetry's span limits instead."""

from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


values = st.text(alphabet="ab€", max_size=6)
attribute_maps = st.dictionaries(st.text(alphabet="xyz", max_size=2), values, max_size=4)
limit_spans_strategy = st.builds(
    Span,
    trace_id=st.just("a" * 32),
    span_id=st.just("b" * 16),
    name=st.just("op"),
    start_ns=st.just(1),
    duration_ns=st.just(1),
    attributes=attribute_maps,
    resource=st.sampled_from([{"service.name": "api"}, {"service.name": "a-long-name"}]),
    events=st.lists(st.builds(SpanEvent, st.just(1), st.just("e"), attribute_maps), max_size=3).map(
        tuple
    ),
    links=st.lists(
        st.builds(SpanLink, st.just("c" * 32), st.just("d" * 16), st.just(""), attribute_maps),
        max_size=3,
    ).map(tuple),
)


# Nested spans with attribute maps are slow to draw on a loaded machine; the health check
# measures the drawing, not the code under test.
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(limit_spans_strategy, max_size=6),
    st.builds(
        SpanLimits,
        st.integers(0, 3),
        st.integers(0, 5),
        st.integers(0, 2),
        st.integers(0, 2),
    ),
)
def test_every_span_comes_out_within_the_limits_and_an_untouched_batch_is_the_same(
    spans: list[Span], limits: SpanLimits
) -> None:
    """Whichever way a span goes through (the quick check for the common case or the full
    cut), what comes out is within every limit, in order, and nothing cut means the very
    batch given."""
    batch = SpanBatch(tuple(spans))
    limited, report = limit_spans(batch, limits)
    assert len(limited) == len(batch)
    assert (limited is batch) == (not report.anything)

    def within(attributes: Mapping[str, str], count: bool = True) -> bool:
        most, longest = limits.max_attributes_per_span, limits.max_attribute_value_length
        return (not count or not most or len(attributes) <= most) and all(
            not longest or len(v) <= longest for v in attributes.values()
        )

    for before, after in zip(batch.spans, limited.spans, strict=True):
        assert after.trace_id == before.trace_id
        assert within(after.attributes)
        assert within(after.resource, count=False)
        assert not limits.max_events_per_span or len(after.events) <= limits.max_events_per_span
        assert not limits.max_links_per_span or len(after.links) <= limits.max_links_per_span
        assert all(within(e.attributes) for e in after.events)
        assert all(within(lk.attributes) for lk in after.links)
        # What is kept is a prefix of what was given, values cut to their first characters.
        for key, value in after.attributes.items():
            assert before.attributes[key].startswith(value)
