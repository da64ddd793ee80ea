"""The Rules and Alerts pages in Debian's chromium, against a real ``spyglass serve`` running a
rule file (a rule that always fires, one that fails to evaluate, a recording rule) next to
Spyglass's built-in rules, and scraping itself.

Screenshots of both pages, wide and narrow, are saved for a person to look at.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.support.browser import screenshot
from tests.support.servers import Server, spyglass

from spyglass.rules import BUILTIN_RULES

TEAM = "<script>alert(1)</script>"
RULES = textwrap.dedent(
    """
    groups:
      - name: demo
        interval: 1s
        rules:
          - alert: AlwaysFiring
            expr: label_replace(vector(1), "team", "<script>alert(1)</script>", "", "")
            for: 0s
            labels:
              severity: page
            annotations:
              summary: 'Value {{ $value }} for team {{ $labels.team }}'
          - alert: Broken
            expr: label_replace(vector(1), "a", "x", "b", "(")
          - record: demo:one
            expr: vector(1)
    """
)


# Elements reaching past the window's right edge (outside a scrolling box), for the message.
WIDER_THAN_WINDOW = """
[...document.querySelectorAll('main *')]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
    && !el.closest('.table-scroll'))
  .slice(0, 5)
  .map((el) => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Spyglass evaluating the demo rules every second and the built-in ones every 2 s."""
    folder = tmp_path_factory.mktemp("alerts")
    (folder / "rules.yml").write_text(RULES)
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 2s}\n"
        f"rule_files: ['{folder / 'rules.yml'}', '{BUILTIN_RULES}']\n"
    )
    with spyglass(folder / "data", "--config-file", str(config), "--scrape-self") as s:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            groups = httpx.get(s.url + "/api/v1/rules").json()["data"]["groups"]
            if all(r["health"] != "unknown" for g in groups for r in g["rules"]):
                break
            time.sleep(0.5)
        yield s


def test_the_builtin_rules_evaluate_without_errors_in_spyglass(server: Server) -> None:
    groups = httpx.get(server.url + "/api/v1/rules").json()["data"]["groups"]
    builtin = [g for g in groups if g["file"] == str(BUILTIN_RULES)]
    assert len(builtin) == 5
    health = {r["name"]: (r["health"], r.get("lastError", "")) for g in builtin for r in g["rules"]}
    assert len(health) == 11
    assert all(h == ("ok", "") for h in health.values()), health


def test_rules_page_shows_a_group_with_a_rule_in_error_and_its_message(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(server.url + "/rules")
    group = page.locator("section.rule-group", has=page.get_by_role("heading", name="demo"))
    assert "rules.yml" in group.locator(".group-file").inner_text()
    assert "Interval\n1s" in group.locator(".group-facts").inner_text().replace(" ", "\n")
    broken = group.locator("tr.rule-err")
    assert "alert: Broken" in broken.inner_text()
    error = broken.locator(".rule-error")
    assert error.is_visible()
    assert "invalid regular expression in label_replace(): (" in error.inner_text()
    assert broken.locator(".health-err").inner_text() == "ERR"
    ok = group.locator("tr.rule-ok", has_text="demo:one")
    assert re.search(r"\d+(\.\d+)?s ago", ok.inner_text())
    # The expression is highlighted by Prometheus' own grammar, its text unchanged.
    expr = ok.locator("code.promql.highlighted")
    assert expr.inner_text() == "vector(1)"
    assert expr.locator("span.pq-function").inner_text() == "vector"
    assert expr.locator("span.pq-number").inner_text() == "1"
    # The built-in rules are there too, healthy.
    assert page.locator("section.rule-group", has_text="spyglass-alerting").count() == 1
    screenshot(page, tmp_path, "rules")

    # Ticking the boxes filters at once: only the rules in error remain.
    page.get_by_role("checkbox", name=re.compile("OK")).uncheck()
    page.wait_for_url(re.compile(r"health=err"))
    page.get_by_role("checkbox", name=re.compile("Unknown")).uncheck()
    page.wait_for_url(lambda url: "health=unknown" not in url and "health=ok" not in url)
    rows = page.locator("tr.rule")
    assert rows.count() == 1
    assert "Broken" in rows.inner_text()


def test_alerts_page_shows_a_firing_alert_with_labels_and_rendered_annotation(
    server: Server, page: Any, tmp_path: Path
) -> None:
    page.goto(server.url + "/alerts")
    assert page.locator('.state-count[data-state="firing"]').inner_text() == "1"
    rule = page.locator("details.alert-rule", has_text="AlwaysFiring")
    assert rule.locator("summary .state").inner_text() == "FIRING"
    assert not rule.locator("table").is_visible()
    rule.locator("summary").click()
    row = rule.locator("tr.alert-firing")
    labels = row.locator("td.labels").inner_text()
    assert 'alertname="AlwaysFiring"' in labels
    assert 'severity="page"' in labels
    assert f'team="{TEAM}"' in labels  # shown as text...
    assert page.locator("main script").count() == 0  # ...and never run as markup
    annotation = row.locator(".annotation").inner_text()
    assert annotation.replace("\n", " ") == f"summary Value 1 for team {TEAM}"
    assert row.locator("td.value").inner_text() == "1"
    assert re.search(r"\d+(\.\d+)?s ago|\dm \d+s ago", row.inner_text())
    screenshot(page, tmp_path, "alerts")

    # The Silence button carries the alert's labels to a new silence.
    href = row.get_by_role("link", name="Silence").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert 'alertname="AlwaysFiring"' in query["matcher"]
    assert f'team="{TEAM}"' in query["matcher"]

    # The expression opens in Explore, in its URL.
    rule.locator("a.expr-link").click()
    page.wait_for_url(re.compile(r"/explore\?"))
    expr = 'label_replace(vector(1), "team", "<script>alert(1)</script>", "", "")'
    assert parse_qs(urlsplit(page.url).query)["q0"] == [expr]
    page.locator(".cm-content").wait_for()
    assert expr in page.locator(".cm-content").inner_text()


def test_alerts_filters_by_state(server: Server, page: Any) -> None:
    page.goto(server.url + "/alerts")
    page.get_by_role("checkbox", name=re.compile("Firing")).uncheck()
    page.wait_for_url(re.compile(r"state=pending"))
    names = page.locator("details.alert-rule summary .rule-name").all_inner_texts()
    assert "AlwaysFiring" not in names
    assert "Broken" in names
    page.get_by_role("searchbox").fill("broken")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"search=broken"))
    assert page.locator("details.alert-rule summary .rule-name").all_inner_texts() == ["Broken"]


@pytest.mark.parametrize("path", ["/rules", "/alerts"])
def test_a_narrow_window_keeps_the_pages_readable(
    server: Server, page: Any, tmp_path: Path, path: str
) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(server.url + path)
    if path == "/alerts":
        page.locator("details.alert-rule", has_text="AlwaysFiring").locator("summary").click()
    screenshot(page, tmp_path, f"narrow{path.replace('/', '-')}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(WIDER_THAN_WINDOW)
    assert overflow <= 0, wide
