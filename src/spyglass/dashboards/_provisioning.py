"""Dashboards provisioned from files, as Grafana's ``provisioning/dashboards/*.yaml`` does it.

The provider file::

    apiVersion: 1
    providers:
      - name: services
        folder: Services
        folderUid: services      # optional
        type: file
        allowUiUpdates: false
        updateIntervalSeconds: 10
        options:
          path: /etc/dashboards  # a folder (every *.json under it) or one file

Every ``*.json`` file under ``options.path`` is a dashboard. A file that is not one is logged
with its path and skipped; the others still load. A dashboard without a uid gets one derived
from its provider and path, so it keeps its URL across restarts. The same uid in two files:
the first (by path) wins, the other is logged. The ``Provisioner`` component reads everything at
start, again every ``updateIntervalSeconds`` (the shortest of all providers) when a file
changed, and on reload (SIGHUP, ``/-/reload``); a provider file that does not load is a
``ConfigError`` naming its file and field, and the dashboards loaded before stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from spyglass.core.config import Config
from spyglass.core.errors import ConfigError, SpyglassError
from spyglass.dashboards._model import decode_json, validate_dashboard
from spyglass.dashboards._service import DashboardService, Provisioned

log = logging.getLogger("spyglass.dashboards")

DEFAULT_UPDATE_INTERVAL_S = 10
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
BUILTIN_PROVIDER = "spyglass"


@dataclass(frozen=True)
class Provider:
    """One entry of a provider file's ``providers``."""

    name: str
    path: str
    folder: str = ""
    folder_uid: str = ""
    allow_ui_updates: bool = False
    update_interval_s: int = DEFAULT_UPDATE_INTERVAL_S
    disable_deletion: bool = False


def _field(
    entry: dict[str, Any], key: str, kind: type, default: Any, *, file: str, where: str
) -> Any:
    value = entry.get(key, default)
    if value is None:
        return default
    if kind is int and isinstance(value, bool):
        raise ConfigError(f"{key} must be a number", file=file, field=f"{where}.{key}")
    if not isinstance(value, kind):
        raise ConfigError(
            f"{key} must be a {kind.__name__}, not {value!r}", file=file, field=f"{where}.{key}"
        )
    return value


def parse_providers(text: str, file: str = "") -> list[Provider]:
    """The providers of a provider file's text; ``ConfigError`` naming the file and field."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not YAML: {getattr(exc, 'problem', exc)}",
            file=file,
            line=mark.line + 1 if mark else 0,
        ) from None
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise ConfigError("a provider file is a mapping with apiVersion and providers", file=file)
    version = doc.get("apiVersion", 1)
    if version not in (1, "1"):
        raise ConfigError(f"unsupported apiVersion {version!r} (1)", file=file, field="apiVersion")
    raw = doc.get("providers")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise ConfigError("providers must be a list", file=file, field="providers")
    out: list[Provider] = []
    names: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"providers[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError("a provider is a mapping", file=file, field=where)
        name = _field(entry, "name", str, "", file=file, where=where)
        if not name:
            raise ConfigError("provider needs a name", file=file, field=f"{where}.name")
        if name in names:
            raise ConfigError(
                f"provider name {name!r} used twice", file=file, field=f"{where}.name"
            )
        names.add(name)
        kind = _field(entry, "type", str, "file", file=file, where=where)
        if kind != "file":
            raise ConfigError(
                f"provider type {kind!r} is not supported (file)", file=file, field=f"{where}.type"
            )
        options = _field(entry, "options", dict, {}, file=file, where=where)
        path = options.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigError("options.path is required", file=file, field=f"{where}.options.path")
        interval = _field(
            entry, "updateIntervalSeconds", int, DEFAULT_UPDATE_INTERVAL_S, file=file, where=where
        )
        base = Path(file).parent if file else Path()
        out.append(
            Provider(
                name=name,
                path=str(base / Path(path).expanduser()),
                folder=_field(entry, "folder", str, "", file=file, where=where),
                folder_uid=_field(entry, "folderUid", str, "", file=file, where=where),
                allow_ui_updates=_field(
                    entry, "allowUiUpdates", bool, False, file=file, where=where
                ),
                update_interval_s=max(interval, 1),
                disable_deletion=_field(
                    entry, "disableDeletion", bool, False, file=file, where=where
                ),
            )
        )
    return out


def load_providers(file: str) -> list[Provider]:
    """The providers of the provider file ``file``."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=file) from None
    return parse_providers(text, file)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*.json") if p.is_file())


def fingerprint(providers: Sequence[Provider]) -> tuple[tuple[str, int, int], ...]:
    """What changes when a dashboard file is added, removed or written."""
    out = []
    for provider in providers:
        for f in _files(Path(provider.path)):
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


def _derived_uid(provider: str, path: Path, root: Path) -> str:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return hashlib.sha1(f"{provider}/{rel}".encode(), usedforsecurity=False).hexdigest()[:14]


