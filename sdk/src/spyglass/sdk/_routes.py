"""Find the route template (``/items/{id}``) a request will be dispatched to.

Metrics and span names must be keyed by template, never by raw path, or every ID in a URL makes
a new series. Starlette records the matched route in the scope only after routing and loses the
prefixes of mounted sub-applications, so we match the scope against the router ourselves, the
way Starlette's router does: first full match wins, a partial match (wrong method) is kept as a
fallback, mounts are followed into their own routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

UNMATCHED = "<unmatched>"
# Deep mount trees are unusual; the bound only guards against a route table that points at itself.
_MAX_DEPTH = 16


def route_template(routes: Sequence[Any], scope: dict[str, Any]) -> str:
    """The template of the route ``scope`` matches in ``routes``, or ``UNMATCHED``."""
    try:
        found = _match(routes, scope, "", 0)
    except Exception:  # noqa: BLE001 - a third-party route's matcher must not break the request
        return UNMATCHED
    return found if found is not None else UNMATCHED


def _match(routes: Sequence[Any], scope: dict[str, Any], prefix: str, depth: int) -> str | None:
    from starlette.routing import Match  # noqa: PLC0415 - only Starlette apps have routes

    if depth > _MAX_DEPTH:
        return None
    partial: str | None = None
    for route in routes:
        matches = getattr(route, "matches", None)
        if matches is None:
            continue
        match, child = matches(scope)
        if match is Match.NONE:
            continue
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            # FastAPI >= 0.16x includes routers lazily: the included router matches as a
            # whole, and its "effective route contexts" carry each route's full template.
            found = _match_included(contexts(), scope, prefix)
            if found is not None and found[0] is Match.FULL:
                return found[1]
            if found is not None and partial is None:
                partial = found[1]
            continue
        path = getattr(route, "path", "") or ""
        if match is Match.FULL:
            sub = _sub_routes(route)
            if sub is None:
                return prefix + path
            if not sub:
                # A mounted app without a route table (static files, another framework): the
                # mount itself is the most precise template there is.
                return prefix + path if path else None
            return _match(sub, {**scope, **child}, prefix + path, depth + 1)
        if partial is None:
            partial = prefix + path
    return partial


def _match_included(contexts: Any, scope: dict[str, Any], prefix: str) -> tuple[Any, str] | None:
    from starlette.routing import Match  # noqa: PLC0415

    partial: tuple[Any, str] | None = None
    for ctx in contexts:
        match, _child = ctx.matches(scope)
        path = getattr(ctx, "path", None)
        if match is Match.NONE or not isinstance(path, str):
            continue
        if match is Match.FULL:
            return match, prefix + path
        if partial is None:
            partial = (match, prefix + path)
    return partial


def _sub_routes(route: Any) -> Sequence[Any] | None:
    """Routes of a Mount/Host, None for a leaf route."""
    if not (hasattr(route, "app") and hasattr(route, "routes")) or hasattr(route, "endpoint"):
        return None
    try:
        sub = route.routes
    except Exception:  # noqa: BLE001 - a broken mounted app is simply treated as a leaf
        return None
    return sub if isinstance(sub, Sequence) else None


__all__ = ["UNMATCHED", "route_template"]
