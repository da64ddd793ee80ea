"""Alertmanager API v2 silences: ``/api/v2/silences`` and ``/api/v2/silence/{silenceID}``.

Same routes, JSON shapes, statuses and messages as Alertmanager, so amtool and other
clients of Alertmanager's API manage Spyglass's silences unchanged:

- ``GET /api/v2/silences?filter=...``: every silence (one-off maintenance windows included),
  active ones first by end, then pending by start, then expired by most recent end; ``filter``
  matchers keep the silences having an identical matcher.
- ``POST /api/v2/silences``: create, or update when the body has an ``id``; ``{"silenceID"}``.
  The body must be ``application/json`` (415 otherwise), as Alertmanager wants.
- ``GET /api/v2/silence/{id}``: one silence; 404 (empty body) when there is none.
- ``DELETE /api/v2/silence/{id}``: expire it; 404 when there is none, as Alertmanager 0.27+
  answers (0.25 said 500).

Errors are Alertmanager's: the silence package's messages as a JSON string with 400 (404 for an
unknown id), go-swagger's ``{"code","message"}`` objects for bodies and ids it refuses. Writes
go to the state store, so they run in a worker thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.alerting import (
    MAINTENANCE_ID_PREFIX,
    InvalidSilence,
    Matcher,
    MatcherError,
    Silence,
    SilenceNotFound,
    Silences,
    parse_matcher,
)
from spyglass.core.errors import Unavailable
from spyglass.server.api._silence_json import (
    Refusal,
    decode_postable_silence,
    gettable_silence,
    go_json,
)

log = logging.getLogger(__name__)

# go-openapi's strfmt UUID: any version, hex digits in either case.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_JSON = "application/json"
# Larger than any silence a person writes; a bigger body is refused before it is parsed.
MAX_BODY_BYTES = 1 << 20
# Silences whose JSON is remembered for listings; past this the memory starts over.
_CACHE_LIMIT = 50_000


def _json(value: object, status: int = 200, *, newline: bool = True) -> Response:
    return Response(go_json(value, newline=newline), status_code=status, media_type=_JSON)


def _message(text: str, status: int) -> Response:
    """An error as Alertmanager's handlers write it: the message as a JSON string."""
    return _json(text, status)


def _refusal(r: Refusal) -> Response:
    return _json(r.body, r.status, newline=False)


