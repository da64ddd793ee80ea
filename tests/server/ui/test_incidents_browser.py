"""The Incidents pages in Debian's chromium against a real ``spyglass serve``: opening an
incident from the form, its header edited (severity, commander), a note, status buttons up to
resolved, the postmortem rendered from Markdown (its timeline table too), edited and saved,
and downloaded as ``.md``. Every change is checked in the incidents API as well as on the page.
A hostile title, note and postmortem show as text."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.browser import ConsoleLog, screenshot
from tests.support.ops_data import HOSTILE, OpsServer

API = "/api/spyglass/v1/incidents"


def _incident(ops: OpsServer, ident: str) -> dict[str, Any]:
    body = httpx.get(f"{ops.url}{API}/{ident}", timeout=30).json()
    data: dict[str, Any] = body["data"]
    return data


def test_open_edit_note_resolve_and_write_the_postmortem(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    title = f"Checkout down {uuid.uuid4().hex[:6]} {HOSTILE}"
    page.goto(ops.url + "/incidents")
    form = page.locator("#incident-form")
    if page.locator("details.new-incident").get_attribute("open") is None:
        page.locator("details.new-incident > summary").click()
    form.get_by_label("Title").fill(title)
    form.get_by_label("Severity").select_option("SEV2")
    form.get_by_label("Commander").fill("ann")
    form.get_by_label("Opened by").fill("bob")
    form.get_by_role("button", name="Open incident").click()
    page.wait_for_url("**/incidents/INC-*")
    ident = page.url.rsplit("/", 1)[1]
    assert page.locator("h1 .incident-title").inner_text() == title
    assert page.locator("main script, main img").count() == 0
    assert page.locator("#incident-sev").inner_text() == "SEV2"
    assert page.locator("#incident-status").inner_text() == "investigating"
    stored = _incident(ops, ident)
    assert (stored["title"], stored["severity"], stored["commander"], stored["opened_by"]) == (
        title,
        "SEV2",
        "ann",
        "bob",
    )
    # The links look at the incident's window on the other pages.
    links = page.locator("nav.incident-links")
    assert (links.get_by_role("link", name="Logs").get_attribute("href") or "").startswith(
        "/logs?query="
    )
    assert (links.get_by_role("link", name="Errors").get_attribute("href") or "").startswith(
        "/errors?"
    )

    # Header: severity up to SEV1 and a new commander, by "carol" (remembered in the browser).
    edit = page.locator("#incident-edit")
    edit.get_by_label("Severity").select_option("SEV1")
    edit.get_by_label("Commander").fill("dave")
    edit.get_by_label("You").fill("carol")
    edit.get_by_role("button", name="Save").click()
    page.locator("#incident-sev", has_text="SEV1").wait_for()
    stored = _incident(ops, ident)
    assert (stored["severity"], stored["commander"]) == ("SEV1", "dave")
    assert page.locator("#incident-edit input.who").input_value() == "carol"

    note = f"rolled back {HOSTILE}"
    page.locator("#note-form").get_by_label("Note").fill(note)
    page.get_by_role("button", name="Add note").click()
    entry = page.locator("li.timeline-note", has_text="rolled back")
    entry.wait_for()
    assert note in entry.inner_text()
    assert "carol" in entry.inner_text()

    page.get_by_role("button", name="Mark identified").click()
    page.locator("#incident-status", has_text="identified").wait_for()
    page.get_by_role("button", name="Resolve").click()
    page.locator("#incident-status", has_text="resolved").wait_for()
    stored = _incident(ops, ident)
    assert stored["status"] == "resolved"
    assert stored["resolved_ms"]
    kinds = [e["kind"] for e in stored["timeline"]]
    assert kinds.count("status") == 2
    assert "note" in kinds

    # The draft postmortem, rendered: headings, and its timeline as a table.
    article = page.locator("#postmortem")
    article.locator("h2").first.wait_for()
    assert article.locator("table").count() >= 1
    assert note in article.locator("table").first.inner_text()
    assert article.locator("script, img").count() == 0
    screenshot(page, tmp_path, "incident")

    # Edit, save: the API keeps the text, the page renders it (markup stays text).
    assert not page.locator("#postmortem-form").is_visible()
    page.get_by_role("button", name="Edit").click()
    assert page.locator("#postmortem-form textarea").is_visible()
    assert not article.is_visible()
    text = f"# Postmortem of {ident}\n\n**Root cause**: a bad deploy {HOSTILE}\n\n- roll back\n"
    page.locator("#postmortem-form textarea").fill(text)
    page.get_by_role("button", name="Save postmortem").click()
    article.locator("h1", has_text=f"Postmortem of {ident}").wait_for()
    assert article.locator("strong").inner_text() == "Root cause"
    assert HOSTILE in article.inner_text()
    assert article.locator("li").inner_text() == "roll back"
    got = httpx.get(f"{ops.url}{API}/{ident}/postmortem", timeout=30)
    assert got.text == text

    # Download: the same Markdown, as a .md file.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download .md").click()
    download = info.value
    assert download.suggested_filename == f"{ident}-postmortem.md"
    assert Path(download.path()).read_text() == text
    assert page.evaluate("window.pwned") is None


def test_a_refused_incident_says_why_in_the_error_colour(
    ops: OpsServer, page: Any, console: ConsoleLog
) -> None:
    """The API's refusal shows in the form's status line, red as every error on these pages
    (ui.css's later ``.status`` rule made it the muted grey of a plain status)."""
    console.allow("status of 400")
    page.goto(ops.url + "/incidents")
    if page.locator("details.new-incident").get_attribute("open") is None:
        page.locator("details.new-incident > summary").click()
    form = page.locator("#incident-form")
    form.get_by_label("Title").fill("   ")  # passes the browser's `required`, not the API
    form.get_by_role("button", name="Open incident").click()
    message = page.locator("#incident-form-message", has_text="title is required")
    message.wait_for()
    colour = message.evaluate("el => getComputedStyle(el).color")
    error, muted = page.evaluate(
        """() => ['--error', '--muted'].map((name) => {
            const probe = document.createElement('span');
            probe.style.color = `var(${name})`;
            document.body.append(probe);
            const seen = getComputedStyle(probe).color;
            probe.remove();
            return seen;
        })"""
    )
    assert error != muted
    assert colour == error


def test_the_list_shows_open_and_resolved_incidents(
    ops: OpsServer, page: Any, tmp_path: Path
) -> None:
    opened = httpx.post(
        ops.url + API,
        json={"title": f"Slow search {HOSTILE}", "severity": "SEV4", "commander": "eve"},
        timeout=30,
    ).json()["data"]
    done = httpx.post(ops.url + API, json={"title": "Old outage"}, timeout=30).json()["data"]
    httpx.post(f"{ops.url}{API}/{done['id']}/status", json={"status": "resolved"}, timeout=30)
    page.goto(ops.url + "/incidents")
    row = page.locator(f"section.incident-section-open tr.incident[data-incident={opened['id']}]")
    assert HOSTILE in row.locator(".incident-title").inner_text()
    assert row.locator(".sev").inner_text() == "SEV4"
    assert "sev-sev4" in (row.locator(".sev").get_attribute("class") or "")
    assert row.locator(".incident-status").inner_text() == "investigating"
    assert row.locator("td[data-label=Commander]").inner_text() == "eve"
    assert "so far" in row.locator("td[data-label=Duration]").inner_text()
    closed = page.locator(f"section.incident-section-resolved tr[data-incident={done['id']}]")
    assert closed.locator(".incident-status").inner_text() == "resolved"
    screenshot(page, tmp_path, "incidents")
    page.goto(ops.url + "/incidents?status=open")
    assert page.locator(f"tr[data-incident={done['id']}]").count() == 0
    assert page.locator(f"tr[data-incident={opened['id']}]").count() == 1
    assert page.evaluate("window.pwned") is None


def test_an_unknown_incident_is_a_404_page(ops: OpsServer, page: Any, console: ConsoleLog) -> None:
    console.allow("status of 404")
    response = page.goto(ops.url + "/incidents/INC-9999")
    assert response.status == 404
    assert "No incident INC-9999" in page.locator("main").inner_text()


def test_the_incident_pages_read_at_400_px(ops: OpsServer, browser: Any, tmp_path: Path) -> None:
    ident = httpx.post(ops.url + API, json={"title": "Narrow"}, timeout=30).json()["data"]["id"]
    context = browser.new_context(viewport={"width": 400, "height": 800})
    try:
        p = context.new_page()
        for path in ("/incidents", f"/incidents/{ident}"):
            p.goto(ops.url + path)
            if path != "/incidents":
                p.locator("#postmortem h2").first.wait_for()
            width = p.evaluate("document.documentElement.scrollWidth")
            assert width <= 400, (path, width)
            screenshot(p, tmp_path, "incidents-400" + path.replace("/", "-"))
    finally:
        context.close()


# Cell text a postmortem's table may hold: words, pipes (written escaped) and markup characters
# that must stay text; no Markdown emphasis characters, which would (rightly) change the text.
cell_text = st.text(alphabet=st.sampled_from([*"abcXYZ019 |<>&\"'/="]), max_size=12)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cell_text, min_size=2, max_size=2), min_size=1, max_size=4))
def test_a_postmortem_table_shows_every_cell_as_written(
    ops: OpsServer, page: Any, rows: list[list[str]]
) -> None:
    """The Markdown renderer's tables: each cell, ``|`` escaped as ``\\|`` in the source, reads
    back as the text written (trimmed), whatever markup it holds."""
    ident = _table_incident(ops)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    text = "\n".join([line(["what", "who"]), "|---|---|", *(line(r) for r in rows)]) + "\n"
    r = httpx.put(f"{ops.url}{API}/{ident}/postmortem", content=text.encode(), timeout=30)
    assert r.status_code == 200, r.text
    page.goto(f"{ops.url}/incidents/{ident}")
    page.locator("#postmortem table").wait_for()
    shown = page.eval_on_selector_all(
        "#postmortem tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))",
    )
    assert shown == [[c.strip() for c in r] for r in rows]
    assert page.locator("#postmortem script, #postmortem img").count() == 0


_TABLE_INCIDENT: dict[str, str] = {}


def _table_incident(ops: OpsServer) -> str:
    if ops.url not in _TABLE_INCIDENT:
        body = httpx.post(ops.url + API, json={"title": "Tables"}, timeout=30).json()
        _TABLE_INCIDENT[ops.url] = body["data"]["id"]
    return _TABLE_INCIDENT[ops.url]
