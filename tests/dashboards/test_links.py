"""Dashboard and panel links: variables put in, and only http(s) or relative URLs kept, so a
dashboard from anyone cannot put a ``javascript:`` link in front of a user."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from spyglass.dashboards import VariableValue, safe_url
from spyglass.dashboards._links import dashboard_links, panel_links


def test_http_https_and_relative_urls_are_kept() -> None:
    for url in ("https://grafana.com/x", "HTTP://a", "/d/abc?var-x=1", "other?x", "#top", "//h/p"):
        assert safe_url(url) == url


def test_script_data_and_disguised_schemes_are_dropped() -> None:
    for url in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "\\\\evil.example/x",
        "/\\evil.example",
    ):
        assert safe_url(url) == "", url


@given(st.text(max_size=40))
def test_what_is_kept_is_never_another_scheme_as_a_browser_reads_it(url: str) -> None:
    kept = safe_url(url)
    if kept:
        # A browser strips these before reading the scheme; what remains parses as http(s) or
        # has no scheme at all.
        squeezed = "".join(c for c in kept if ord(c) > 0x20 and c != "\x7f")
        assert urlsplit(squeezed).scheme.lower() in ("", "http", "https")
        assert not squeezed.startswith("\\")


def test_dashboard_links_put_variables_in_and_keep_their_options() -> None:
    scope = {"env": VariableValue.single("prod")}
    links = dashboard_links(
        {
            "links": [
                {
                    "type": "link",
                    "title": "Runbook $env",
                    "url": "https://wiki/$env",
                    "tooltip": "for $env",
                    "targetBlank": True,
                    "keepTime": True,
                },
                {"type": "link", "title": "<b>x</b>", "url": "javascript:alert(1)"},
                {"type": "dashboards", "tags": ["node", 3], "asDropdown": True, "title": "More"},
                "junk",
            ]
        },
        scope,
    )
    assert links[0] == {
        "type": "link",
        "title": "Runbook prod",
        "tooltip": "for prod",
        "targetBlank": True,
        "keepTime": True,
        "includeVars": False,
        "url": "https://wiki/prod",
    }
    assert links[1]["url"] == ""
    assert links[1]["title"] == "<b>x</b>"  # the page writes it as text
    assert links[2]["tags"] == ["node"]
    assert links[2]["asDropdown"] is True


def test_panel_links_without_a_safe_url_are_left_out() -> None:
    got = panel_links(
        {"links": [{"title": "Docs", "url": "/docs"}, {"title": "x", "url": "javascript:1"}]},
        {},
    )
    assert got == [{"title": "Docs", "url": "/docs", "targetBlank": False}]
