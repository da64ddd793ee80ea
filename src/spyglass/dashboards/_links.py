"""Dashboard links and panel links, with variables put in and only safe URLs kept.

A dashboard's ``links`` are drawn in its header: ``link`` entries (``url``, ``title``,
``tooltip``, ``targetBlank``, ``keepTime``, ``includeVars``) and ``dashboards`` entries (the
dashboards carrying ``tags``, which the page lists from the search API). A panel's ``links`` are
drawn by its title. Dashboards come from anyone, so a URL is kept only when it is ``http``,
``https`` or relative: ``javascript:``, ``data:`` and the rest become no link at all (the page
checks again before it makes an ``href``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from spyglass.dashboards._interpolate import VariableValue, interpolate

# Browsers drop tabs and newlines inside a URL's scheme and ignore leading control characters
# and spaces ("java\tscript:" is javascript:), so they go before the scheme is read.
_IGNORED = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_EDGES = "".join(chr(c) for c in range(0x21)) + "\x7f"
MAX_LINKS = 50


def safe_url(url: str) -> str:
    """``url`` when it is http(s) or relative, else ``""``."""
    squeezed = _IGNORED.sub("", url)
    if squeezed.startswith(("\\", "/\\")):
        return ""  # browsers read backslashes as slashes: "\\evil.example" is another host
    m = _SCHEME.match(squeezed)
    if m is None:
        return url.strip(_EDGES)
    return url.strip(_EDGES) if m.group(1).lower() in ("http", "https") else ""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def dashboard_links(
    dashboard: Mapping[str, Any], scope: Mapping[str, VariableValue]
) -> list[dict[str, Any]]:
    """The dashboard's header links, ready to draw (see the module docstring)."""
    raw = dashboard.get("links")
    out: list[dict[str, Any]] = []
    for link in raw[:MAX_LINKS] if isinstance(raw, list) else []:
        if not isinstance(link, dict):
            continue
        kind = _str(link.get("type")) or "link"
        common = {
            "type": kind,
            "title": interpolate(_str(link.get("title")), scope, "text"),
            "tooltip": interpolate(_str(link.get("tooltip")), scope, "text"),
            "targetBlank": link.get("targetBlank") is True,
            "keepTime": link.get("keepTime") is True,
            "includeVars": link.get("includeVars") is True,
        }
        if kind == "dashboards":
            tags = link.get("tags")
            common["tags"] = (
                [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
            )
            common["asDropdown"] = link.get("asDropdown") is True
            out.append(common)
        elif kind == "link":
            url = safe_url(interpolate(_str(link.get("url")), scope, "raw"))
            out.append({**common, "url": url})
    return out


def panel_links(
    panel: Mapping[str, Any], scope: Mapping[str, VariableValue]
) -> list[dict[str, Any]]:
    """A panel's own ``links`` (title and URL), ready to draw."""
    raw = panel.get("links")
    out: list[dict[str, Any]] = []
    for link in raw[:MAX_LINKS] if isinstance(raw, list) else []:
        if not isinstance(link, dict):
            continue
        url = safe_url(interpolate(_str(link.get("url")), scope, "raw"))
        if not url:
            continue
        out.append(
            {
                "title": interpolate(_str(link.get("title")), scope, "text") or url,
                "url": url,
                "targetBlank": link.get("targetBlank") is True,
            }
        )
    return out


__all__ = ["MAX_LINKS", "dashboard_links", "panel_links", "safe_url"]
