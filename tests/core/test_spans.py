"""Span values: the public names, and a span's end and a batch's order."""

import spyglass.core.spans as spans
import spyglass.ingest.zipkin as zipkin
from spyglass.core.spans import Span, SpanBatch


def test_public_names() -> None:
    assert sorted(spans.__all__) == [
        "MAX_TIME_NS",
        "SPAN_KINDS",
        "STATUS_CODES",
        "Span",
        "SpanBatch",
        "SpanColumns",
        "SpanEvent",
        "SpanLink",
        "Texts",
        "gather",
    ]
    assert zipkin.__all__ == ["decode_zipkin_spans"]


def test_end_and_concat() -> None:
    a = Span("1" * 32, "2" * 16, "a", start_ns=100, duration_ns=50)
    b = Span("1" * 32, "3" * 16, "b", start_ns=120, duration_ns=5)
    assert a.end_ns == 150
    joined = SpanBatch.concat([SpanBatch((a,)), SpanBatch((b,))])
    assert [s.name for s in joined] == ["a", "b"]
    assert len(joined) == 2
