"""Dashboards kept in the control-plane store, plus the provisioned ones, with Grafana's rules.

Saving follows Grafana's dashboard API: a missing ``uid`` gets one (with ``overwrite``, the uid of
the dashboard of the same title in the folder, which it replaces); saving over a dashboard
without ``overwrite`` needs the ``version`` last read (else ``VersionMismatch``); a new title
already used by another dashboard in the same folder is ``NameExists`` unless ``overwrite``;
every save increments ``version``. A dashboard's numeric ``id`` is the store's version of its
first save, which the store never reuses.

Provisioned dashboards (from files, ``_provisioning``) live in memory, marked
``meta.provisioned``; they cannot be deleted through the API, and saving over one is refused
unless its provider has ``allowUiUpdates``, in which case the saved copy is kept in the store and
shown until the file changes.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from spyglass.core.errors import Conflict, SpyglassError
from spyglass.dashboards._model import new_uid, slugify, validate_dashboard
from spyglass.storage.ports import StateStore

KIND = "dashboard"
# Largest number of dashboards one search returns (Grafana's default limit is 1000 too).
SEARCH_LIMIT = 5000


class DashboardConflict(SpyglassError):
    """A save Grafana refuses with 412: ``status`` is Grafana's word for why."""

    def __init__(self, status: str, message: str) -> None:
        self.status = status
        super().__init__(message)


class DashboardRefused(SpyglassError):
    """A save or delete Grafana refuses with 400 (provisioned dashboards)."""


def _version_mismatch() -> DashboardConflict:
    return DashboardConflict("version-mismatch", "The dashboard has been changed by someone else")


@dataclass(frozen=True)
class Provisioned:
    """A dashboard read from a provisioning file."""

    dashboard: dict[str, Any]
    provider: str
    path: str
    folder: str = ""
    folder_uid: str = ""
    allow_ui_updates: bool = False
    loaded_ms: int = 0


@dataclass(frozen=True)
class Stored:
    """A dashboard and Grafana's ``meta`` for it."""

    dashboard: dict[str, Any]
    meta: dict[str, Any]

    @property
    def uid(self) -> str:
        """Its uid."""
        return str(self.dashboard.get("uid", ""))

    @property
    def title(self) -> str:
        """Its title."""
        return str(self.dashboard.get("title", ""))


@dataclass(frozen=True)
class SaveResult:
    """What ``POST /api/dashboards/db`` answers on success."""

    id: int
    uid: str
    url: str
    version: int
    slug: str
    folder_uid: str = ""

    def as_json(self) -> dict[str, Any]:
        """Grafana's response body."""
        body: dict[str, Any] = {
            "id": self.id,
            "uid": self.uid,
            "url": self.url,
            "status": "success",
            "version": self.version,
            "slug": self.slug,
        }
        if self.folder_uid:
            body["folderUid"] = self.folder_uid
        return body


def dashboard_url(uid: str, title: str) -> str:
    """Grafana's path of a dashboard: ``/d/<uid>/<slug>``."""
    return f"/d/{uid}/{slugify(title)}"


def _rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_id(dashboard: dict[str, Any], uid: str) -> dict[str, Any]:
    return {**dashboard, "id": provisioned_id(uid)}


def provisioned_id(uid: str) -> int:
    """A stable id for a provisioned dashboard, far above the store's ids."""
    return 2**40 + zlib.crc32(uid.encode())


