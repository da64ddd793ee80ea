"""Alertmanager API v2 silence routes in process: the JSON shapes Alertmanager writes, its
order of listing, ``filter``, and its error statuses and bodies for each kind of mistake.

The bodies and messages pinned here are the ones Alertmanager 0.25 answers for the same
requests (tests/server/test_silences_e2e.py compares with the real one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.support.state import FakeClock

from spyglass.alerting import MaintenanceWindow, Matcher, Silences, format_api_time
from spyglass.core.errors import Unavailable
from spyglass.server.api.silences import SilencesAPI
from spyglass.storage.state import open_state_store

T0 = 1_800_000_000_000  # 2027-01-15T08:00:00Z
HOUR = 3_600_000
JSON = {"Content-Type": "application/json"}
ONLY_JSON = "only [application/json] are allowed"


def at(ms: int) -> str:
    return format_api_time(ms)


def body(**fields: Any) -> dict[str, Any]:
    silence: dict[str, Any] = {
        "matchers": [{"name": "alertname", "value": "Foo", "isRegex": False}],
        "startsAt": at(T0),
        "endsAt": at(T0 + HOUR),
        "createdBy": "alice",
        "comment": "deploy",
    }
    silence.update(fields)
    return {k: v for k, v in silence.items() if v is not ...}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def silences(tmp_path: Path, clock: FakeClock) -> Iterator[Silences]:
    with open_state_store("", tmp_path, clock=clock) as store:
        yield Silences(store, clock=clock)


@pytest.fixture
def client(silences: Silences) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=SilencesAPI(silences).routes())) as c:
        yield c


def post(client: TestClient, silence: object) -> tuple[int, Any]:
    r = client.post("/api/v2/silences", content=json.dumps(silence), headers=JSON)
    assert r.headers.get("content-type") == "application/json"
    # Go's encoder ends a body with a newline; go-openapi's own error bodies have none.
    assert r.content.endswith(b"\n") == (r.status_code == 200 or r.text.startswith('"'))
    return r.status_code, r.json()


def test_create_then_get_gives_alertmanagers_gettable_silence(client: TestClient) -> None:
    status, created = post(client, body(startsAt="2027-01-15T09:00:00+01:00"))
    assert status == 200
    sid = created["silenceID"]
    r = client.get(f"/api/v2/silence/{sid}")
    assert r.status_code == 200
    assert r.text == (
        f'{{"id":"{sid}","status":{{"state":"active"}},"updatedAt":"2027-01-15T08:00:00.000Z",'
        '"comment":"deploy","createdBy":"alice","endsAt":"2027-01-15T09:00:00.000Z",'
        '"matchers":[{"isEqual":true,"isRegex":false,"name":"alertname","value":"Foo"}],'
        '"startsAt":"2027-01-15T08:00:00.000Z"}\n'
    )


def test_matcher_kinds_round_trip(client: TestClient) -> None:
    matchers = [
        {"name": "a", "value": "1", "isRegex": False, "isEqual": True},
        {"name": "b", "value": "2", "isRegex": False, "isEqual": False},
        {"name": "c", "value": "3|4", "isRegex": True, "isEqual": True},
        {"name": "d", "value": "5.*", "isRegex": True, "isEqual": False},
        {"name": "e", "value": "<&>", "isRegex": False},  # isEqual defaults to true
    ]
    _, created = post(client, body(matchers=matchers))
    got = client.get(f"/api/v2/silence/{created['silenceID']}").json()["matchers"]
    matchers[4]["isEqual"] = True
    assert got == [dict(sorted(m.items())) for m in matchers]
    assert '"value":"<&>"' in client.get("/api/v2/silences").text  # no HTML escaping, as Go's


def test_list_is_ordered_active_by_end_pending_by_start_expired_by_latest_end(
    client: TestClient, clock: FakeClock
) -> None:
    def make(start: int, end: int) -> str:
        return str(post(client, body(startsAt=at(start), endsAt=at(end)))[1]["silenceID"])

    a_late = make(T0, T0 + 3 * HOUR)
    a_soon = make(T0, T0 + HOUR)
    p_late = make(T0 + 2 * HOUR, T0 + 5 * HOUR)
    p_soon = make(T0 + HOUR, T0 + 5 * HOUR)
    e_old, e_new = make(T0, T0 + HOUR), make(T0, T0 + HOUR)
    client.delete(f"/api/v2/silence/{e_old}")
    clock.advance(1000)
    client.delete(f"/api/v2/silence/{e_new}")
    listed = client.get("/api/v2/silences").json()
    assert [s["id"] for s in listed] == [a_soon, a_late, p_soon, p_late, e_new, e_old]
    assert [s["status"]["state"] for s in listed] == ["active"] * 2 + ["pending"] * 2 + [
        "expired"
    ] * 2


def test_filter_keeps_silences_with_an_identical_matcher(client: TestClient) -> None:
    _, foo = post(client, body())
    post(client, body(matchers=[{"name": "alertname", "value": "Fo.", "isRegex": True}]))
    r = client.get("/api/v2/silences", params={"filter": 'alertname="Foo"'})
    assert [s["id"] for s in r.json()] == [foo["silenceID"]]
    r = client.get("/api/v2/silences", params=[("filter", "alertname=Foo"), ("filter", "x=y")])
    assert r.json() == []
    r = client.get("/api/v2/silences", params={"filter": "bad"})
    assert r.status_code == 400
    assert isinstance(r.json(), str)


def test_update_in_place_and_replacement_answer_with_the_right_id(
    client: TestClient, clock: FakeClock
) -> None:
    _, created = post(client, body())
    sid = created["silenceID"]
    clock.advance(60_000)
    assert post(client, body(id=sid, endsAt=at(T0 + 2 * HOUR)))[1] == {"silenceID": sid}
    status, replaced = post(
        client,
        body(id=sid, matchers=[{"name": "alertname", "value": "Bar", "isRegex": False}]),
    )
    assert status == 200
    assert replaced["silenceID"] != sid
    assert client.get(f"/api/v2/silence/{sid}").json()["status"]["state"] == "expired"


def test_delete_expires_and_is_idempotent(client: TestClient) -> None:
    _, created = post(client, body())
    sid = created["silenceID"]
    for _ in range(2):
        r = client.delete(f"/api/v2/silence/{sid}")
        assert (r.status_code, r.content) == (200, b"")
    assert client.get(f"/api/v2/silence/{sid}").json()["status"]["state"] == "expired"


def test_unknown_and_malformed_ids(client: TestClient) -> None:
    unknown = str(uuid.uuid4())
    for method in ("GET", "DELETE"):
        r = client.request(method, f"/api/v2/silence/{unknown}")
        assert (r.status_code, r.content) == (404, b"")
        r = client.request(method, "/api/v2/silence/nope")
        assert r.status_code == 422
        assert r.json() == {
            "code": 601,
            "message": 'silenceID in path must be of type uuid: "nope"',
        }
    assert post(client, body(id=unknown)) == (404, "silence not found")


@pytest.mark.parametrize(
    ("silence", "status", "answer"),
    [
        (body(comment=...), 422, {"code": 602, "message": "comment in body is required"}),
        (body(comment=None), 422, {"code": 602, "message": "comment in body is required"}),
        (body(createdBy=...), 422, {"code": 602, "message": "createdBy in body is required"}),
        (body(endsAt=...), 422, {"code": 602, "message": "endsAt in body is required"}),
        (body(matchers=...), 422, {"code": 602, "message": "matchers in body is required"}),
        (
            body(matchers=[]),
            422,
            {"code": 612, "message": "matchers in body should have at least 1 items"},
        ),
        (
            body(matchers=[{"name": "a", "value": "x"}]),
            422,
            {"code": 602, "message": "matchers.0.isRegex in body is required"},
        ),
        (body(startsAt=...), 422, {"code": 602, "message": "startsAt in body is required"}),
        ({}, 422, {"code": 602, "message": "comment in body is required"}),
        (None, 422, {"code": 602, "message": "comment in body is required"}),
        (
            body(matchers=[{"name": "alertname", "value": "", "isRegex": False}]),
            400,
            "silence invalid: at least one matcher must not match the empty string",
        ),
        (
            body(matchers=[{"name": "alertname", "value": "(", "isRegex": True}]),
            400,
            'silence invalid: invalid label matcher 0: invalid regular expression "(": '
            "error parsing regexp: missing closing ): `(`",
        ),
        (
            body(startsAt=at(T0 + HOUR), endsAt=at(T0)),
            400,
            "Failed to create silence: start time must be before end time",
        ),
        (
            body(startsAt=at(T0 - 2 * HOUR), endsAt=at(T0 - HOUR)),
            400,
            "Failed to create silence: end time can't be in the past",
        ),
    ],
)
def test_refusals_have_alertmanagers_status_and_body(
    client: TestClient, silence: object, status: int, answer: object
) -> None:
    assert post(client, silence) == (status, answer)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1]", b'{"createdBy": 5}', b'{"startsAt": "yesterday"}', b'{"matchers": 1}'],
)
def test_bodies_of_the_wrong_types_are_a_400_with_go_swaggers_shape(
    client: TestClient, raw: bytes
) -> None:
    r = client.post("/api/v2/silences", content=raw, headers=JSON)
    assert r.status_code == 400
    assert r.json()["code"] == 400
    assert r.json()["message"].startswith('parsing silence body from "" failed, because ')


@pytest.mark.parametrize(
    ("content_type", "status", "message"),
    [
        (None, 415, f'unsupported media type "application/octet-stream", {ONLY_JSON}'),
        ("text/plain", 415, f'unsupported media type "text/plain", {ONLY_JSON}'),
        ("garbage;;", 400, 'parsing Content-Type header from "garbage;;" failed, '
                           "because mime: invalid media parameter"),
        ("application/JSON; charset=utf-8", 422, "comment in body is required"),
    ],
)  # fmt: skip
def test_a_body_must_be_json_as_go_openapi_wants(
    client: TestClient, content_type: str | None, status: int, message: str
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = client.post("/api/v2/silences", content=b"{}", headers=headers)
    assert (r.status_code, r.json()["message"]) == (status, message)


def test_an_empty_body_is_a_missing_silence(client: TestClient) -> None:
    r = client.post("/api/v2/silences", content=b"")
    assert (r.status_code, r.json()) == (
        422,
        {"code": 602, "message": "silence in body is required"},
    )


def test_a_state_store_that_is_down_is_a_500_with_the_message(
    client: TestClient, silences: Silences, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, created = post(client, body())

    def down(*args: object, **kwargs: object) -> None:
        raise Unavailable("the state store /data/state.db is closed")

    monkeypatch.setattr(silences._store, "put", down)
    assert post(client, body()) == (500, "the state store /data/state.db is closed")
    r = client.delete(f"/api/v2/silence/{created['silenceID']}")
    assert (r.status_code, r.json()) == (500, "the state store /data/state.db is closed")


def test_one_off_maintenance_windows_are_listed_and_cannot_be_deleted(
    client: TestClient, silences: Silences
) -> None:
    window = MaintenanceWindow(
        name="db",
        matchers=(Matcher.of("service", "=", "db"),),
        comment="upgrade",
        start_ms=T0 + HOUR,
        end_ms=T0 + 2 * HOUR,
    )
    silences.configure([window], {})
    [listed] = client.get("/api/v2/silences").json()
    assert listed["id"] == "maintenance:db"
    assert listed["createdBy"] == "spyglass maintenance window"
    assert listed["status"] == {"state": "pending"}
    assert client.get("/api/v2/silence/maintenance:db").json() == listed
    r = client.delete("/api/v2/silence/maintenance:db")
    assert r.status_code == 500
    assert "alertmanager.yml" in r.json()


# -- hostile bodies ---------------------------------------------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_fields = st.sampled_from(
    ["id", "matchers", "startsAt", "endsAt", "createdBy", "comment", "name", "value", "isRegex"]
)
_times = st.sampled_from(
    [at(T0), at(T0 + HOUR), "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2027-02-30T00:00:00Z",
     "2027-01-15T08:00", "2027-01-15T08:00:00+25:00", "", "x"]
)  # fmt: skip
_matcher = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=5), _json_values),
        "value": st.one_of(st.sampled_from(["", ".*", "(", "a", "\ud800"]), _json_values),
        "isRegex": st.one_of(st.booleans(), _json_values),
        "isEqual": st.one_of(st.booleans(), _json_values),
    },
)
_silence = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.just(""), st.uuids().map(str), _json_values),
        "matchers": st.one_of(st.lists(_matcher, max_size=3), _json_values),
        "startsAt": st.one_of(_times, _json_values),
        "endsAt": st.one_of(_times, _json_values),
        "createdBy": st.one_of(st.text(max_size=5), _json_values),
        "comment": st.one_of(st.text(max_size=5), _json_values),
    },
)
_bodies = st.one_of(
    _silence.map(lambda d: json.dumps(d).encode()),
    _json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    st.dictionaries(_fields, _json_values).map(lambda d: json.dumps(d).encode()),
)


def test_any_body_gets_an_answer_never_a_server_error(client: TestClient) -> None:
    """Malformed input is always a 4xx in Alertmanager's shapes; a valid one is a 200."""

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(raw=_bodies)
    def check(raw: bytes) -> None:
        r = client.post("/api/v2/silences", content=raw, headers=JSON)
        assert r.status_code in (200, 400, 404, 422), r.text
        answer = r.json()
        if r.status_code == 200:
            assert set(answer) == {"silenceID"}
            assert client.get(f"/api/v2/silence/{answer['silenceID']}").status_code == 200
        elif r.status_code in (400, 404):
            assert isinstance(answer, str) or set(answer) == {"code", "message"}
        else:
            assert set(answer) == {"code", "message"}

    check()


def test_a_listing_shows_each_change_even_within_one_millisecond(client: TestClient) -> None:
    """Listings reuse each silence's JSON; an update must never show the old text."""
    _, created = post(client, body(startsAt=at(T0 + HOUR), endsAt=at(T0 + 2 * HOUR)))
    sid = created["silenceID"]
    assert client.get("/api/v2/silences").json()[0]["comment"] == "deploy"
    for comment in ("first change", "second change"):
        same = post(client, body(id=sid, startsAt=at(T0 + HOUR), endsAt=at(T0 + 2 * HOUR),
                                 comment=comment))  # fmt: skip
        assert same == (200, {"silenceID": sid})
        [listed] = client.get("/api/v2/silences").json()
        assert listed["comment"] == comment
