"""Hypothesis strategies for spans, shared by the span storage tests; each test chooses the
text and times its path can hold (the WAL any text, Arrow no lone surrogates)."""

from __future__ import annotations

from hypothesis import strategies as st

from spyglass.core.spans import SPAN_KINDS, STATUS_CODES, Span, SpanEvent, SpanLink


def spans_of(text: st.SearchStrategy[str], ns: st.SearchStrategy[int]) -> st.SearchStrategy[Span]:
    """Spans whose strings are drawn from ``text`` and whose times from ``ns``, with up to three
    attributes per map, three events and two links."""
    attrs = st.dictionaries(text, text, max_size=3)
    events = st.builds(SpanEvent, timestamp_ns=ns, name=text, attributes=attrs)
    links = st.builds(SpanLink, trace_id=text, span_id=text, trace_state=text, attributes=attrs)
    return st.builds(
        Span,
        trace_id=text,
        span_id=text,
        name=text,
        start_ns=ns,
        duration_ns=ns,
        service_name=text,
        parent_span_id=text,
        kind=st.sampled_from(SPAN_KINDS),
        status_code=st.sampled_from(STATUS_CODES),
        status_message=text,
        trace_state=text,
        attributes=attrs,
        resource=attrs,
        scope_name=text,
        scope_version=text,
        events=st.lists(events, max_size=3).map(tuple),
        links=st.lists(links, max_size=2).map(tuple),
    )
