"""Sentry's ingest endpoints in process: Relay's answers and error shapes, which key is
accepted, CORS, 429 with back-off headers when storage cannot take more, and (hypothesis) no
body, however broken, gets anything but a Sentry-shaped 2xx or 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.core.errors import ConfigError, Unavailable
from spyglass.errors import ErrorTracker
from spyglass.server.api.sentry import KeyPolicy, SentryAPI, parse_keys
from spyglass.storage import ErrorEventQuery
from spyglass.storage.errors import SqlIssueStore
from spyglass.storage.state import SqlStateStore, open_state_store

AUTH = {"X-Sentry-Auth": "Sentry sentry_key=k1, sentry_version=7, sentry_client=test/1"}
EVENT_ID = "0123456789abcdef0123456789abcdef"


class Events:
    """The event store as a list; ``full`` makes it refuse like a full pending buffer."""

    def __init__(self) -> None:
        self.stored: list[ErrorEvent] = []
        self.full = False

    async def append(self, batch: ErrorBatch) -> None:
        if self.full:
            raise Unavailable("200000 events wait for storage (limit 200000)")
        self.stored.extend(batch.events)

    def error_events(self, query: ErrorEventQuery) -> list[ErrorEvent]:
        return []

    def error_event(self, event_id: str, project_id: int | None = None) -> ErrorEvent | None:
        return None

    def error_counts(
        self, keys: Sequence[tuple[int, str]], start: int, end: int, step: int
    ) -> list[list[int]]:
        return [[] for _ in keys]


class NoAlerts:
    def send(self, alerts: object) -> None:
        del alerts


@pytest.fixture
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStateStore]:
    # One database per test: the tracker drops an event id it already counted, so tests that
    # send the same id must not share one (they did, and the outcome hung on the test order).
    with open_state_store("", tmp_path_factory.mktemp("state")) as store:
        yield store


def client(
    state: SqlStateStore, keys: KeyPolicy | None = None, **api: object
) -> tuple[TestClient, Events]:
    events = Events()
    tracker = ErrorTracker(
        events, SqlIssueStore(state), NoAlerts(), external_url="http://h", retention_ms=10**12
    )
    sentry = SentryAPI(tracker, keys or KeyPolicy(), **api)  # type: ignore[arg-type]
    return TestClient(Starlette(routes=sentry.routes()), raise_server_exceptions=False), events


def envelope(event: dict[str, object], header: dict[str, object] | None = None) -> bytes:
    payload = json.dumps(event).encode()
    head = json.dumps(header if header is not None else {"event_id": EVENT_ID}).encode()
    return (
        head
        + b"\n"
        + json.dumps({"type": "event", "length": len(payload)}).encode()
        + b"\n"
        + payload
    )


def test_an_envelope_is_answered_with_its_event_id(state: SqlStateStore) -> None:
    c, events = client(state)
    r = c.post("/api/1/envelope/", content=envelope({"message": "hi"}), headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {"id": EVENT_ID}
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-expose-headers"] == (
        "x-sentry-error,x-sentry-rate-limits,retry-after"
    )
    assert [e.message for e in events.stored] == ["hi"]
    r = c.post("/api/1/envelope", content=b'{}\n{"type":"session"}\n{"sid":"s"}\n', headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {}  # nothing that names an event: Relay answers an empty object


def test_a_store_request_is_answered_with_its_event_id(state: SqlStateStore) -> None:
    c, events = client(state)
    other = "f" * 32
    r = c.post("/api/3/store/", json={"event_id": other, "message": "old sdk"}, headers=AUTH)
    assert r.json() == {"id": other}
    assert events.stored[0].project_id == 3


def test_the_key_is_read_from_every_place_an_sdk_puts_it(state: SqlStateStore) -> None:
    c, events = client(state, parse_keys("k1"))
    body = envelope({"message": "hi"})
    assert (
        c.post("/api/1/envelope/?sentry_key=k1&sentry_version=7", content=body).status_code == 200
    )
    auth = {"Authorization": "Sentry sentry_key=k1"}
    assert c.post("/api/1/envelope/", content=body, headers=auth).status_code == 200
    dsn = envelope(
        {"message": "hi"}, {"dsn": "https://k1@o1.ingest.example/1", "event_id": EVENT_ID}
    )
    assert c.post("/api/1/envelope/", content=dsn).status_code == 200
    bad = envelope(
        {"message": "hi"}, {"dsn": "https://k2@o1.ingest.example/1", "event_id": EVENT_ID}
    )
    assert c.post("/api/1/envelope/", content=bad).status_code == 403
    assert len(events.stored) == 1  # one event id: the resends were dropped


def test_keys_per_project(state: SqlStateStore) -> None:
    policy = parse_keys(" 1:k1, shared ,2:k2")
    assert policy == KeyPolicy(frozenset({"shared"}), frozenset({(1, "k1"), (2, "k2")}))
    assert policy.accepts(1, "k1")
    assert policy.accepts(5, "shared")
    assert not policy.accepts(2, "k1")
    assert KeyPolicy().accepts(9, "anything")
    with pytest.raises(ConfigError, match="'x:k' is not 'key' or 'project:key'"):
        parse_keys("x:k")
    c, _ = client(state, policy)
    r = c.post("/api/2/store/", json={"message": "m"}, headers=AUTH)
    assert r.status_code == 403
    assert r.json() == {"detail": "event submission rejected with_reason: ProjectId"}
    assert r.headers["x-sentry-error"] == "event submission rejected with_reason: ProjectId"


def test_a_request_without_a_key_is_401(state: SqlStateStore) -> None:
    c, _ = client(state)
    r = c.post("/api/1/store/", json={"message": "m"})
    assert r.status_code == 401
    assert r.json() == {
        "detail": "bad x-sentry-auth header",
        "causes": ["missing authorization information"],
    }


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/api/1/envelope/", b"{not json", "invalid event envelope"),
        ("/api/1/envelope/", b'{}\n{"type":"event","length":99}\n{}', "invalid event envelope"),
        ("/api/1/store/", b"[]", "invalid JSON data"),
        ("/api/0/store/", b"{}", "invalid project path parameter"),
        ("/api/%C2%B2/store/", b"{}", "invalid project path parameter"),
    ],
)
def test_bad_bodies_are_400_in_relays_shape(
    state: SqlStateStore, path: str, body: bytes, detail: str
) -> None:
    c, _ = client(state)
    r = c.post(path, content=body, headers=AUTH)
    assert r.status_code == 400
    assert r.json()["detail"] == detail
    assert r.json()["causes"]


def test_sizes_event_over_1mib_is_400_body_over_the_limit_413(state: SqlStateStore) -> None:
    c, _ = client(state, max_body_bytes=2 * 1024 * 1024)
    giant = envelope({"message": "x" * (1024 * 1024)})
    r = c.post("/api/1/envelope/", content=giant, headers=AUTH)
    assert r.status_code == 400
    assert r.json()["detail"] == (
        "envelope exceeded size limits for type 'event' "
        "(https://develop.sentry.dev/sdk/envelopes/#size-limits)"
    )
    r = c.post("/api/1/envelope/", content=b"x" * (3 * 1024 * 1024), headers=AUTH)
    assert r.status_code == 413
    assert r.json()["detail"] == "failed to read request body"


def test_full_storage_is_429_with_back_off_headers(state: SqlStateStore) -> None:
    c, events = client(state)
    events.full = True
    fresh = envelope({"message": "hi", "event_id": "e" * 32})  # not counted before
    r = c.post("/api/1/envelope/", content=fresh, headers=AUTH)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "60"
    assert r.headers["x-sentry-rate-limits"] == "60::organization"
    assert "wait for storage" in r.json()["causes"][0]


def test_a_cors_preflight_is_answered_as_relay_does(state: SqlStateStore) -> None:
    c, _ = client(state)
    r = c.options(
        "/api/1/envelope/",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "POST"
    assert r.headers["access-control-max-age"] == "3600"
    assert "x-sentry-auth" in r.headers["access-control-allow-headers"].split(",")


@pytest.fixture
def fuzz_client(state: SqlStateStore) -> TestClient:
    return client(state)[0]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/api/1/envelope/", "/api/1/store/"]),
    body=st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.one_of(
                st.just(b'{"type":"event"}'),
                st.just(b'{"type":"event","length":3}'),
                st.just(b'{"message":"m","exception":{"values":[{"type":"E"}]}}'),
                st.just(b'{"timestamp":"soon","tags":[[1,2]],"user":[]}'),
                st.binary(max_size=30),
            ),
            max_size=5,
        ).map(b"\n".join),
    ),
)
def test_no_body_gets_anything_but_a_sentry_answer(
    fuzz_client: TestClient, path: str, body: bytes
) -> None:
    r = fuzz_client.post(path, content=body, headers=AUTH)
    assert r.status_code in (200, 400), r.text
    assert isinstance(r.json(), dict)
    if r.status_code == 400:
        assert set(r.json()) <= {"detail", "causes"}
        assert r.headers["x-sentry-error"]


keys = st.text("abcdef0123456789", min_size=1, max_size=12)


@given(
    shared=st.sets(keys, max_size=3),
    scoped=st.sets(st.tuples(st.integers(1, 10**6), keys), max_size=3),
)
def test_a_written_key_list_reads_back_as_written(
    shared: set[str], scoped: set[tuple[int, str]]
) -> None:
    text = ", ".join([*sorted(shared), *(f"{p}:{k}" for p, k in sorted(scoped))])
    policy = parse_keys(text)
    assert policy == KeyPolicy(frozenset(shared), frozenset(scoped))
    for project, key in scoped:
        assert policy.accepts(project, key)
    assert policy.accepts(1, "not-listed") == (not shared and not scoped)
