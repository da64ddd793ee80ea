"""The ``ui`` component: renders the pages through the base layout and serves ``/static``.

Every page answers with a Content-Security-Policy that lets scripts come only from this server
(no inline script at all), styles from this server plus the ``<style>`` elements the editor adds
with the page's nonce, and requests go only back to this server. Templates escape everything
they show (Jinja2's autoescape), and pages hand data to scripts through the URL and the form
fields, never through inline script.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.version import __version__
from spyglass.server.ui._assets import Assets
from spyglass.server.ui._pages import Page, navigation

TEMPLATES = Path(__file__).resolve().parent / "templates"


def content_security_policy(nonce: str) -> str:
    """The CSP of a page whose editor styles carry ``nonce``."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class WebUI:
    """The web UI component: ``pages`` under one layout, and their scripts under ``/static``."""

    name = "ui"

    def __init__(self, pages: Sequence[Page], assets: Assets | None = None) -> None:
        """Check that every page's template and script exist, so a typo fails at start-up."""
        self.pages = list(pages)
        self.assets = assets or Assets()
        self.nav = navigation(self.pages)
        folders = [TEMPLATES, *(p.templates for p in self.pages if p.templates is not None)]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(f) for f in folders]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.assets.bundle("ui")
        seen: set[str] = set()
        for page in self.pages:
            for path in (page.path, *page.aliases):
                if path in seen:
                    raise ValueError(f"two pages at {path}")
                seen.add(path)
            self.env.get_template(page.template)
            if page.script is not None:
                self.assets.bundle(page.script)

    async def start(self) -> None:
        """Nothing to start: pages render on request."""

    async def stop(self) -> None:
        """Nothing to stop."""

    def routes(self) -> Sequence[BaseRoute]:
        """Each page at its path and aliases, and ``/static/<name>``."""
        routes: list[BaseRoute] = []
        paths = [(path, page) for page in self.pages for path in (page.path, *page.aliases)]
        # A fixed path wins over a pattern that would also match it (``/traces/map`` over
        # ``/traces/{trace_id}``), whatever order the pages were given in.
        for path, page in sorted(paths, key=lambda item: "{" in item[0]):
            routes.append(Route(path, self._handler(page), methods=["GET", "HEAD"]))
        routes.append(Route("/static/{name}", self.assets.serve, methods=["GET", "HEAD"]))
        return routes

    def collectors(self) -> Sequence[Collector]:
        """Requests to pages are counted by the HTTP middleware; nothing of its own."""
        return ()

    def _handler(self, page: Page) -> Callable[[Request], Awaitable[Response]]:
        async def render(request: Request) -> Response:
            return self.render(request, page, await page.context(request))

        render.__name__ = f"page_{page.template.removesuffix('.html')}"
        return render

    def render(self, request: Request, page: Page, context: Mapping[str, Any]) -> Response:
        """``page``'s template in the layout, with its security headers."""
        nonce = secrets.token_urlsafe(18)
        shared = self.assets.bundle("ui")
        bundle = self.assets.bundle(page.script) if page.script else None
        html = self.env.get_template(page.template).render(
            {
                **context,
                "page": page,
                "nav": self.nav,
                "current": page.section,
                "nonce": nonce,
                "version": __version__,
                "styles": [*shared.css, *(bundle.css if bundle else ())],
                "script": bundle.js if bundle else None,
                "preloads": bundle.imports if bundle else (),
                "request_path": request.url.path,
            }
        )
        # A page's context may answer another status (an unknown dashboard is a 404 page).
        status = context.get("status_code", 200)
        return HTMLResponse(
            html,
            status_code=status if isinstance(status, int) else 200,
            headers={
                "Content-Security-Policy": content_security_policy(nonce),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-cache",
            },
        )
