"""The errors API in process: the issue list's parameters, an issue with its counts and
series, its events, state changes in Spyglass's and Sentry's body shapes, and ``{"error"}``
answers for what is wrong or missing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.support.error_events import event

from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.errors import ErrorTracker
from spyglass.server.api.errors import ErrorsAPI
from spyglass.storage import ErrorEventQuery
from spyglass.storage.errors import SqlIssueStore
from spyglass.storage.state import open_state_store


class Events:
    def __init__(self) -> None:
        self.stored: list[ErrorEvent] = []

    async def append(self, batch: ErrorBatch) -> None:
        self.stored.extend(batch.events)

    def error_events(self, query: ErrorEventQuery) -> list[ErrorEvent]:
        return [e for e in reversed(self.stored) if e.issue_key == query.issue_key][: query.limit]

    def error_event(self, event_id: str, project_id: int | None = None) -> ErrorEvent | None:
        return next((e for e in self.stored if e.event_id == event_id), None)

    def error_counts(
        self, keys: Sequence[tuple[int, str]], start: int, end: int, step: int
    ) -> list[list[int]]:
        return [[1] * ((end - start) // step) for _ in keys]


class NoAlerts:
    def send(self, alerts: object) -> None:
        del alerts


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with open_state_store("", tmp_path) as state:
        tracker = ErrorTracker(
            Events(), SqlIssueStore(state), NoAlerts(), external_url="http://h", retention_ms=10**12
        )
        batch = [
            event(1, issue_key="", release="1.0"),
            event(2, issue_key="", release="1.1", environment="staging"),
            event(3, issue_key="", exceptions=(), message="disk full", level="warning"),
        ]
        asyncio.run(tracker.ingest(ErrorBatch(tuple(batch))))
        app = Starlette(routes=ErrorsAPI(tracker).routes())
        yield TestClient(app, raise_server_exceptions=False)


def test_the_list_and_its_filters(api: TestClient) -> None:
    page = api.get("/api/errors/issues").json()
    assert page["total"] == 2
    assert [i["title"] for i in page["issues"]] == ["disk full", "ValueError: bad value 2"]
    value_error = page["issues"][1]
    assert value_error["count"] == 2
    assert value_error["status"] == "unresolved"
    assert value_error["substatus"] is None
    assert value_error["link"] == f"/api/errors/issues/{value_error['id']}"
    found = api.get("/api/errors/issues", params={"release": "1.1", "sort": "count"}).json()
    assert [i["title"] for i in found["issues"]] == ["ValueError: bad value 2"]
    assert api.get("/api/errors/issues", params={"limit": "1"}).json()["total"] == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "open"}, "status must be one of unresolved, resolved, ignored"),
        ({"sort": "title"}, "sort must be one of"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "²"}, "limit must be a whole number"),
        ({"project": "-1"}, "project must be a whole number"),
    ],
)
def test_bad_parameters_are_400(api: TestClient, params: dict[str, str], message: str) -> None:
    r = api.get("/api/errors/issues", params=params)
    assert r.status_code == 400
    assert message in r.json()["error"]


def test_an_issue_its_counts_series_and_events(api: TestClient) -> None:
    issue_id = api.get("/api/errors/issues", params={"query": "valueerror"}).json()["issues"][0][
        "id"
    ]
    detail = api.get(f"/api/errors/issues/{issue_id}", params={"hours": "6"}).json()
    assert detail["releases"] == [{"name": "1.0", "count": 1}, {"name": "1.1", "count": 1}]
    assert detail["environments"] == [
        {"name": "production", "count": 1},
        {"name": "staging", "count": 1},
    ]
    assert detail["series"]["counts"] == [1] * 6
    assert detail["series"]["stepSeconds"] == 3600
    events = api.get(f"/api/errors/issues/{issue_id}/events").json()["events"]
    assert [e["eventID"] for e in events] == [f"{2:032x}", f"{1:032x}"]
    assert events[0]["exceptions"][0]["frames"][0]["function"] == "handler"
    assert events[0]["breadcrumbs"] == [{"message": "hi"}]
    one = api.get(f"/api/errors/events/{'0' * 31}1").json()
    assert one["eventID"] == f"{1:032x}"
    dashed = "00000000-0000-0000-0000-000000000001"
    assert api.get(f"/api/errors/events/{dashed}").status_code == 200
    r = api.get("/api/errors/events/nothex")
    assert r.status_code == 400
    assert "32 hex digits" in r.json()["error"]
    assert api.get(f"/api/errors/events/{'f' * 32}").json() == {"error": f"no event {'f' * 32}"}
    assert api.get("/api/errors/issues/999").status_code == 404
    assert api.get("/api/errors/issues/999/events").status_code == 404


def test_state_changes(api: TestClient) -> None:
    issue_id = api.get("/api/errors/issues").json()["issues"][1]["id"]
    path = f"/api/errors/issues/{issue_id}"
    sentry_style = {"status": "resolved", "statusDetails": {"inNextRelease": True}}
    r = api.put(path, json=sentry_style)
    assert r.json()["status"] == "resolved"
    assert r.json()["statusDetails"] == {"inNextRelease": True, "inRelease": "1.1"}
    assert r.json()["resolvedAt"] is not None
    assert api.post(path, json={"status": "ignored"}).json()["status"] == "ignored"
    assert api.put(path, json={"status": "resolvedInNextRelease"}).json()["statusDetails"]
    after = api.put(path, json={"status": "unresolved"}).json()
    assert (after["status"], after["statusDetails"], after["resolvedAt"]) == (
        "unresolved",
        {},
        None,
    )
    for body, message in (
        (b"{", "body is not JSON"),
        (b"[]", 'a JSON object with a "status"'),
        (b'{"status": "deleted"}', "status must be one of"),
    ):
        r = api.put(path, content=body)
        assert r.status_code == 400
        assert message in r.json()["error"]
