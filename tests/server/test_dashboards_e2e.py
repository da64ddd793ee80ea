"""Dashboard provisioning in a real ``spyglass serve``: a Grafana provider file given with
``--dashboards-config-file`` loads every dashboard file, a bad file is logged with its path and
skipped, a changed file is picked up by polling, SIGHUP and ``/-/reload`` read everything again,
and the built-in dashboards are there."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
from tests.support.servers import spyglass


def search(url: str) -> dict[str, dict[str, object]]:
    return {h["uid"]: h for h in httpx.get(url + "/api/search", timeout=10).json()}


def wait_for(check: object, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)


def test_provider_file_dashboards_load_change_and_reload(tmp_path: Path) -> None:
    folder = tmp_path / "dashboards"
    folder.mkdir()
    (folder / "api.json").write_text(json.dumps({"uid": "api", "title": "API", "panels": []}))
    (folder / "bad.json").write_text("{ not json")
    providers = tmp_path / "providers.yaml"
    providers.write_text(
        "apiVersion: 1\n"
        "providers:\n"
        "  - name: team\n"
        "    folder: Team\n"
        "    type: file\n"
        "    updateIntervalSeconds: 1\n"
        "    options:\n"
        "      path: dashboards\n"
    )
    with spyglass(tmp_path / "data", "--dashboards-config-file", str(providers)) as sg:
        hits = search(sg.url)
        assert {"api", "spyglass-service", "spyglass-self"} <= set(hits)
        assert hits["api"]["folderTitle"] == "Team"
        meta = httpx.get(sg.url + "/api/dashboards/uid/api").json()["meta"]
        assert meta["provisioned"] is True
        assert meta["provisionedExternalId"] == str(folder / "api.json")
        assert f"skipped {folder / 'bad.json'}: not JSON" in sg.log_text()
        assert httpx.delete(sg.url + "/api/dashboards/uid/api").status_code == 400

        # Polling (every second here) picks up a new file.
        (folder / "web.json").write_text(json.dumps({"uid": "web", "title": "Web"}))
        wait_for(lambda: "web" in search(sg.url))

        # A second provider, added to the provider file, loads on SIGHUP and on /-/reload.
        more = tmp_path / "more"
        more.mkdir()
        (more / "db.json").write_text(json.dumps({"uid": "db", "title": "DB"}))
        providers.write_text(
            providers.read_text()
            + "  - name: more\n    type: file\n    updateIntervalSeconds: 3600\n"
            + f"    options:\n      path: {more}\n"
        )
        sg.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "db" in search(sg.url))
        (more / "db.json").write_text(json.dumps({"uid": "db", "title": "Databases"}))
        r = httpx.post(sg.url + "/-/reload", timeout=30)
        assert r.status_code == 200
        assert search(sg.url)["db"]["title"] == "Databases"

        # A broken provider file fails the reload and keeps what was loaded.
        providers.write_text("apiVersion: 7\n")
        r = httpx.post(sg.url + "/-/reload", timeout=30)
        assert r.status_code == 500
        assert "apiVersion" in r.text
        assert {"api", "web", "db"} <= set(search(sg.url))
