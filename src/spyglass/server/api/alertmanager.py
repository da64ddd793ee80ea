"""Alertmanager's API v2 (``/api/v2/...``) over the router, so Prometheus and amtool work.

``POST /api/v2/alerts`` takes alerts as Alertmanager does: JSON only, Alertmanager's schema
errors (``{"code", "message"}`` with 400, 415 or 422) for bodies it cannot read, its validation
messages as a JSON string with 400 for alerts it refuses (the valid ones of the batch are kept),
and 200 with an empty body otherwise. ``GET /api/v2/alerts`` and ``/api/v2/alerts/groups`` list
unresolved alerts in Alertmanager's ``GettableAlert`` shape with the ``filter``, ``receiver``,
``active``, ``silenced``, ``inhibited``, ``unprocessed`` (and for groups ``muted``) parameters;
``/api/v2/status`` and ``/api/v2/receivers`` describe the config. Silences have their own routes
elsewhere; the router asks a ``Silencer`` for alerts' silence status.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.alerting import (
    AlertStatus,
    Matcher,
    MatcherError,
    Router,
    StoredAlert,
    parse_matcher,
)
from spyglass.core.alerts import Alert, format_time
from spyglass.core.version import __version__

# The Alertmanager release whose API Spyglass answers like (amtool warns when its own version
# differs from the server's); Spyglass's own version is in versionInfo.revision.
ALERTMANAGER_API_VERSION = "0.25.0"
# Keys whose values Alertmanager shows as <secret> in /api/v2/status (config.original).
SECRET_KEYS = frozenset(
    {
        "api_key",
        "api_secret",
        "api_url",
        "auth_password",
        "auth_secret",
        "bearer_token",
        "client_secret",
        "credentials",
        "password",
        "routing_key",
        "service_key",
        "slack_api_url",
        "smtp_auth_password",
        "smtp_auth_secret",
        "token",
        "user_key",
    }
)
_SECRET_LINE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_]+)(\s*:\s*)(\S.*)$")
_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True}
_BOOL |= {"0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


class SchemaError(Exception):
    """A body or parameter go-swagger would refuse: ``code`` and ``message`` as it writes them."""

    def __init__(self, status: int, code: int, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


def _json(value: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n",
        status,
        media_type="application/json",
    )


def _schema_error(exc: SchemaError) -> Response:
    return _json({"code": exc.code, "message": str(exc)}, exc.status)


def _parse_time(value: object, field: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, str):
        raise SchemaError(
            400, 400, f"json: cannot unmarshal {_go_kind(value)} into Go struct field "
            f"PostableAlert.{field} of type strfmt.DateTime"
        )  # fmt: skip
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SchemaError(400, 400, f"parsing time {json.dumps(value)}: not RFC 3339") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if moment.year == 1:  # Go's zero time: not set
        return 0
    return int(moment.timestamp() * 1000)


def _go_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _string_map(value: object, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SchemaError(
            400, 400, f"json: cannot unmarshal {_go_kind(value)} into Go struct field "
            f"Alert.{field} of type models.LabelSet"
        )  # fmt: skip
    for v in value.values():
        if not isinstance(v, str):
            raise SchemaError(
                400, 400, f"json: cannot unmarshal {_go_kind(v)} into Go struct field "
                f"Alert.{field} of type string"
            )  # fmt: skip
    return value


def _is_uri(text: str) -> bool:
    # go-openapi's "uri" format: url.ParseRequestURI, an absolute URL or an absolute path.
    return text.startswith("/") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$", text) is not None


def parse_postable_alerts(body: bytes) -> list[Alert]:
    """The alerts of a ``POST /api/v2/alerts`` body; ``SchemaError`` as go-swagger words it."""
    prefix = 'parsing alerts body from "" failed, because '
    if not body.strip():
        raise SchemaError(422, 602, "alerts in body is required")
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SchemaError(400, 400, prefix + str(exc)) from None
    if not isinstance(items, list):
        raise SchemaError(
            400, 400,
            prefix + f"json: cannot unmarshal {_go_kind(items)} into Go value of type "
            "models.PostableAlerts",
        )  # fmt: skip
    alerts = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise SchemaError(
                400, 400,
                prefix + f"json: cannot unmarshal {_go_kind(item)} into Go value of type "
                "models.PostableAlert",
            )  # fmt: skip
        try:
            labels = _string_map(item.get("labels"), "labels")
            annotations = _string_map(item.get("annotations"), "annotations")
            starts = _parse_time(item.get("startsAt"), "startsAt")
            ends = _parse_time(item.get("endsAt"), "endsAt")
        except SchemaError as exc:
            raise SchemaError(400, 400, prefix + str(exc)) from None
        url = item.get("generatorURL") or ""
        if not isinstance(url, str):
            raise SchemaError(
                400, 400, prefix + "json: cannot unmarshal into Go struct field "
                "PostableAlert.generatorURL of type strfmt.URI"
            )  # fmt: skip
        if "labels" not in item or item["labels"] is None:
            raise SchemaError(422, 602, f"{i}.labels in body is required")
        if url and not _is_uri(url):
            raise SchemaError(
                422, 601, f"{i}.generatorURL in body must be of type uri: {json.dumps(url)}"
            )
        alerts.append(
            Alert(
                tuple(sorted(labels.items())),
                tuple(sorted(annotations.items())),
                starts,
                ends,
                url,
            )
        )
    return alerts


def _bool_param(request: Request, name: str, default: bool = True) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in _BOOL:
        raise SchemaError(400, 400, f"{name} in query must be of type boolean: {json.dumps(raw)}")
    return _BOOL[raw]


def redact(text: str) -> str:
    """``text`` with the values of secret keys replaced by ``<secret>``."""
    out = []
    for line in text.splitlines(keepends=True):
        m = _SECRET_LINE.match(line.rstrip("\n"))
        if m and m.group(2) in SECRET_KEYS:
            end = "\n" if line.endswith("\n") else ""
            out.append(f"{m.group(1)}{m.group(2)}{m.group(3)}<secret>{end}")
        else:
            out.append(line)
    return "".join(out)


class AlertmanagerAPI:
    """The ``/api/v2`` routes over a ``Router``."""

    def __init__(self, router: Router, *, max_body_bytes: int = 0) -> None:
        self.router = router
        self.max_body_bytes = max_body_bytes

    def routes(self) -> list[BaseRoute]:
        """Starlette routes."""
        return [
            Route("/api/v2/alerts", _guarded(self.post_alerts), methods=["POST"]),
            Route("/api/v2/alerts", _guarded(self.get_alerts), methods=["GET"]),
            Route("/api/v2/alerts/groups", _guarded(self.get_groups), methods=["GET"]),
            Route("/api/v2/status", _guarded(self.status), methods=["GET"]),
            Route("/api/v2/receivers", _guarded(self.receivers), methods=["GET"]),
        ]

    async def post_alerts(self, request: Request) -> Response:
        """``POST /api/v2/alerts``."""
        ctype = request.headers.get("content-type", "application/octet-stream")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise SchemaError(
                415, 415,
                f"unsupported media type {json.dumps(ctype)}, only [application/json] are allowed",
            )  # fmt: skip
        alerts = parse_postable_alerts(await self._body(request))
        errors = self.router.receive(alerts)
        if errors:
            return _json("; ".join(errors), 400)
        return Response(b"", 200)

    async def _body(self, request: Request) -> bytes:
        # A flood must not be buffered whole before it is refused (--max-body-bytes).
        limit = self.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if limit and size > limit:
                    raise SchemaError(
                        413, 413, f"request body is too large (limit max_body_bytes={limit})"
                    )
                chunks.append(chunk)
        except ClientDisconnect:
            raise SchemaError(
                400, 400, "client disconnected before sending the whole body"
            ) from None
        return b"".join(chunks)

    def _filters(
        self, request: Request
    ) -> tuple[list[Matcher], Callable[[list[str]], bool], Callable[[AlertStatus], bool]]:
        matchers = []
        for text in request.query_params.getlist("filter"):
            try:
                matchers.append(parse_matcher(text))
            except MatcherError as exc:
                raise SchemaError(400, 400, str(exc)) from None
        receiver = request.query_params.get("receiver")
        pattern: re.Pattern[str] | None = None
        if receiver is not None:
            try:
                pattern = re.compile(f"^(?:{receiver})\\Z")
            except re.error as exc:
                raise SchemaError(
                    400, 400, f"failed to parse receiver param: error parsing regexp: {exc}"
                ) from None

        def receivers_ok(names: list[str]) -> bool:
            return pattern is None or any(pattern.match(n) for n in names)

        active = _bool_param(request, "active")
        silenced = _bool_param(request, "silenced")
        inhibited = _bool_param(request, "inhibited")
        unprocessed = _bool_param(request, "unprocessed")
        muted = _bool_param(request, "muted")

        def status_ok(s: AlertStatus) -> bool:
            if not active and s.state == "active":
                return False
            if not unprocessed and s.state == "unprocessed":
                return False
            if not silenced and s.silenced_by:
                return False
            if not inhibited and s.inhibited_by:
                return False
            return muted or not s.muted_by

        return matchers, receivers_ok, status_ok

    async def get_alerts(self, request: Request) -> Response:
        """``GET /api/v2/alerts``."""
        matchers, receivers_ok, status_ok = self._filters(request)
        now = self.router.clock.now_ms()
        inhibitor = self.router.inhibitor()
        out = []
        for alert in self.router.store:
            if alert.resolved_at(now):
                continue
            labels = alert.labels
            receivers = self.router.receivers_of(labels)
            if not receivers_ok(receivers):
                continue
            status = self.router.refresh_status(alert, inhibitor)
            if not status_ok(status) or not all(m.matches(labels) for m in matchers):
                continue
            out.append(gettable(alert, status, receivers))
        out.sort(key=lambda a: a["fingerprint"])
        return _json(out)

    async def get_groups(self, request: Request) -> Response:
        """``GET /api/v2/alerts/groups``."""
        matchers, receivers_ok, status_ok = self._filters(request)
        now = self.router.clock.now_ms()
        inhibitor = self.router.inhibitor()
        groups = []
        for group in self.router.groups():
            if not receivers_ok([group.receiver]):
                continue
            alerts = []
            for alert in group.snapshot(now):
                if alert.resolved_at(now):
                    continue
                stored = self.router.store.get(alert.fingerprint) or alert
                status = self.router.refresh_status(stored, inhibitor)
                labels = stored.labels
                if not status_ok(status) or not all(m.matches(labels) for m in matchers):
                    continue
                alerts.append(gettable(stored, status, self.router.receivers_of(labels)))
            if alerts:
                groups.append(
                    {
                        "alerts": alerts,
                        "labels": dict(sorted(group.labels.items())),
                        "receiver": {"name": group.receiver},
                    }
                )
        groups.sort(key=functools.cmp_to_key(_group_order))
        return _json(groups)

    async def status(self, request: Request) -> Response:
        """``GET /api/v2/status``."""
        loaded = self.router.loaded
        return _json(
            {
                "cluster": {"peers": [], "status": "disabled"},
                "config": {"original": redact(loaded.text) if loaded is not None else ""},
                "uptime": format_time(self.router.uptime_ms()),
                "versionInfo": {
                    "branch": "spyglass",
                    "buildDate": "",
                    "buildUser": "",
                    "goVersion": "",
                    "revision": f"spyglass-{__version__}",
                    "version": ALERTMANAGER_API_VERSION,
                },
            }
        )

    async def receivers(self, request: Request) -> Response:
        """``GET /api/v2/receivers``."""
        config = self.router.config
        names = [r.name for r in config.receivers] if config is not None else []
        return _json([{"name": n} for n in names])


def gettable(alert: StoredAlert, status: AlertStatus, receivers: Sequence[str]) -> dict[str, Any]:
    """Alertmanager's ``GettableAlert`` JSON of ``alert``."""
    a = alert.alert
    out: dict[str, Any] = {
        "annotations": dict(a.annotations),
        "endsAt": format_time(a.ends_at_ms),
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": r} for r in receivers],
        "startsAt": format_time(a.starts_at_ms),
        "status": {
            "inhibitedBy": list(status.inhibited_by),
            "mutedBy": list(status.muted_by),
            "silencedBy": list(status.silenced_by),
            "state": status.state,
        },
        "updatedAt": format_time(alert.updated_ms),
    }
    if a.generator_url:
        out["generatorURL"] = a.generator_url
    out["labels"] = dict(a.labels)
    return out


def _group_order(x: Mapping[str, Any], y: Mapping[str, Any]) -> int:
    a, b = x["labels"], y["labels"]
    if a == b:
        ra: str = x["receiver"]["name"]
        rb: str = y["receiver"]["name"]
        return (ra > rb) - (ra < rb)
    return -1 if _before(a, b) else 1


def _before(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted([*a, *b]):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name] < b[name]
    return False


def _guarded(
    fn: Callable[[Request], Any],
) -> Callable[[Request], Any]:
    @functools.wraps(fn)
    async def handler(request: Request) -> Response:
        try:
            response: Response = await fn(request)
        except SchemaError as exc:
            return _schema_error(exc)
        return response

    return handler


__all__ = [
    "ALERTMANAGER_API_VERSION",
    "AlertmanagerAPI",
    "SchemaError",
    "gettable",
    "parse_postable_alerts",
    "redact",
]
