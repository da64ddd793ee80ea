"""Sentry ingest: envelopes and store bodies as real SDKs send them become error events; any
other body gets a clear error and never a crash."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator

import pytest
import sentry_sdk
from hypothesis import given
from hypothesis import strategies as st
from sentry_sdk.transport import Transport

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.ingest.sentry import (
    decode_envelope,
    decode_store,
    parse_envelope,
    project_id,
    public_key,
)

NOW_NS = 1_800_000_000 * 10**9


class _Capture(Transport):
    """A transport that keeps the bytes the SDK would have sent."""

    def __init__(self) -> None:
        super().__init__({"dsn": "http://key@127.0.0.1:9/42"})
        self.envelopes: list[bytes] = []

    def capture_envelope(self, envelope: sentry_sdk.envelope.Envelope) -> None:
        buf = io.BytesIO()
        envelope.serialize_into(buf)
        self.envelopes.append(buf.getvalue())


@pytest.fixture
def sdk() -> Iterator[_Capture]:
    capture = _Capture()
    sentry_sdk.init(
        dsn="http://key@127.0.0.1:9/42",
        transport=capture,
        release="api@1.2.3",
        environment="staging",
        default_integrations=False,
    )
    try:
        yield capture
    finally:
        sentry_sdk.init()  # no DSN: the SDK is off again for the other tests


def _divide(x: int) -> float:
    return 1 / x


def test_an_exception_from_the_real_sdk(sdk: _Capture) -> None:
    sentry_sdk.set_user({"id": "u-7", "email": "a@example.com"})
    sentry_sdk.set_tag("route", "/orders/{id}")
    try:
        _divide(0)
    except ZeroDivisionError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    [body] = sdk.envelopes
    decoded = decode_envelope(body, project_id=42, received_ns=NOW_NS)
    [event] = decoded.batch
    assert event.project_id == 42
    assert event.event_id == decoded.event_id
    assert len(event.event_id) == 32
    assert (event.release, event.environment, event.level) == ("api@1.2.3", "staging", "error")
    assert event.tags["route"] == "/orders/{id}"
    assert (event.user_id, event.user_email, event.user_key) == ("u-7", "a@example.com", "u-7")
    [exc] = event.exceptions
    assert (exc.type, exc.value, exc.handled) == ("ZeroDivisionError", "division by zero", True)
    assert [f.function for f in exc.frames][-1] == "_divide"
    assert exc.frames[-1].context_line.strip() == "return 1 / x"
    assert len(event.trace_id) == 32
    assert abs(event.timestamp_ns - NOW_NS) > 0  # the SDK's own time, not the received time
    assert event.payload["event_id"] == event.event_id
    assert event.sdk.startswith("sentry.python/")


def test_the_real_sdks_service_tag_and_otel_context_name_the_service(sdk: _Capture) -> None:
    """The service an event names (``ErrorEvent.service``): what ``set_tag("service", ...)``
    sends, else an ``otel`` context's resource ``service.name``; never ``server_name``."""
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("service", "checkout")
        sentry_sdk.capture_message("tagged")
    with sentry_sdk.new_scope() as scope:
        scope.set_context("otel", {"resource": {"service.name": "<b>billing</b>"}})
        sentry_sdk.capture_message("from otel")
    sentry_sdk.capture_message("neither")
    sentry_sdk.flush()
    events = [
        decode_envelope(b, project_id=1, received_ns=NOW_NS).batch.events[0] for b in sdk.envelopes
    ]
    assert [(e.message, e.service) for e in events] == [
        ("tagged", "checkout"),
        ("from otel", "<b>billing</b>"),
        ("neither", ""),
    ]
    assert events[2].server_name  # the SDK sent the host name, which is not a service


def test_a_message_from_the_real_sdk(sdk: _Capture) -> None:
    sentry_sdk.capture_message("cache miss for %s", level="warning")
    sentry_sdk.flush()
    [event] = decode_envelope(sdk.envelopes[0], project_id=1, received_ns=NOW_NS).batch
    assert (event.message, event.level, event.exceptions) == ("cache miss for %s", "warning", ())
    assert event.stack[-1].function == "test_a_message_from_the_real_sdk"


def _envelope(*items: tuple[dict[str, object], bytes], header: bytes = b"{}") -> bytes:
    out = [header]
    for item_header, payload in items:
        out += [json.dumps(item_header).encode(), payload]
    return b"\n".join(out) + b"\n"