class SilencesAPI:
    """The silence routes of Alertmanager's API v2 over a ``Silences``."""

    def __init__(self, silences: Silences) -> None:
        self.silences = silences
        self._cache: dict[int, tuple[Silence, str, bytes]] = {}

    def routes(self) -> Sequence[BaseRoute]:
        """The four silence routes."""
        return [
            Route("/api/v2/silences", self.list_silences, methods=["GET"]),
            Route("/api/v2/silences", self.post_silence, methods=["POST"]),
            Route("/api/v2/silence/{silence_id}", self.get_silence, methods=["GET"]),
            Route("/api/v2/silence/{silence_id}", self.delete_silence, methods=["DELETE"]),
        ]

    async def list_silences(self, request: Request) -> Response:
        """``GET /api/v2/silences``."""
        filters = []
        for text in request.query_params.getlist("filter"):
            try:
                filters.append(parse_matcher(text, mode=self.silences.mode))
            except MatcherError as exc:
                return _message(str(exc), 400)
        now = self.silences.now_ms()
        found = [
            s
            for s in self.silences.query(now_ms=now)
            if all(any(_same(f, m) for m in s.matchers) for f in filters)
        ]
        parts = [self._encoded(s, now) for s in _sorted(found, now)]
        return Response(b"[" + b",".join(parts) + b"]\n", media_type=_JSON)

    def _encoded(self, silence: Silence, now: int) -> bytes:
        """The silence's JSON, remembered per silence object: ``Silences`` replaces the object
        on every write, so only the state can change the text of one object."""
        state = silence.state(now)
        if silence.id.startswith(MAINTENANCE_ID_PREFIX):  # built afresh on every query
            return go_json(gettable_silence(silence, state), newline=False)
        cached = self._cache.get(id(silence))
        if cached is not None and cached[0] is silence and cached[1] == state:
            return cached[2]
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        text = go_json(gettable_silence(silence, state), newline=False)
        # The object is kept in the entry, so its id() cannot be reused while the entry lives.
        self._cache[id(silence)] = (silence, state, text)
        return text

    async def post_silence(self, request: Request) -> Response:
        """``POST /api/v2/silences``: create or update."""
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _refusal(
                    Refusal(
                        400,
                        {
                            "code": 400,
                            "message": f"silence body is larger than {MAX_BODY_BYTES} bytes",
                        },
                    )
                )
        if body:  # go-openapi looks at the media type only when there is a body
            refused = _media_type_refusal(request.headers.get("content-type"))
            if refused is not None:
                return _refusal(refused)
        draft = decode_postable_silence(body)
        if isinstance(draft, Refusal):
            return _refusal(draft)
        if draft.starts_at_ms >= draft.ends_at_ms:
            return _message("Failed to create silence: start time must be before end time", 400)
        if draft.ends_at_ms < self.silences.now_ms():
            return _message("Failed to create silence: end time can't be in the past", 400)
        try:
            silence_id = await run_in_threadpool(self.silences.set, draft)
        except SilenceNotFound as exc:
            return _message(str(exc), 404)
        except InvalidSilence as exc:
            return _message(str(exc), 400)
        except Unavailable as exc:  # the state store is down: a 500 as Alertmanager's handlers
            log.error("silences: cannot store a silence: %s", exc)
            return _message(str(exc), 500)
        log.debug("silence %s set by %r", silence_id, draft.created_by)
        return _json({"silenceID": silence_id})

    async def get_silence(self, request: Request) -> Response:
        """``GET /api/v2/silence/{id}``."""
        silence_id = request.path_params["silence_id"]
        if not silence_id.startswith(MAINTENANCE_ID_PREFIX) and not _UUID.match(silence_id):
            return _bad_id(silence_id)
        silence = self.silences.get(silence_id)
        if silence is None:
            return Response(status_code=404)
        return _json(gettable_silence(silence, silence.state(self.silences.now_ms())))

    async def delete_silence(self, request: Request) -> Response:
        """``DELETE /api/v2/silence/{id}``: expire."""
        silence_id = request.path_params["silence_id"]
        if silence_id.startswith(MAINTENANCE_ID_PREFIX):
            # A 500 with the message is how Alertmanager answers every expiry it cannot do, and
            # the only error amtool prints the message of (a 400 is not in its API spec).
            name = silence_id.removeprefix(MAINTENANCE_ID_PREFIX)
            return _message(
                f"{silence_id} is maintenance window {name!r} of alertmanager.yml: "
                "change or remove it there",
                500,
            )
        if not _UUID.match(silence_id):
            return _bad_id(silence_id)
        try:
            await run_in_threadpool(self.silences.expire, silence_id)
        except SilenceNotFound:
            return Response(status_code=404)
        except Unavailable as exc:
            log.error("silences: cannot expire silence %s: %s", silence_id, exc)
            return _message(str(exc), 500)
        return Response(status_code=200)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


def _media_type_refusal(header: str | None) -> Refusal | None:
    """go-openapi's answer to a body that is not ``application/json`` (``None``: it is)."""
    media = "application/octet-stream" if header is None else header
    kind, *params = media.split(";")
    kind = kind.strip().lower()
    for param in params:
        name, eq, _ = param.strip().partition("=")
        if not eq or not _TOKEN.match(name):
            return Refusal(
                400,
                {
                    "code": 400,
                    "message": f'parsing Content-Type header from "{header}" failed, '
                    "because mime: invalid media parameter",
                },
            )
    if kind != _JSON:
        return Refusal(
            415,
            {
                "code": 415,
                "message": f'unsupported media type "{kind}", only [{_JSON}] are allowed',
            },
        )
    return None


def _bad_id(silence_id: str) -> Response:
    quoted = silence_id.replace("\\", "\\\\").replace('"', '\\"')
    message = f'silenceID in path must be of type uuid: "{quoted}"'
    return _json({"code": 601, "message": message}, 422, newline=False)


def _same(a: Matcher, b: Matcher) -> bool:
    """Whether two matchers are written alike (``filter`` keeps silences with such a one)."""
    return a.name == b.name and a.op is b.op and a.value == b.value


def _sorted(silences: list[Silence], now: int) -> list[Silence]:
    """Alertmanager's order: active by end, pending by start, expired by latest end first."""

    def key(s: Silence) -> tuple[int, int]:
        state = s.state(now)
        if state == "active":
            return (0, s.ends_at_ms)
        if state == "pending":
            return (1, s.starts_at_ms)
        return (2, -s.ends_at_ms)

    return sorted(silences, key=key)


__all__ = ["MAX_BODY_BYTES", "SilencesAPI"]
