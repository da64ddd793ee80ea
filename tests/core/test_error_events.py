"""``ErrorEvent.service``: the service a Sentry event names, read from its tags or the
OpenTelemetry resource in its ``otel`` context, whatever shape a payload has."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.error_events import ErrorEvent


def _event(tags: dict[str, str] | None = None, payload: dict[str, Any] | None = None) -> ErrorEvent:
    return ErrorEvent(
        project_id=1, event_id="0" * 32, timestamp_ns=0, received_ns=0,
        server_name="host-7", tags=tags or {}, payload=payload or {},
    )  # fmt: skip


def _otel(name: object) -> dict[str, Any]:
    return {"contexts": {"otel": {"resource": {"service.name": name}}}}


def test_a_tag_names_the_service_before_the_otel_resource() -> None:
    assert _event({"service.name": "api", "service": "web"}, _otel("x")).service == "api"
    assert _event({"service": "web"}, _otel("x")).service == "web"
    assert _event({"service": ""}, _otel("x")).service == "x"  # an empty tag names nothing
    assert _event(payload=_otel("billing")).service == "billing"


def test_server_name_and_odd_shapes_name_no_service() -> None:
    assert _event().service == ""  # server_name is the host
    assert _event(payload=_otel(42)).service == ""
    assert _event(payload={"contexts": {"otel": ["resource"]}}).service == ""
    assert _event(payload={"contexts": "otel"}).service == ""


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    contexts=JSON | st.dictionaries(st.sampled_from(["otel", "trace"]), JSON, max_size=2),
    tags=st.dictionaries(
        st.sampled_from(["service", "service.name", "route"]), st.text(max_size=8)
    ),
)
def test_any_payload_gives_a_string_and_a_set_tag_wins(contexts: Any, tags: dict[str, str]) -> None:
    service = _event(tags, {"contexts": contexts}).service
    assert isinstance(service, str)
    if tags.get("service.name"):
        assert service == tags["service.name"]
    elif tags.get("service"):
        assert service == tags["service"]
