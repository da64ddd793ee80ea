"""Dashboards saved, read, searched and deleted with the rules of Grafana's dashboard API,
over a real SQLite state store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.state import FakeClock

from spyglass.dashboards import (
    DashboardConflict,
    DashboardError,
    DashboardRefused,
    DashboardService,
    Provisioned,
)
from spyglass.storage.state import SqlStateStore, open_state_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStateStore]:
    with open_state_store("", tmp_path) as s:
        yield s


@pytest.fixture
def service(store: SqlStateStore) -> DashboardService:
    return DashboardService(store, clock=FakeClock())


def dash(**fields: Any) -> dict[str, Any]:
    return {"title": "Service", "panels": [], **fields}


def test_create_generates_a_uid_and_answers_like_grafana(service: DashboardService) -> None:
    result = service.save(dash())
    assert len(result.uid) == 14
    assert result.version == 1
    assert result.url == f"/d/{result.uid}/service"
    assert result.as_json() == {
        "id": result.id,
        "uid": result.uid,
        "url": result.url,
        "status": "success",
        "version": 1,
        "slug": "service",
    }
    stored = service.get(result.uid)
    assert stored is not None
    assert stored.dashboard["uid"] == result.uid
    assert stored.dashboard["id"] == result.id
    assert stored.meta["version"] == 1
    assert stored.meta["provisioned"] is False
    assert stored.meta["created"] == "2023-11-14T22:13:20Z"


def test_unknown_fields_survive_a_round_trip(service: DashboardService) -> None:
    original = dash(uid="abc", schemaVersion=27, custom={"keep": [1, {"me": None}]})
    service.save(original)
    stored = service.get("abc")
    assert stored is not None
    assert stored.dashboard["custom"] == {"keep": [1, {"me": None}]}
    assert stored.dashboard["schemaVersion"] == 27


def test_saving_again_needs_the_version_or_overwrite(service: DashboardService) -> None:
    service.save(dash(uid="abc"))
    with pytest.raises(DashboardConflict) as info:
        service.save(dash(uid="abc"))
    assert info.value.status == "version-mismatch"
    assert str(info.value) == "The dashboard has been changed by someone else"
    assert service.save(dash(uid="abc", version=1)).version == 2
    with pytest.raises(DashboardConflict):
        service.save(dash(uid="abc", version=1))
    assert service.save(dash(uid="abc"), overwrite=True).version == 3


def test_the_id_stays_across_saves(service: DashboardService) -> None:
    first = service.save(dash(uid="abc"))
    again = service.save(dash(uid="abc", title="Renamed"), overwrite=True)
    assert first.id == again.id
    assert again.slug == "renamed"


def test_same_title_in_the_same_folder_is_name_exists(service: DashboardService) -> None:
    service.save(dash(uid="one"))
    with pytest.raises(DashboardConflict) as info:
        service.save(dash(uid="two", title="SERVICE"))
    assert info.value.status == "name-exists"
    service.save(dash(uid="three"), folder_uid="other")
    service.save(dash(uid="two"), overwrite=True)


def test_overwrite_without_a_uid_replaces_the_dashboard_of_the_same_title(
    service: DashboardService,
) -> None:
    first = service.save({"title": "Node"})
    again = service.save({"title": "node", "tags": ["x"]}, overwrite=True)
    assert again.uid == first.uid
    assert again.version == 2
    assert [h["uid"] for h in service.search()] == [first.uid]
    other = service.save({"title": "Node"}, overwrite=True, folder_uid="f")
    assert other.uid != first.uid


def test_invalid_is_a_dashboard_error(service: DashboardService) -> None:
    with pytest.raises(DashboardError, match="title"):
        service.save({"panels": []})


def test_search_by_title_and_tags(service: DashboardService) -> None:
    service.save(dash(uid="a", title="API latency", tags=["api", "red"]))
    service.save(dash(uid="b", title="Web", tags=["web"]))
    service.save(dash(uid="c", title="api errors", tags=["api"]))
    assert [h["uid"] for h in service.search()] == ["c", "a", "b"]  # by title, any case
    assert [h["uid"] for h in service.search("API")] == ["c", "a"]
    assert [h["uid"] for h in service.search(tags=("api", "red"))] == ["a"]
    hit = service.search("web")[0]
    assert hit == {
        "id": hit["id"],
        "uid": "b",
        "title": "Web",
        "uri": "db/web",
        "url": "/d/b/web",
        "slug": "",
        "type": "dash-db",
        "tags": ["web"],
        "isStarred": False,
        "sortMeta": 0,
    }


def test_delete(service: DashboardService) -> None:
    service.save(dash(uid="a"))
    gone = service.delete("a")
    assert gone is not None
    assert gone.title == "Service"
    assert service.get("a") is None
    assert service.delete("a") is None


def provisioned(uid: str, allow: bool = False, title: str = "Prov") -> Provisioned:
    return Provisioned(
        {"uid": uid, "title": title, "panels": []},
        provider="files",
        path=f"/etc/d/{uid}.json",
        folder="Ops",
        allow_ui_updates=allow,
        loaded_ms=1,
    )


def test_provisioned_dashboards_are_marked_and_protected(service: DashboardService) -> None:
    service.set_provisioned({"p": provisioned("p")})
    found = service.get("p")
    assert found is not None
    assert found.meta["provisioned"] is True
    assert found.meta["provisionedExternalId"] == "/etc/d/p.json"
    assert found.meta["folderTitle"] == "Ops"
    assert found.dashboard["id"] > 0
    with pytest.raises(DashboardRefused, match="Cannot save provisioned dashboard"):
        service.save({"uid": "p", "title": "x"}, overwrite=True)
    with pytest.raises(DashboardRefused, match="provisioned"):
        service.delete("p")
    assert [h["folderTitle"] for h in service.search()] == ["Ops"]


def test_allow_ui_updates_keeps_the_save_until_the_file_changes(
    service: DashboardService,
) -> None:
    service.set_provisioned({"p": provisioned("p", allow=True)})
    service.save({"uid": "p", "title": "Edited", "version": 1})
    found = service.get("p")
    assert found is not None
    assert found.title == "Edited"
    assert found.meta["provisioned"] is True
    service.set_provisioned({"p": provisioned("p", allow=True)})  # same file: the edit stays
    assert service.get("p").title == "Edited"  # type: ignore[union-attr]
    service.set_provisioned({"p": provisioned("p", allow=True, title="From file")})
    assert service.get("p").title == "From file"  # type: ignore[union-attr]