@dataclass(frozen=True)
class ScanResult:
    """Dashboards found by uid, and the files skipped with why."""

    dashboards: dict[str, Provisioned]
    errors: list[tuple[str, str]]


def scan(providers: Sequence[Provider], now_ms: int) -> ScanResult:
    """Read every provider's dashboard files (see the module docstring)."""
    found: dict[str, Provisioned] = {}
    errors: list[tuple[str, str]] = []
    for provider in providers:
        root = Path(provider.path)
        if not root.exists():
            errors.append((str(root), "no such file or folder"))
            continue
        for f in _files(root):
            try:
                dash = validate_dashboard(decode_json(f.read_bytes()))
            except (SpyglassError, OSError) as exc:
                errors.append((str(f), str(exc)))
                continue
            uid = dash.get("uid") or _derived_uid(provider.name, f, root)
            if uid in found:
                errors.append((str(f), f"uid {uid!r} is already used by {found[uid].path}"))
                continue
            dash = {**dash, "uid": uid}
            found[uid] = Provisioned(
                dashboard=dash,
                provider=provider.name,
                path=str(f),
                folder=provider.folder,
                folder_uid=provider.folder_uid,
                allow_ui_updates=provider.allow_ui_updates,
                loaded_ms=now_ms,
            )
    return ScanResult(found, errors)


class Provisioner:
    """The ``dashboards`` component: keeps the service's provisioned dashboards in step with
    the built-in ones and the provider file's (see the module docstring)."""

    name = "dashboards"

    def __init__(
        self,
        service: DashboardService,
        config_file: str = "",
        *,
        builtin: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.service = service
        self.config_file = config_file
        self.builtin = builtin
        self.clock = clock
        self.providers: list[Provider] = []
        self.errors: list[tuple[str, str]] = []
        self._seen: tuple[tuple[str, int, int], ...] | None = None
        self._task: asyncio.Task[None] | None = None

    def _all_providers(self, user: Sequence[Provider]) -> list[Provider]:
        own = [Provider(BUILTIN_PROVIDER, str(BUILTIN_DIR), folder="Spyglass")]
        return [*(own if self.builtin else []), *user]

    def load(self) -> None:
        """Read the provider file and every dashboard now; ``ConfigError`` keeps the old ones."""
        user = load_providers(self.config_file) if self.config_file else []
        self.providers = self._all_providers(user)
        self._apply()

    def _apply(self) -> None:
        self._seen = fingerprint(self.providers)
        result = scan(self.providers, int(self.clock() * 1000))
        for path, why in result.errors:
            log.error("dashboard provisioning: skipped %s: %s", path, why)
        self.errors = result.errors
        self.service.set_provisioned(result.dashboards)
        log.info(
            "dashboard provisioning: %d dashboards from %d providers",
            len(result.dashboards),
            len(self.providers),
        )

    def poll(self) -> bool:
        """Read the dashboards again if a file changed; whether it did."""
        if fingerprint(self.providers) == self._seen:
            return False
        self._apply()
        return True

    async def start(self) -> None:
        """Load everything, then watch the files."""
        await asyncio.to_thread(self.load)
        interval = min((p.update_interval_s for p in self.providers), default=0)
        if interval:
            self._task = asyncio.create_task(self._watch(interval))

    async def _watch(self, interval_s: int) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await asyncio.to_thread(self.poll)
            except Exception:  # a failing poll must not end the watch
                log.exception("dashboard provisioning: polling failed")

    async def reload(self, config: Config) -> None:
        """Read the provider file and the dashboards again (the scrape config is not used)."""
        del config
        await asyncio.to_thread(self.load)

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def routes(self) -> Sequence[Any]:
        """Provisioning serves no routes (the dashboards API does)."""
        return ()

    def collectors(self) -> Sequence[Collector]:
        """How many dashboards are provisioned and how many files were skipped."""
        return [_ProvisioningCollector(self)]


class _ProvisioningCollector(Collector):
    def __init__(self, provisioner: Provisioner) -> None:
        self.provisioner = provisioner

    def collect(self) -> list[Metric]:
        dashboards = GaugeMetricFamily(
            "spyglass_dashboards_provisioned", "Dashboards loaded from provisioning files."
        )
        dashboards.add_metric([], len(self.provisioner.service.provisioned()))
        skipped = GaugeMetricFamily(
            "spyglass_dashboards_provisioning_errors",
            "Dashboard files skipped at the last provisioning scan.",
        )
        skipped.add_metric([], len(self.provisioner.errors))
        return [dashboards, skipped]


__all__ = [
    "BUILTIN_DIR",
    "BUILTIN_PROVIDER",
    "DEFAULT_UPDATE_INTERVAL_S",
    "Provider",
    "Provisioner",
    "ScanResult",
    "fingerprint",
    "load_providers",
    "parse_providers",
    "scan",
]
