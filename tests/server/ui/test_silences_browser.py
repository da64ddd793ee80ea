"""The Silences page in Debian's chromium: adding a silence from the form (typed, and filled
from an alert's labels), seeing it by state, Alertmanager's error message on a refused one, and
expiring one.

The page runs twice: served by a real ``spyglass serve``, which answers Alertmanager's API v2
itself, and next to a same-origin proxy to Debian's Alertmanager 0.25, so the page is held to
the real API's shapes and messages. Each test finds its own silences by their unique comment,
so the tests share a server in any order.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from tests.support.am_proxy import AlertmanagerProxy, serve_app
from tests.support.browser import ConsoleLog, screenshot
from tests.support.required import need_alertmanager
from tests.support.servers import alertmanager, spyglass

from spyglass.server.ui import EXPLORE, WebUI, silences_page

AM_CONFIG = "route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n"


@pytest.fixture(scope="module", params=["spyglass", "alertmanager"])
def silences_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL of a server offering the Silences page and Alertmanager's API v2 silences
    on the same origin: ``spyglass serve``, or a proxy to a real Alertmanager."""
    if request.param == "spyglass":
        with spyglass(tmp_path_factory.mktemp("spyglass") / "data") as server:
            yield server.url
        return
    ui = WebUI([EXPLORE, silences_page()])
    binary = need_alertmanager()
    with alertmanager(binary, tmp_path_factory.mktemp("am"), AM_CONFIG) as am:
        proxy = AlertmanagerProxy(am.url)
        with serve_app(Starlette(routes=[*proxy.routes(), *ui.routes()])) as url:
            yield url


def _unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


def _item(page: Any, state: str, comment: str) -> Any:
    return page.locator(f"section.silence-state-{state} li.silence", has_text=comment)


def _create(page: Any, matchers: str, creator: str, comment: str, **times: str) -> None:
    form = page.locator("#silence-form")
    if page.locator("details.new-silence").get_attribute("open") is None:
        page.locator("details.new-silence > summary").click()
    if matchers:
        form.get_by_label("Matchers").fill(matchers)
    for name, value in times.items():
        form.locator(f"input[name={name}]").fill(value)
    form.get_by_label("Created by").fill(creator)
    form.get_by_label("Comment").fill(comment)
    form.get_by_role("button", name="Create silence").click()


def test_add_a_silence_see_it_active_then_expire_it(
    silences_server: str, page: Any, tmp_path: Path
) -> None:
    page.goto(silences_server + "/alerts/silences")
    page.locator("section.silence-state-active").wait_for()
    comment = _unique("deploying <b>v2</b>")
    _create(page, 'alertname="HighLatency"\nservice=~"api|web", env!="dev"', "alice", comment)
    item = _item(page, "active", comment)
    item.wait_for()
    assert item.locator(".label").all_inner_texts() == [
        'alertname="HighLatency"',
        'service=~"api|web"',
        'env!="dev"',
    ]
    assert item.locator(".silence-creator").inner_text() == "alice"
    assert item.locator(".silence-comment").inner_text() == comment
    assert item.locator("b").count() == 0  # the comment is text, not markup
    ends = r"Ends\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in (1h59m\d+s|2h)\)"
    assert re.search(ends, item.inner_text())
    assert page.locator("#silences-status").inner_text().startswith("Created silence ")
    # What the API holds is what the form said.
    stored = httpx.get(silences_server + "/api/v2/silences").json()
    [mine] = [s for s in stored if s["comment"] == comment]
    assert sorted(mine["matchers"], key=lambda m: m["name"]) == [
        {"isEqual": True, "isRegex": False, "name": "alertname", "value": "HighLatency"},
        {"isEqual": False, "isRegex": False, "name": "env", "value": "dev"},
        {"isEqual": True, "isRegex": True, "name": "service", "value": "api|web"},
    ]
    screenshot(page, tmp_path, "silences")

    item.get_by_role("button", name="Expire").click()
    expired = _item(page, "expired", comment)
    expired.wait_for()
    assert _item(page, "active", comment).count() == 0
    assert expired.get_by_role("button", name="Expire").count() == 0
    assert "Ended" in expired.inner_text()
    state = httpx.get(f"{silences_server}/api/v2/silence/{mine['id']}").json()["status"]
    assert state == {"state": "expired"}


def test_a_silence_starting_later_is_pending(silences_server: str, page: Any) -> None:
    page.goto(silences_server + "/alerts/silences")
    comment = _unique("maintenance tonight")
    _create(page, 'job="batch"', "bob", comment, starts="now+1h", duration="3h")
    item = _item(page, "pending", comment)
    item.wait_for()
    assert re.search(r"Starts\s+\S+ \S+ \(in (59m\d+s|1h)\)", item.inner_text())


def test_alertmanager_error_message_is_shown_when_the_api_refuses(
    silences_server: str, page: Any, console: ConsoleLog
) -> None:
    console.allow("status of 400")  # the browser reports the refused request itself
    page.goto(silences_server + "/alerts/silences")
    _create(page, 'job="x"', "carol", "backwards", starts="now+2h", ends="now+1h")
    error = page.locator("#form-error")
    error.wait_for()
    assert error.inner_text() == "Failed to create silence: start time must be before end time"
    _create(page, 'job=""', "carol", "matches everything", starts="", ends="")
    page.get_by_text("at least one matcher must not match the empty string").wait_for()
    assert error.inner_text() == (
        "silence invalid: at least one matcher must not match the empty string"
    )


def test_a_matcher_that_does_not_parse_is_named_before_sending(
    silences_server: str, page: Any
) -> None:
    page.goto(silences_server + "/alerts/silences")
    _create(page, 'job="x"\nseverity critical', "dave", "typo")
    error = page.locator("#form-error")
    error.wait_for()
    assert error.inner_text() == 'Matchers: line 2: expected one of = != =~ !~ at "critical"'


def test_the_silence_button_of_an_alert_fills_the_form(silences_server: str, page: Any) -> None:
    """The Alerts page links here with ``matcher`` parameters; they fill the form."""
    labels = ['alertname="Boom"', 'team="<script>alert(1)</script>"']
    page.goto(silences_server + "/alerts/silences?" + urlencode([("matcher", m) for m in labels]))
    matchers = page.locator("#silence-form").get_by_label("Matchers")
    assert matchers.is_visible()  # the form is open
    assert matchers.input_value() == "\n".join(labels)
    assert page.locator("main script").count() == 0
    comment = _unique("silenced from the alert")
    _create(page, "", "erin", comment)
    item = _item(page, "active", comment)
    item.wait_for()
    assert item.locator(".label").all_inner_texts() == labels


def test_a_narrow_window_keeps_the_silences_page_readable(
    silences_server: str, page: Any, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(silences_server + "/alerts/silences?matcher=alertname%3D%22Narrow%22")
    comment = _unique("a long comment " * 12)
    _create(page, "", "frank", comment)
    _item(page, "active", comment).wait_for()
    screenshot(page, tmp_path, "narrow-silences")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