def test_items_with_and_without_length_and_other_types_skipped() -> None:
    event = json.dumps({"message": "a\nb", "fingerprint": ["db", 42]}).encode()
    body = _envelope(
        ({"type": "session"}, b'{"sid":"x"}'),
        ({"type": "event", "length": len(event)}, event),
        ({"type": "attachment", "length": 3}, b"a\nb"),
        header=b'{"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC","dsn":"http://pk@h/3"}',
    )
    decoded = decode_envelope(body, project_id=3, received_ns=NOW_NS)
    [ev] = decoded.batch
    assert ev.event_id == "9ec79c33ec9942ab8353589fcb2e04dc"
    assert ev.message == "a\nb"
    assert ev.fingerprint == ("db", "42")
    assert ev.timestamp_ns == NOW_NS  # no timestamp: when it was received
    assert decoded.skipped == {"session": 1, "attachment": 1}
    assert decoded.dsn == "http://pk@h/3"


def test_old_shapes_are_read_too() -> None:
    store = json.dumps(
        {
            "timestamp": 1_700_000_000.25,
            "exception": [{"type": "KeyError", "value": "'x'"}],
            "tags": [["a", "1"], ["b", 2]],
            "logentry": {"message": "user %s failed", "params": ["bob"]},
        }
    ).encode()
    [ev] = decode_store(store, project_id=1, received_ns=NOW_NS).batch
    assert ev.timestamp_ns == 1_700_000_000_250_000_000
    assert ev.exceptions[0].type == "KeyError"
    assert dict(ev.tags) == {"a": "1", "b": "2"}
    assert (ev.message, ev.message_template) == ("user bob failed", "user %s failed")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json\n", "envelope header is not JSON"),
        (b"[]\n", "envelope header is not a JSON object"),
        (b'{}\n{"length":2}\nab\n', "item 1 header has no type"),
        (b'{}\n{"type":"event","length":10}\nab\n', "shorter than its length"),
        (b'{}\n{"type":"event","length":1}\nab\n', "runs past its length"),
        (b'{}\n{"type":"event","length":-1}\n', "bad length"),
        (b'{}\n{"type":"event"}\n[1]\n', "invalid event: not a JSON object"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        decode_envelope(body, project_id=1, received_ns=NOW_NS)


def test_an_event_over_the_limit_names_the_limit() -> None:
    event = json.dumps({"message": "x" * 100}).encode()
    body = _envelope(({"type": "event"}, event))
    with pytest.raises(LimitExceeded) as caught:
        decode_envelope(body, project_id=1, received_ns=NOW_NS, max_event_bytes=50)
    assert caught.value.limit == "max_event_bytes"


def test_the_key_is_found_wherever_an_sdk_puts_it() -> None:
    auth = "Sentry sentry_key=abc, sentry_version=7, sentry_client=sentry.python/3.0.0"
    assert public_key({"x-sentry-auth": auth}, {}) == "abc"
    assert public_key({"authorization": auth}, {}) == "abc"
    assert public_key({}, {"sentry_key": "q"}) == "q"
    assert public_key({}, {}, "https://dsnkey@o1.example/5") == "dsnkey"
    with pytest.raises(BadInput, match="missing authorization"):
        public_key({"authorization": "Bearer x"}, {})
    assert project_id("42") == 42
    with pytest.raises(BadInput):
        project_id("0")


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_fail_cleanly(body: bytes) -> None:
    with contextlib.suppress(BadInput):
        decode_envelope(body, project_id=1, received_ns=NOW_NS)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "exception",
                        "values",
                        "stacktrace",
                        "frames",
                        "tags",
                        "timestamp",
                        "user",
                        "logentry",
                        "message",
                        "contexts",
                        "trace",
                        "fingerprint",
                        "level",
                        "threads",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=30,
    )
)
def test_any_json_event_decodes_or_fails_cleanly(value: object) -> None:
    with contextlib.suppress(BadInput):
        decode_store(json.dumps(value).encode(), project_id=1, received_ns=NOW_NS)


def test_envelope_parts_keep_exact_payload_bytes() -> None:
    envelope = parse_envelope(_envelope(({"type": "attachment", "length": 4}, b"\n\n\n\n")))
    assert envelope.items[0].payload == b"\n\n\n\n"
