"""Dashboards provisioned from Grafana-style provider files: every JSON file under the path,
bad files skipped and named, reloaded when files change, errors in the provider file with
file and field; the built-in dashboards load."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ConfigError
from spyglass.dashboards import BUILTIN_DIR, DashboardService, Provisioner, parse_providers, scan
from spyglass.storage.state import open_state_store


@pytest.fixture
def service(tmp_path: Path) -> Iterator[DashboardService]:
    with open_state_store("", tmp_path / "state") as store:
        yield DashboardService(store)


def write(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return path


def provider_file(tmp_path: Path, **extra: object) -> Path:
    options = {"path": "dashboards"}
    entry = {"name": "files", "folder": "Ops", "type": "file", "options": options, **extra}
    return write(tmp_path / "providers.yaml", json.dumps({"apiVersion": 1, "providers": [entry]}))


def test_parse_grafana_provider_yaml() -> None:
    text = """
apiVersion: 1
providers:
  - name: a
    orgId: 1
    folder: Services
    folderUid: svc
    type: file
    disableDeletion: false
    allowUiUpdates: true
    updateIntervalSeconds: 30
    options:
      path: /var/lib/dashboards
      foldersFromFilesStructure: false
"""
    (p,) = parse_providers(text, "/etc/p.yaml")
    assert p.name == "a"
    assert p.folder == "Services"
    assert p.folder_uid == "svc"
    assert p.allow_ui_updates is True
    assert p.update_interval_s == 30
    assert p.path == "/var/lib/dashboards"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("apiVersion: 2\nproviders: []", "apiVersion", "unsupported apiVersion"),
        ("providers: {}", "providers", "providers must be a list"),
        ("providers: [{type: file, options: {path: x}}]", "providers[0].name", "needs a name"),
        (
            "providers: [{name: a, type: http, options: {path: x}}]",
            "providers[0].type",
            "not supported",
        ),
        ("providers: [{name: a}]", "providers[0].options.path", "options.path is required"),
        (
            "providers: [{name: a, options: {path: x}, allowUiUpdates: maybe}]",
            "providers[0].allowUiUpdates",
            "must be a bool",
        ),
        (
            "providers: [{name: a, options: {path: x}}, {name: a, options: {path: y}}]",
            "providers[1].name",
            "used twice",
        ),
    ],
)
def test_provider_errors_name_file_and_field(text: str, field: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_providers(text, "p.yaml")
    assert info.value.field == field
    assert info.value.file == "p.yaml"


def test_not_yaml_has_a_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_providers("providers:\n  - name: [a\n", "p.yaml")
    assert info.value.line > 0


def test_every_json_file_loads_bad_ones_are_skipped_and_logged(
    tmp_path: Path, service: DashboardService, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "dashboards"
    write(folder / "a.json", {"uid": "a", "title": "A", "panels": []})
    write(folder / "nested" / "b.json", {"title": "B without uid"})
    write(folder / "broken.json", "{not json")
    write(folder / "notdash.json", {"panels": []})
    write(folder / "dup.json", {"uid": "a", "title": "Duplicate"})
    write(folder / "readme.txt", "ignored")
    p = Provisioner(service, str(provider_file(tmp_path)), builtin=False)
    with caplog.at_level(logging.ERROR, "spyglass.dashboards"):
        p.load()
    found = service.provisioned()
    assert sorted(d.dashboard["title"] for d in found.values()) == ["A", "B without uid"]
    skipped = {Path(path).name: why for path, why in p.errors}
    assert set(skipped) == {"broken.json", "notdash.json", "dup.json"}
    assert "not JSON" in skipped["broken.json"]
    assert "title" in skipped["notdash.json"]
    assert "already used" in skipped["dup.json"]
    assert str(folder / "broken.json") in caplog.text
    hit = service.search("A")[0]
    assert hit["folderTitle"] == "Ops"
    stored = service.get("a")
    assert stored is not None
    assert stored.meta["provisioned"] is True


def test_uid_derived_from_path_is_stable(tmp_path: Path, service: DashboardService) -> None:
    folder = tmp_path / "dashboards"
    write(folder / "b.json", {"title": "B"})
    p = Provisioner(service, str(provider_file(tmp_path)), builtin=False)
    p.load()
    first = set(service.provisioned())
    p.load()
    assert set(service.provisioned()) == first
    (uid,) = first
    assert len(uid) == 14


def test_poll_picks_up_changes_and_removals(tmp_path: Path, service: DashboardService) -> None:
    folder = tmp_path / "dashboards"
    f = write(folder / "a.json", {"uid": "a", "title": "A"})
    p = Provisioner(service, str(provider_file(tmp_path)), builtin=False)
    p.load()
    assert p.poll() is False
    write(f, {"uid": "a", "title": "A2"})
    os.utime(f, ns=(1, 1))  # a different mtime whatever the file system's resolution
    assert p.poll() is True
    assert service.get("a").title == "A2"  # type: ignore[union-attr]
    write(folder / "c.json", {"uid": "c", "title": "C"})
    f.unlink()
    assert p.poll() is True
    assert set(service.provisioned()) == {"c"}


def test_a_bad_provider_file_keeps_the_dashboards_loaded_before(
    tmp_path: Path, service: DashboardService
) -> None:
    write(tmp_path / "dashboards" / "a.json", {"uid": "a", "title": "A"})
    providers = provider_file(tmp_path)
    p = Provisioner(service, str(providers), builtin=False)
    p.load()
    providers.write_text("apiVersion: 9")
    with pytest.raises(ConfigError):
        p.load()
    assert set(service.provisioned()) == {"a"}


def test_builtin_dashboards_are_provisioned_and_valid(service: DashboardService) -> None:
    p = Provisioner(service, "")
    p.load()
    assert p.errors == []
    assert set(service.provisioned()) == {"spyglass-service", "spyglass-self"}
    assert {p.name for p in BUILTIN_DIR.iterdir()} == {"service.json", "spyglass.json"}


def test_missing_path_is_reported(tmp_path: Path) -> None:
    (p,) = parse_providers(f"providers: [{{name: a, options: {{path: {tmp_path}/none}}}}]")
    result = scan([p], 0)
    assert result.errors == [(f"{tmp_path}/none", "no such file or folder")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_provider_text_is_providers_or_a_config_error(text: str) -> None:
    try:
        providers = parse_providers(text, "p.yaml")
    except ConfigError as exc:
        where = exc.file
    else:
        assert all(p.name and p.path for p in providers)
        return
    assert where == "p.yaml"
