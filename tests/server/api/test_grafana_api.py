"""Grafana's dashboard API as Grafana's own tooling calls it: upload scripts POST
``{"dashboard", "overwrite": true}``, read by uid, search, delete; errors in Grafana's shape
(``{"message"}``, ``"status"`` on 412s), and the page's view endpoint with variables resolved
by the real PromQL engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.core.labels import labels_of
from spyglass.dashboards import MAX_DASHBOARD_BYTES, DashboardService, Provisioned
from spyglass.promql import Engine
from spyglass.server.api.grafana import GrafanaAPI, PrometheusVariables
from spyglass.storage.memory import MemoryStore
from spyglass.storage.state import open_state_store

NOW_S = 1_700_000_000
T0 = NOW_S * 1000


@pytest.fixture
def service(tmp_path: Path) -> Iterator[DashboardService]:
    with open_state_store("", tmp_path) as store:
        yield DashboardService(store)


@pytest.fixture
def client(service: DashboardService) -> TestClient:
    metrics = MemoryStore()
    for job, route in (("api", "/users"), ("api", "/orders"), ("web", "/")):
        ls = labels_of({"__name__": "http_requests_total", "job": job, "route": route})
        metrics.add(ls, [T0 - 60_000, T0], [1.0, 2.0])
    api = GrafanaAPI(
        service, PrometheusVariables(metrics, Engine(metrics)), clock=lambda: float(NOW_S)
    )
    return TestClient(Starlette(routes=list(api.routes())))


def dashboard(**fields: Any) -> dict[str, Any]:
    return {
        "title": "RED",
        "schemaVersion": 39,
        "panels": [
            {
                "id": 1,
                "type": "timeseries",
                "title": "Requests $job",
                "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
                "targets": [
                    {
                        "refId": "A",
                        "expr": 'sum(rate(http_requests_total{job=~"$job"}[$__rate_interval]))',
                        "legendFormat": "{{route}}",
                    }
                ],
            }
        ],
        "templating": {
            "list": [
                {
                    "name": "job",
                    "type": "query",
                    "query": "label_values(http_requests_total, job)",
                    "multi": True,
                    "includeAll": True,
                }
            ]
        },
        **fields,
    }


def test_upload_script_flow_create_read_overwrite(client: TestClient) -> None:
    r = client.post(
        "/api/dashboards/db", json={"dashboard": dashboard(uid="red"), "overwrite": True}
    )
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "id": body["id"],
        "uid": "red",
        "url": "/d/red/red",
        "status": "success",
        "version": 1,
        "slug": "red",
    }
    got = client.get("/api/dashboards/uid/red").json()
    assert got["dashboard"]["schemaVersion"] == 39
    assert got["dashboard"]["panels"] == dashboard()["panels"]
    assert got["meta"]["slug"] == "red"
    assert got["meta"]["url"] == "/d/red/red"
    assert got["meta"]["provisioned"] is False
    r2 = client.post(
        "/api/dashboards/db", json={"dashboard": dashboard(uid="red"), "overwrite": True}
    )
    assert r2.json()["version"] == 2


def test_id_null_and_no_uid_as_grafana_exports_for_sharing(client: TestClient) -> None:
    r = client.post("/api/dashboards/db", json={"dashboard": dashboard(id=None, uid=None)})
    assert r.status_code == 200
    uid = r.json()["uid"]
    assert client.get(f"/api/dashboards/uid/{uid}").status_code == 200


def test_version_mismatch_and_name_exists_are_412(client: TestClient) -> None:
    client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red")})
    r = client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red", version=7)})
    assert r.status_code == 412
    assert r.json() == {
        "message": "The dashboard has been changed by someone else",
        "status": "version-mismatch",
    }
    r = client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="other")})
    assert r.status_code == 412
    assert r.json()["status"] == "name-exists"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not JSON"),
        (b"[]", 'the body must be an object with a "dashboard" field'),
        (b'{"dashboard": {"panels": []}}', "Dashboard title cannot be empty"),
        (b'{"dashboard": {"title": "x", "panels": "no"}}', "panels must be a list"),
        (b'{"dashboard": "x"}', "a dashboard is a JSON object"),
    ],
)
def test_invalid_bodies_are_400_with_a_message(
    client: TestClient, body: bytes, message: str
) -> None:
    r = client.post("/api/dashboards/db", content=body)
    assert r.status_code == 400
    assert message in r.json()["message"]


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    huge = {"dashboard": {"title": "big", "description": "x" * (MAX_DASHBOARD_BYTES + 10)}}
    r = client.post("/api/dashboards/db", content=json.dumps(huge).encode())
    assert r.status_code == 413
    assert "limit" in r.json()["message"]


def test_missing_is_404_and_delete_answers_like_grafana(client: TestClient) -> None:
    assert client.get("/api/dashboards/uid/nope").json() == {"message": "Dashboard not found"}
    assert client.get("/api/dashboards/uid/nope").status_code == 404
    dash_id = client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red")}).json()[
        "id"
    ]
    r = client.delete("/api/dashboards/uid/red")
    assert r.json() == {"title": "RED", "message": "Dashboard RED deleted", "id": dash_id}
    assert client.delete("/api/dashboards/uid/red").status_code == 404


def test_provisioned_cannot_be_deleted_or_saved(
    client: TestClient, service: DashboardService
) -> None:
    service.set_provisioned({"p": Provisioned({"uid": "p", "title": "P"}, "files", "/d/p.json")})
    r = client.delete("/api/dashboards/uid/p")
    assert r.status_code == 400
    assert r.json() == {"message": "Dashboard cannot be deleted because it was provisioned"}
    r = client.post(
        "/api/dashboards/db", json={"dashboard": {"uid": "p", "title": "P"}, "overwrite": True}
    )
    assert r.status_code == 400
    assert client.get("/api/dashboards/uid/p").json()["meta"]["provisioned"] is True


def test_search(client: TestClient) -> None:
    client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red", tags=["api"])})
    client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="b", title="Batch")})
    assert [h["uid"] for h in client.get("/api/search").json()] == ["b", "red"]
    assert [h["uid"] for h in client.get("/api/search?query=re").json()] == ["red"]
    assert [h["uid"] for h in client.get("/api/search?tag=api&type=dash-db").json()] == ["red"]
    assert client.get("/api/search?type=dash-folder").json() == []
    assert len(client.get("/api/search?limit=1").json()) == 1
    assert client.get("/api/search?limit=x").status_code == 400


def test_view_resolves_variables_and_interpolates_queries(client: TestClient) -> None:
    client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red")})
    view = client.get("/api/dashboards/uid/red/view?from=now-1h&to=now&var-job=api&var-job=web")
    assert view.status_code == 200
    data = view.json()
    assert data["range"] == {"from": T0 - 3_600_000, "to": T0}
    (var,) = data["variables"]
    assert [o["value"] for o in var["options"]] == ["$__all", "api", "web"]
    assert var["current"] == ["api", "web"]
    (panel,) = data["sections"][0]["panels"]
    assert panel["title"] == "Requests api + web"
    (target,) = panel["targets"]
    # 1 h over 640 points (12 of 24 columns of 1,280 px): 5.6 s -> 5 s; rate = 60 s.
    assert target["expr"] == 'sum(rate(http_requests_total{job=~"(api|web)"}[60s]))'
    assert target["step"] == 5
    assert target["legendFormat"] == "{{route}}"
    one = client.get("/api/dashboards/uid/red/view?var-job=api").json()
    assert one["sections"][0]["panels"][0]["targets"][0]["expr"].startswith(
        'sum(rate(http_requests_total{job=~"api"}'
    )


def test_view_errors(client: TestClient) -> None:
    assert client.get("/api/dashboards/uid/nope/view").status_code == 404
    client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red")})
    r = client.get("/api/dashboards/uid/red/view?from=yesterday")
    assert r.status_code == 400
    assert r.json() == {"message": "invalid time 'yesterday'"}
    r = client.get("/api/dashboards/uid/red/view?from=now&to=now-1h")
    assert r.status_code == 400


def test_over_real_http_as_a_script_would(client: TestClient) -> None:
    # The same calls through httpx's transport onto the app, as an upload script makes them.
    transport = httpx.ASGITransport(app=client.app)

    async def flow() -> list[int]:
        async with httpx.AsyncClient(transport=transport, base_url="http://grafana") as c:
            a = await c.post(
                "/api/dashboards/db",
                json={"dashboard": dashboard(uid="s"), "overwrite": True, "message": "ci"},
                headers={"Authorization": "Bearer ignored"},
            )
            b = await c.get("/api/dashboards/uid/s")
            return [a.status_code, b.status_code, b.json()["meta"].get("message") == "ci"]

    import asyncio  # noqa: PLC0415

    assert asyncio.run(flow()) == [200, 200, True]


def test_rate_interval_follows_the_servers_scrape_interval(service: DashboardService) -> None:
    api = GrafanaAPI(
        service,
        PrometheusVariables(MemoryStore(), Engine(MemoryStore())),
        clock=lambda: float(NOW_S),
        scrape_interval_s=lambda: 60.0,
    )
    client = TestClient(Starlette(routes=list(api.routes())))
    client.post("/api/dashboards/db", json={"dashboard": dashboard(uid="red")})
    view = client.get("/api/dashboards/uid/red/view?from=now-1h&to=now&var-job=api").json()
    expr = view["sections"][0]["panels"][0]["targets"][0]["expr"]
    assert expr.endswith("[240s]))")  # max(5 s + 60 s, 4 x 60 s)


def test_import_with_inputs_answers_as_grafana_and_replaces_data_source_references(
    client: TestClient,
) -> None:
    exported = dashboard(
        uid="node",
        __inputs=[{"name": "DS_PROM", "type": "datasource", "pluginId": "prometheus"}],
        __requires=[{"type": "panel", "id": "timeseries"}],
        id=42,
    )
    exported["panels"][0]["datasource"] = "${DS_PROM}"
    r = client.post(
        "/api/dashboards/import",
        json={
            "dashboard": exported,
            "overwrite": True,
            "inputs": [
                {"name": "DS_PROM", "type": "datasource", "pluginId": "prometheus", "value": "mine"}
            ],
            "folderUid": "",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {
        "uid": "node",
        "pluginId": "",
        "title": "RED",
        "imported": True,
        "importedUri": "db/red",
        "importedUrl": "/d/node/red",
        "slug": "red",
        "dashboardId": body["dashboardId"],
        "folderId": 0,
        "folderUid": "",
        "description": "",
        "path": "",
        "removed": False,
    }
    assert isinstance(body["dashboardId"], int)
    assert body["dashboardId"] != 42
    stored = client.get("/api/dashboards/uid/node").json()["dashboard"]
    assert stored["panels"][0]["datasource"] == "mine"
    assert "__inputs" not in stored
    # Without inputs every data source input takes Spyglass's Prometheus.
    r = client.post("/api/dashboards/import", json={"dashboard": exported, "overwrite": True})
    assert r.status_code == 200, r.text
    stored = client.get("/api/dashboards/uid/node").json()["dashboard"]
    assert stored["panels"][0]["datasource"] == "prometheus"


def test_import_errors_in_grafana_s_shape(client: TestClient) -> None:
    r = client.post("/api/dashboards/import", json={"dashboard": "x"})
    assert r.status_code == 400
    assert r.json() == {"message": "a dashboard is a JSON object"}
    r = client.post("/api/dashboards/import", json={"dashboard": dashboard(), "inputs": {}})
    assert r.status_code == 400
    assert r.json() == {"message": "inputs must be a list"}
    client.post("/api/dashboards/import", json={"dashboard": dashboard(uid="a")})
    r = client.post("/api/dashboards/import", json={"dashboard": dashboard(uid="b")})
    assert r.status_code == 412
    assert r.json()["status"] == "name-exists"
