"""Alertmanager's API v2 over the router: POST /api/v2/alerts validates as Alertmanager 0.25
does (its statuses and error bodies, captured from the real one), GET lists alerts and groups in
the GettableAlert shape with its filters, status and receivers describe the config."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.alerting import Dispatcher, Flush, ManualClock, Router, StoredAlert
from spyglass.server.api.alertmanager import (
    AlertmanagerAPI,
    SchemaError,
    parse_postable_alerts,
    redact,
)
from spyglass.storage.state import open_state_store

CONFIG = """
global:
  slack_api_url: https://hooks.slack.com/services/very/secret
route:
  receiver: team
  group_by: [alertname]
  routes:
    - matchers: [severity="page"]
      receiver: pager
      continue: true
    - matchers: [alertname="Down"]
      receiver: team
inhibit_rules:
  - source_matchers: [severity="page"]
    target_matchers: [severity="info"]
    equal: [alertname]
receivers:
  - name: team
  - name: pager
"""


class Silences:
    def mutes(self, labels: Any, now_ms: int) -> tuple[str, ...]:
        return ("quiet-1",) if labels.get("alertname") == "Quiet" else ()


Setup = tuple[TestClient, Router, ManualClock]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    path = tmp_path / "alertmanager.yml"
    path.write_text(CONFIG)
    clock = ManualClock(1_900_000_000_000)
    state = open_state_store("", tmp_path, clock=clock.now_ms)
    router = Router(str(path), state, clock=clock, silencer=Silences())
    router.load()

    async def nothing(flush: Flush, alerts: Sequence[StoredAlert]) -> bool:
        return True

    assert router.loaded is not None
    router.dispatcher = Dispatcher(router.loaded.tree, router.store, nothing, clock)
    router.dispatcher.subscribe()
    app = Starlette(routes=AlertmanagerAPI(router, max_body_bytes=10_000).routes())
    with TestClient(app) as client:
        yield client, router, clock
    state.close()


def post(client: TestClient, body: Any, **kwargs: Any) -> Any:
    return client.post("/api/v2/alerts", content=json.dumps(body).encode(), headers={
        "Content-Type": "application/json"}, **kwargs)  # fmt: skip


def test_posted_alerts_are_taken_with_an_empty_200(setup: Setup) -> None:
    client, router, _ = setup
    r = post(client, [{"labels": {"alertname": "Down"}, "startsAt": "2030-03-17T17:00:00.5Z"}])
    assert (r.status_code, r.content) == (200, b"")
    (a,) = list(router.store)
    assert a.alert.starts_at_ms == 1_899_997_200_500


def test_invalid_alerts_get_alertmanagers_400_string_and_valid_ones_are_kept(setup: Setup) -> None:
    client, router, _ = setup
    r = post(
        client,
        [
            {"labels": {"1a": "b"}},
            {"labels": {}},
            {
                "labels": {"a": "b"},
                "startsAt": "2026-12-07T06:00:00Z",
                "endsAt": "2026-12-07T05:00:00Z",
            },
            {"labels": {"a": "c"}},
        ],
    )
    assert r.status_code == 400
    # Alertmanager 0.25's body for this request, byte for byte.
    assert r.content.strip() == (
        b'"invalid label set: invalid name \\"1a\\"; at least one label pair required; '
        b'start time must be before end time"'
    )
    assert [a.labels for a in router.store] == [{"a": "c"}]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (b'[{"annotations":{}}]', 422, {"code": 602, "message": "0.labels in body is required"}),
        (b"", 422, {"code": 602, "message": "alerts in body is required"}),
        (
            b'[{"labels":{"a":"b"},"generatorURL":"not a url"}]',
            422,
            {"code": 601, "message": '0.generatorURL in body must be of type uri: "not a url"'},
        ),
        (
            b"{}",
            400,
            {
                "code": 400,
                "message": 'parsing alerts body from "" failed, because json: cannot unmarshal '
                "object into Go value of type models.PostableAlerts",
            },
        ),
        (
            b'[{"labels":{"a":1}}]',
            400,
            {
                "code": 400,
                "message": 'parsing alerts body from "" failed, because json: cannot unmarshal '
                "number into Go struct field Alert.labels of type string",
            },
        ),
    ],
)
def test_bodies_alertmanager_cannot_read_get_its_schema_errors(
    setup: Setup, body: bytes, status: int, expected: dict[str, Any]
) -> None:
    client, _, _ = setup
    r = client.post("/api/v2/alerts", content=body, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (status, expected)


def test_a_body_that_is_not_json_is_a_400_with_code_and_message(setup: Setup) -> None:
    client, _, _ = setup
    r = client.post("/api/v2/alerts", content=b"nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"].startswith('parsing alerts body from "" failed, because ')


def test_a_body_over_max_body_bytes_is_refused_with_413(setup: Setup) -> None:
    client, router, _ = setup
    alerts = [{"labels": {"alertname": "A", "i": str(i)}} for i in range(1000)]
    r = post(client, alerts)
    assert r.status_code == 413
    assert "max_body_bytes=10000" in r.json()["message"]
    assert len(router.store) == 0


def test_only_json_is_accepted(setup: Setup) -> None:
    client, _, _ = setup
    r = client.post("/api/v2/alerts", content=b"[]", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json() == {
        "code": 415,
        "message": 'unsupported media type "text/plain", only [application/json] are allowed',
    }


def test_get_alerts_lists_unresolved_alerts_with_status_receivers_and_filters(setup: Setup) -> None:
    client, _, clock = setup
    post(
        client,
        [
            {"labels": {"alertname": "Down", "severity": "page"}, "generatorURL": "http://x/g"},
            {"labels": {"alertname": "Down", "severity": "info"}},
            {"labels": {"alertname": "Quiet"}},
            {"labels": {"alertname": "Gone"}, "endsAt": "2020-01-01T00:00:00Z"},
        ],
    )
    alerts = client.get("/api/v2/alerts").json()
    by_name = {(a["labels"]["alertname"], a["labels"].get("severity")): a for a in alerts}
    assert set(by_name) == {("Down", "page"), ("Down", "info"), ("Quiet", None)}
    page = by_name["Down", "page"]
    assert list(page) == [
        "annotations", "endsAt", "fingerprint", "receivers", "startsAt", "status", "updatedAt",
        "generatorURL", "labels",
    ]  # fmt: skip
    assert page["receivers"] == [{"name": "pager"}, {"name": "team"}]
    assert page["status"] == {"inhibitedBy": [], "mutedBy": [], "silencedBy": [], "state": "active"}
    assert page["endsAt"] == "2030-03-17T17:51:40.000Z"  # resolve_timeout: 5m after receipt
    info = by_name["Down", "info"]["status"]
    assert info["state"] == "suppressed"
    assert info["inhibitedBy"] == [page["fingerprint"]]
    assert by_name["Quiet", None]["status"]["silencedBy"] == ["quiet-1"]
    assert [a["fingerprint"] for a in alerts] == sorted(a["fingerprint"] for a in alerts)

    def names(**params: str) -> list[str]:
        got = client.get("/api/v2/alerts", params=params).json()
        return sorted(f"{a['labels']['alertname']}/{a['labels'].get('severity', '')}" for a in got)

    assert names(silenced="false") == ["Down/info", "Down/page"]
    assert names(inhibited="false", silenced="false") == ["Down/page"]
    assert names(active="false") == ["Down/info", "Quiet/"]
    assert names(filter='severity=~"page|info"') == ["Down/info", "Down/page"]
    assert names(receiver="pag.*") == ["Down/page"]
    clock.advance(5 * 60_000)
    assert names() == []  # timed out


def test_bad_filters_are_alertmanagers_400_strings(setup: Setup) -> None:
    client, _, _ = setup
    r = client.get("/api/v2/alerts", params={"filter": "foo"})
    assert (r.status_code, r.json()) == (400, {"code": 400, "message": "bad matcher format: foo"})
    assert client.get("/api/v2/alerts", params={"active": "maybe"}).status_code == 400


def test_groups_list_each_aggregation_group_with_its_receiver(setup: Setup) -> None:
    client, _, _ = setup
    post(
        client,
        [{"labels": {"alertname": "Down", "severity": "page", "i": str(i)}} for i in range(2)],
    )
    groups = client.get("/api/v2/alerts/groups").json()
    assert [(g["labels"], g["receiver"]["name"], len(g["alerts"])) for g in groups] == [
        ({"alertname": "Down"}, "pager", 2),
        ({"alertname": "Down"}, "team", 2),
    ]
    assert client.get("/api/v2/alerts/groups", params={"receiver": "team"}).json()[0][
        "receiver"
    ] == {"name": "team"}


def test_status_and_receivers_describe_the_config_without_its_secrets(setup: Setup) -> None:
    client, _, _ = setup
    status = client.get("/api/v2/status").json()
    assert status["cluster"] == {"peers": [], "status": "disabled"}
    assert "route:\n  receiver: team" in status["config"]["original"]
    assert "very/secret" not in status["config"]["original"]
    assert "slack_api_url: <secret>" in status["config"]["original"]
    assert status["uptime"].endswith("Z")
    assert set(status["versionInfo"]) == {
        "branch", "buildDate", "buildUser", "goVersion", "revision", "version"
    }  # fmt: skip
    assert client.get("/api/v2/receivers").json() == [{"name": "team"}, {"name": "pager"}]


def test_redact_hides_secret_values_only() -> None:
    text = "a:\n  password: hunter2\n  - api_key: k\n  password_file: /p\n"
    assert redact(text) == "a:\n  password: <secret>\n  - api_key: <secret>\n  password_file: /p\n"


@given(st.binary(max_size=200))
def test_any_body_is_either_alerts_or_a_schema_error(body: bytes) -> None:
    outcome: object
    try:
        outcome = parse_postable_alerts(body)
    except SchemaError as exc:
        outcome = exc
    if isinstance(outcome, SchemaError):
        assert outcome.status in (400, 422)
        assert str(outcome)
    else:
        assert isinstance(outcome, list)


@given(
    st.lists(
        st.fixed_dictionaries(
            {"labels": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)},
            optional={
                "startsAt": st.sampled_from(
                    ["2030-01-01T00:00:00Z", "2030-01-01T00:00:00.123+02:00"]
                ),
                "generatorURL": st.sampled_from(["http://x/", "/graph", ""]),
            },
        ),
        max_size=4,
    )
)
def test_well_formed_bodies_parse_to_their_labels(items: list[dict[str, Any]]) -> None:
    alerts = parse_postable_alerts(json.dumps(items).encode() or b"[]")
    assert [dict(a.labels) for a in alerts] == [i["labels"] for i in items]