@dataclass
class DashboardService:
    """Grafana's dashboard operations over a ``StateStore`` and the provisioned dashboards."""

    store: StateStore
    clock: Any = field(default=lambda: time.time_ns() // 1_000_000)
    _provisioned: dict[str, Provisioned] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- provisioning ----------------------------------------------------------------------
    def set_provisioned(self, dashboards: Mapping[str, Provisioned]) -> None:
        """Replace the provisioned dashboards; UI-saved copies of changed files are dropped."""
        with self._lock:
            old = self._provisioned
            self._provisioned = dict(dashboards)
        for uid, p in dashboards.items():
            before = old.get(uid)
            if before is not None and before.dashboard != p.dashboard:
                doc = self.store.get(KIND, uid)
                if doc is not None and doc.value.get("meta", {}).get("provisioned"):
                    self.store.delete(KIND, uid)

    def provisioned(self) -> dict[str, Provisioned]:
        """The provisioned dashboards by uid."""
        with self._lock:
            return dict(self._provisioned)

    # -- reads -----------------------------------------------------------------------------
    def get(self, uid: str) -> Stored | None:
        """The dashboard with ``uid`` and its meta, or None."""
        doc = self.store.get(KIND, uid)
        if doc is not None:
            return Stored(doc.value["dashboard"], self._meta(doc.value["meta"], uid))
        p = self.provisioned().get(uid)
        if p is None:
            return None
        return Stored(_with_id(p.dashboard, uid), self._provisioned_meta(p, uid))

    def _meta(self, meta: dict[str, Any], uid: str) -> dict[str, Any]:
        title = str(meta.get("title", ""))
        out = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canStar": False,
            "canDelete": not meta.get("provisioned", False),
            "slug": slugify(title),
            "url": dashboard_url(uid, title),
            "expires": "0001-01-01T00:00:00Z",
            "created": _rfc3339(int(meta.get("created_ms", 0))),
            "updated": _rfc3339(int(meta.get("updated_ms", 0))),
            "updatedBy": "admin",
            "createdBy": "admin",
            "version": meta.get("version", 1),
            "hasAcl": False,
            "isFolder": False,
            "folderId": 0,
            "folderUid": meta.get("folderUid", ""),
            "folderTitle": meta.get("folderTitle", "") or "General",
            "folderUrl": "",
            "provisioned": bool(meta.get("provisioned", False)),
            "provisionedExternalId": meta.get("provisionedExternalId", ""),
        }
        if meta.get("message"):
            out["message"] = meta["message"]
        return out

    def _provisioned_meta(self, p: Provisioned, uid: str) -> dict[str, Any]:
        return self._meta(
            {
                "title": p.dashboard.get("title", ""),
                "created_ms": p.loaded_ms,
                "updated_ms": p.loaded_ms,
                "version": p.dashboard.get("version", 1),
                "folderUid": p.folder_uid,
                "folderTitle": p.folder,
                "provisioned": True,
                "provisionedExternalId": p.path,
            },
            uid,
        )

    def all(self) -> list[Stored]:
        """Every dashboard (stored ones shadow provisioned ones of the same uid), by title."""
        found: dict[str, Stored] = {}
        after = ""
        while True:
            page = self.store.scan(KIND, start_after=after, limit=500)
            for doc in page:
                found[doc.key] = Stored(
                    doc.value["dashboard"], self._meta(doc.value["meta"], doc.key)
                )
            if len(page) < 500:
                break
            after = page[-1].key
        for uid, p in self.provisioned().items():
            found.setdefault(
                uid, Stored(_with_id(p.dashboard, uid), self._provisioned_meta(p, uid))
            )
        return sorted(found.values(), key=lambda s: (s.title.lower(), s.uid))

    def search(
        self, query: str = "", tags: tuple[str, ...] = (), limit: int = SEARCH_LIMIT
    ) -> list[dict[str, Any]]:
        """Grafana's ``/api/search`` hits: title containing ``query`` (any case), every tag of
        ``tags`` present, sorted by title."""
        q = query.lower()
        hits = []
        for s in self.all():
            dash_tags = [t for t in s.dashboard.get("tags", []) if isinstance(t, str)]
            if q and q not in s.title.lower():
                continue
            if any(t not in dash_tags for t in tags):
                continue
            slug = slugify(s.title)
            hit: dict[str, Any] = {
                "id": s.dashboard.get("id", 0),
                "uid": s.uid,
                "title": s.title,
                "uri": f"db/{slug}",
                "url": dashboard_url(s.uid, s.title),
                "slug": "",
                "type": "dash-db",
                "tags": dash_tags,
                "isStarred": False,
                "sortMeta": 0,
            }
            if s.meta.get("folderUid"):
                hit["folderUid"] = s.meta["folderUid"]
            if s.meta.get("folderTitle") not in ("", "General"):
                hit["folderTitle"] = s.meta["folderTitle"]
            hits.append(hit)
            if len(hits) >= limit:
                break
        return hits

    # -- writes ----------------------------------------------------------------------------
    def save(
        self,
        dashboard: Any,
        *,
        overwrite: bool = False,
        folder_uid: str = "",
        message: str = "",
    ) -> SaveResult:
        """Create or update a dashboard with Grafana's rules (see the module docstring).

        Raises ``DashboardError`` for what is not a dashboard, ``DashboardConflict`` for
        Grafana's 412 cases and ``DashboardRefused`` for a provisioned one.
        """
        dash = validate_dashboard(dashboard)
        title = str(dash["title"])
        uid = dash.get("uid") or (self._same_title(title, folder_uid) if overwrite else "")
        uid = uid or new_uid()
        provisioned = self.provisioned().get(uid)
        if provisioned is not None and not provisioned.allow_ui_updates:
            raise DashboardRefused("Cannot save provisioned dashboard")
        existing = self.store.get(KIND, uid)
        posted_version = dash.get("version")
        posted = posted_version if isinstance(posted_version, int) else 0
        if existing is not None:
            current = int(existing.value["meta"].get("version", 1))
            if not overwrite and posted != current:
                raise _version_mismatch()
        elif provisioned is not None:
            current = int(provisioned.dashboard.get("version", 1) or 1)
        else:
            current = 0
        if not overwrite:
            folder = folder_uid or (provisioned.folder_uid if provisioned else "")
            for other in self.all():
                if (
                    other.uid != uid
                    and other.title.lower() == title.lower()
                    and other.meta.get("folderUid", "") == folder
                ):
                    raise DashboardConflict(
                        "name-exists", "A dashboard with the same name in the folder already exists"
                    )
        now = int(self.clock())
        version = current + 1
        meta: dict[str, Any] = {
            "title": title,
            "version": version,
            "created_ms": existing.value["meta"].get("created_ms", now) if existing else now,
            "updated_ms": now,
            "folderUid": folder_uid,
            "folderTitle": "",
            "message": message,
        }
        if provisioned is not None:
            meta.update(
                provisioned=True,
                provisionedExternalId=provisioned.path,
                folderUid=folder_uid or provisioned.folder_uid,
                folderTitle=provisioned.folder,
            )
        stored = dict(dash)
        stored["uid"] = uid
        stored["version"] = version
        if existing is not None:
            dash_id = int(existing.value["meta"].get("id", 0))
        elif provisioned is not None:
            dash_id = provisioned_id(uid)
        else:
            dash_id = 0
        stored["id"] = dash_id or None
        try:
            doc = self.store.put(
                KIND,
                uid,
                {"dashboard": stored, "meta": {**meta, "id": dash_id}},
                expected_version=existing.version if existing else 0,
            )
            if not dash_id:
                # The first save's store version becomes its id: unique, never reused.
                dash_id = doc.version
                stored["id"] = dash_id
                self.store.put(
                    KIND,
                    uid,
                    {"dashboard": stored, "meta": {**meta, "id": dash_id}},
                    expected_version=doc.version,
                )
        except Conflict:
            raise _version_mismatch() from None
        return SaveResult(
            id=dash_id,
            uid=uid,
            url=dashboard_url(uid, title),
            version=version,
            slug=slugify(title),
            folder_uid=str(meta["folderUid"]),
        )

    def _same_title(self, title: str, folder_uid: str) -> str:
        """The uid of the dashboard titled ``title`` in the folder, or ``""``: Grafana's
        overwrite of a dashboard without a uid replaces the one of the same name."""
        for other in self.all():
            if (
                other.title.lower() == title.lower()
                and other.meta.get("folderUid", "") == folder_uid
            ):
                return other.uid
        return ""

    def delete(self, uid: str) -> Stored | None:
        """Delete a stored dashboard; None if there is none. ``DashboardRefused`` for a
        provisioned one."""
        found = self.get(uid)
        if found is None:
            return None
        if found.meta.get("provisioned"):
            raise DashboardRefused("Dashboard cannot be deleted because it was provisioned")
        self.store.delete(KIND, uid)
        return found


__all__ = [
    "KIND",
    "SEARCH_LIMIT",
    "DashboardConflict",
    "DashboardRefused",
    "DashboardService",
    "Provisioned",
    "SaveResult",
    "Stored",
    "dashboard_url",
    "provisioned_id",
]
