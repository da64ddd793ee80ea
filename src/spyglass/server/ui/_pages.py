"""Pages and the navigation they slot into.

A page is data: its path, title, template, the navigation section it belongs to, the script
bundle it loads and a callable giving its template's context. The UI component renders every
page through one base layout whose navigation lists, in a fixed order, only the sections some
page fills. A component that offers pages (``OffersPages``) adds them without touching the
layout: the composition root collects them with ``contributed_pages``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from starlette.requests import Request

# The navigation's sections in the order they appear; a section shows once a page fills it.
NAV_SECTIONS: tuple[str, ...] = (
    "Explore",
    "Dashboards",
    "Alerts",
    "Rules",
    "Targets",
    "Status",
    "Logs",
    "Traces",
    "Errors",
    "SLOs",
    "Incidents",
    "Uptime",
)

PageContext = Callable[[Request], Awaitable[Mapping[str, Any]]]


async def _no_context(request: Request) -> Mapping[str, Any]:
    del request
    return {}


@dataclass(frozen=True)
class Page:
    """One server-rendered page.

    ``section`` names its place in the navigation (one of ``NAV_SECTIONS``; None keeps it out
    of the navigation), ``script`` the bundle it loads (a ``frontend/build.mjs`` entry),
    ``templates`` a folder with its template when it lives outside the UI package.
    """

    path: str
    title: str
    template: str
    section: str | None = None
    script: str | None = None
    context: PageContext = _no_context
    aliases: tuple[str, ...] = ()
    templates: Path | None = None

    def __post_init__(self) -> None:
        if self.section is not None and self.section not in NAV_SECTIONS:
            sections = ", ".join(NAV_SECTIONS)
            raise ValueError(f"page {self.path}: unknown section {self.section!r} ({sections})")


@dataclass(frozen=True)
class NavLink:
    """A navigation entry: a section and the path of its first page."""

    title: str
    href: str


def navigation(pages: Iterable[Page]) -> list[NavLink]:
    """The sections some page fills, in ``NAV_SECTIONS`` order, each linking its first page."""
    first: dict[str, str] = {}
    for page in pages:
        if page.section is not None:
            first.setdefault(page.section, page.path)
    return [NavLink(s, first[s]) for s in NAV_SECTIONS if s in first]


@runtime_checkable
class OffersPages(Protocol):
    """A component that contributes pages to the web UI."""

    def pages(self) -> Sequence[Page]:
        """The pages it offers."""
        ...


def contributed_pages(components: Iterable[object]) -> list[Page]:
    """Every page the ``components`` that offer pages contribute, in component order."""
    return [p for c in components if isinstance(c, OffersPages) for p in c.pages()]
