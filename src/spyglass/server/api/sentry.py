"""Sentry's ingest endpoints, so ``sentry_sdk.init(dsn="http://<key>@<spyglass>/<project>")``
works unchanged.

- ``POST /api/<project>/envelope/``: an envelope (what every current SDK sends); its event
  items become error events, the other items (sessions, client reports, transactions,
  attachments, ...) are accepted and dropped. Answer: ``{"id": "<event id>"}`` (``{}`` when the
  envelope names no event), as Relay answers.
- ``POST /api/<project>/store/``: one event as JSON (older SDKs); ``{"id": "<event id>"}``.

Both also answer without the trailing slash, and ``OPTIONS`` for a browser's CORS preflight
with Relay's CORS policy (any origin; ``POST``; the headers SDKs send; ``X-Sentry-Error``,
``X-Sentry-Rate-Limits`` and ``Retry-After`` exposed; one hour max age).

Who sends: the DSN's public key, from ``X-Sentry-Auth``, ``Authorization``, the ``sentry_key``
query parameter or the envelope header's ``dsn``. Without one: 401. With a key the
``--errors-keys`` setting does not list: 403, as Relay refuses a disabled project. An empty
setting accepts every key.

Errors are Relay's: ``{"detail": "...", "causes": [...]}`` with 400 for what the client got
wrong, 413 for a body over ``--max-body-bytes``, and 429 with ``Retry-After`` and
``X-Sentry-Rate-Limits`` when storage cannot take more for now (SDKs then back off instead of
retrying at once). Every error also carries its text in ``X-Sentry-Error``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, ConfigError, LimitExceeded, SpyglassError, Unavailable
from spyglass.errors import ErrorTracker
from spyglass.ingest.compression import decode_body
from spyglass.ingest.sentry import Decoded, decode_envelope, decode_store, project_id, public_key
from spyglass.server.api._ingest_http import ReportsRefusals, read_body, too_large
from spyglass.server.rejections import RejectionLog

log = logging.getLogger(__name__)

RETRY_AFTER_S = 60  # how long an SDK is asked to hold off while storage catches up
CORS_ALLOW_HEADERS = (
    "x-sentry-auth,x-requested-with,x-forwarded-for,origin,referer,accept,content-type,"
    "authentication,authorization,content-encoding,transfer-encoding"
)
CORS_EXPOSE_HEADERS = "x-sentry-error,x-sentry-rate-limits,retry-after"


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """Which DSN keys are accepted: ``any_project`` for every project, ``per_project`` for
    one; nothing listed at all accepts every key."""

    any_project: frozenset[str] = frozenset()
    per_project: frozenset[tuple[int, str]] = frozenset()

    @property
    def open(self) -> bool:
        """Whether every key is accepted."""
        return not self.any_project and not self.per_project

    def accepts(self, project: int, key: str) -> bool:
        """Whether ``key`` may send to ``project``."""
        return self.open or key in self.any_project or (project, key) in self.per_project


def parse_keys(text: str, setting: str = "--errors-keys") -> KeyPolicy:
    """The policy of the ``--errors-keys`` setting; ``ConfigError`` naming a bad entry."""
    any_project: set[str] = set()
    per_project: set[tuple[int, str]] = set()
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        project, sep, key = entry.rpartition(":")
        if not sep:
            any_project.add(entry)
        elif project.isdigit() and int(project) > 0 and key:
            per_project.add((int(project), key))
        else:
            raise ConfigError(f"{entry!r} is not 'key' or 'project:key'", field=setting)
    return KeyPolicy(frozenset(any_project), frozenset(per_project))


def _ignore(protocol: str, outcome: str, items: int) -> None:
    del protocol, outcome, items


def _cors(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
        **(headers or {}),
    }


def sentry_error(
    status: int, detail: str, causes: tuple[str, ...] = (), headers: dict[str, str] | None = None
) -> Response:
    """An error as Relay answers it: ``{"detail", "causes"}`` and ``X-Sentry-Error``."""
    body: dict[str, object] = {"detail": detail}
    if causes:
        body["causes"] = list(causes)
    # Header values must be Latin-1 on one line; the body has the full text.
    text = " ".join(detail.split())[:500].encode("latin-1", "replace").decode("latin-1")
    return JSONResponse(
        body, status_code=status, headers=_cors({"X-Sentry-Error": text, **(headers or {})})
    )


@dataclass(frozen=True)
class SentryAPI(ReportsRefusals):
    """The Sentry ingest routes into an ``ErrorTracker``.

    ``observe(protocol, outcome, items)`` is told about every request (self-metrics);
    ``clock`` gives the arrival time of events (nanoseconds).
    """

    tracker: ErrorTracker
    keys: KeyPolicy = field(default_factory=KeyPolicy)
    max_body_bytes: int = 64 * 1024 * 1024
    observe: Callable[[str, str, int], None] = _ignore
    clock: Callable[[], int] = time.time_ns
    rejections: RejectionLog = field(default_factory=lambda: RejectionLog(log))

    def routes(self) -> list[BaseRoute]:
        """Envelope and store, each with and without the trailing slash."""
        methods = ["POST", "OPTIONS"]
        return [
            Route("/api/{project}/envelope/", self.envelope, methods=methods),
            Route("/api/{project}/envelope", self.envelope, methods=methods),
            Route("/api/{project}/store/", self.store, methods=methods),
            Route("/api/{project}/store", self.store, methods=methods),
        ]

    async def envelope(self, request: Request) -> Response:
        """``/api/<project>/envelope/``."""
        return await self._ingest(request, "sentry_envelope", decode_envelope)

    async def store(self, request: Request) -> Response:
        """``/api/<project>/store/``."""
        return await self._ingest(request, "sentry_store", decode_store)

    async def _ingest(
        self, request: Request, protocol: str, decode: Callable[..., Decoded]
    ) -> Response:
        if request.method == "OPTIONS":
            return _preflight()
        try:
            project = project_id(request.path_params["project"])
        except BadInput as exc:
            self._refused(request, protocol, 400, str(exc))
            return sentry_error(400, "invalid project path parameter", (str(exc),))
        # A key in the headers or query is checked before the body is read; one only in the
        # envelope header after.
        try:
            key = public_key(request.headers, request.query_params)
        except BadInput:
            key = ""
        if key and not self.keys.accepts(project, key):
            return self._forbidden(request, protocol)
        try:
            body = await read_body(request, self.max_body_bytes)
            encoding = request.headers.get("content-encoding", "")
            received_ns = self.clock()

            def expand_and_decode() -> Decoded:
                # Off the event loop: expanding a large gzip body takes a while.
                raw = decode_body(body, encoding, self.max_body_bytes)
                return decode(raw, project_id=project, received_ns=received_ns)

            decoded: Decoded = await run_in_threadpool(expand_and_decode)
            if not key:
                key = public_key(request.headers, request.query_params, decoded.dsn)
                if not self.keys.accepts(project, key):
                    return self._forbidden(request, protocol)
            await self.tracker.ingest(decoded.batch)
        except BadInput as exc:
            return self._bad_input(request, protocol, exc)
        except (Unavailable, OSError) as exc:
            message = f"could not store the events, retry later: {exc}"
            self._failed(request, protocol, 429, message)
            return sentry_error(
                429,
                "Spyglass could not take the events for now; retry later",
                (str(exc),),
                {
                    "Retry-After": str(RETRY_AFTER_S),
                    "X-Sentry-Rate-Limits": f"{RETRY_AFTER_S}::organization",
                },
            )
        except SpyglassError as exc:
            self._failed(request, protocol, 503, str(exc))
            return sentry_error(503, "could not schedule event processing", (str(exc),))
        except Exception as exc:  # noqa: BLE001 - a bug of ours: logged with its traceback
            self._failed(request, protocol, 500, f"internal error: {exc!r}", exc)
            return sentry_error(500, "internal error; the server log has the details")
        self.observe(protocol, "accepted", 0)
        answer = {"id": decoded.event_id} if decoded.event_id else {}
        return JSONResponse(answer, headers=_cors())

    def _bad_input(self, request: Request, protocol: str, exc: BadInput) -> Response:
        text = str(exc)
        if text == "missing authorization information":
            self._refused(request, protocol, 401, text)
            return sentry_error(401, "bad x-sentry-auth header", (text,))
        if too_large(exc):
            self._refused(request, protocol, 413, text)
            return sentry_error(413, "failed to read request body", (text,))
        if isinstance(exc, LimitExceeded):
            self._refused(request, protocol, 400, text)
            what = "event" if exc.limit == "max_event_bytes" else "envelope"
            return sentry_error(
                400,
                f"envelope exceeded size limits for type '{what}' "
                "(https://develop.sentry.dev/sdk/envelopes/#size-limits)",
                (text,),
            )
        self._refused(request, protocol, 400, text)
        detail = "invalid event envelope" if protocol == "sentry_envelope" else "invalid JSON data"
        return sentry_error(400, detail, (text,))

    def _forbidden(self, request: Request, protocol: str) -> Response:
        self._refused(request, protocol, 403, "unknown DSN public key")
        return sentry_error(403, "event submission rejected with_reason: ProjectId")


def _preflight() -> Response:
    return Response(
        status_code=200,
        headers={
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": "3600",
            "Vary": "origin, access-control-request-method, access-control-request-headers",
        },
    )


__all__ = ["KeyPolicy", "SentryAPI", "parse_keys", "sentry_error"]
