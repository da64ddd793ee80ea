"""The Rules and Alerts pages in process, over rule groups evaluated on an in-memory store: what
each shows, how the filters narrow it, the links they make, and that data is escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient
from tests.support.rules import make_group

from spyglass.alerting import parse_matchers
from spyglass.core.alerts import Alert
from spyglass.core.labels import labels_of
from spyglass.rules import RuleGroup
from spyglass.server.app import create_app
from spyglass.server.selfmetrics import SelfMetrics
from spyglass.server.ui import EXPLORE, WebUI, alerts_page, rules_page, silences_page
from spyglass.storage.memory import MemoryStore

NOW_MS = 1_700_000_000_000

RULES = """
groups:
  - name: web
    interval: 30s
    rules:
      - alert: HostDown
        expr: ui_up == 0
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} is down"
      - alert: Broken
        expr: label_replace(vector(1), "a", "x", "b", "(")
      - record: job:ui_up:sum
        expr: sum by (job) (ui_up)
      - alert: Quiet
        expr: ui_up > 5
"""


def _groups() -> list[RuleGroup]:
    store = MemoryStore()
    for instance, team in (("a:1", "<script>alert(1)</script>"), ("b:1", "core")):
        store.add(
            labels_of({"__name__": "ui_up", "instance": instance, "job": "web", "team": team}),
            [NOW_MS - m * 60_000 for m in range(10, -1, -1)],
            [0.0] * 11,
        )
    group = make_group(RULES, clock=lambda: NOW_MS / 1000)
    group.evaluate(store, NOW_MS - 6 * 60_000)  # the alerts become pending...
    group.evaluate(store, NOW_MS)  # ...and fire 6 minutes later
    never = make_group(
        "groups:\n  - name: later\n    rules:\n      - alert: NotYet\n        expr: vector(1)\n"
    )
    return [group, never]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    groups = _groups()
    clock = lambda: NOW_MS / 1000  # noqa: E731
    pages = [
        EXPLORE,
        rules_page(lambda: groups, clock),
        alerts_page(lambda: groups, clock),
        silences_page(),
    ]
    with TestClient(create_app([WebUI(pages)], SelfMetrics())) as c:
        yield c


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_rules_page_shows_each_group_with_file_interval_and_last_evaluation(
    client: TestClient,
) -> None:
    html = client.get("/rules").text
    text = _text(html)
    assert "web rules.yml" in text
    assert "Interval 30s" in text
    assert "Interval 1m" in text  # the group without one takes the global default
    assert "Last evaluation 0.0s ago" in text
    assert "Last evaluation never" in text  # the group never evaluated


def test_rules_page_shows_a_rule_in_error_with_its_message(client: TestClient) -> None:
    html = client.get("/rules").text
    row = re.search(r'<tr class="rule rule-err">.*?</tr>', html, re.S)
    assert row is not None
    assert "Broken" in row.group(0)
    assert "invalid regular expression in label_replace(): (" in _text(row.group(0))
    assert '<span class="health health-err">ERR</span>' in row.group(0)
    assert "Errors 1" in _text(html)


def test_rules_page_writes_each_rule_as_its_file_does(client: TestClient) -> None:
    text = _text(client.get("/rules").text)
    assert "alert: HostDown expr: ui_up == 0 for: 5m labels: severity: page" in text
    assert "annotations: summary: {{ $labels.instance }} is down" in text
    assert "record: job:ui_up:sum expr: sum by (job) (ui_up)" in text


def test_an_expression_links_to_explore_with_it_in_the_url(client: TestClient) -> None:
    html = client.get("/rules").text
    hrefs = re.findall(r'<a class="expr-link" href="([^"]+)"', html)
    queries = [parse_qs(urlsplit(h.replace("&amp;", "&")).query) for h in hrefs]
    assert {"q0": ["sum by (job) (ui_up)"], "mode": ["table"]} in queries


def test_rules_filter_by_health_and_by_text(client: TestClient) -> None:
    only_errors = _text(client.get("/rules?health=err").text)
    assert "Broken" in only_errors
    assert "HostDown" not in only_errors
    assert "NotYet" not in only_errors
    unknown = _text(client.get("/rules?health=unknown").text)
    assert "NotYet" in unknown
    assert "Broken" not in unknown
    by_name = _text(client.get("/rules?search=hostdown").text)
    assert "HostDown" in by_name
    assert "Quiet" not in by_name
    by_label = _text(client.get("/rules?search=severity%3Dpage").text)
    assert "HostDown" in by_label
    assert "Broken" not in by_label
    assert "No rule matches the filter" in client.get("/rules?search=zzz").text


def test_alerts_page_counts_rules_by_state(client: TestClient) -> None:
    html = client.get("/alerts").text
    counts = dict(re.findall(r'<span class="state-count" data-state="(\w+)">(\d+)</span>', html))
    # HostDown fires; Broken, Quiet and the never-evaluated NotYet are inactive.
    assert counts == {"firing": "1", "pending": "0", "inactive": "3"}


def test_a_firing_alert_shows_labels_rendered_annotations_value_and_since(
    client: TestClient,
) -> None:
    html = client.get("/alerts").text
    rule = re.search(r'<details class="alert-rule state-border-firing">.*?</details>', html, re.S)
    assert rule is not None
    text = _text(rule.group(0))
    assert "FIRING HostDown 2 firing" in text
    assert 'instance="b:1"' in text
    assert 'severity="page"' in text
    assert "summary b:1 is down" in text  # the template as rendered for this alert
    assert "summary a:1 is down" in text
    assert re.search(r"FIRING 6m 0s ago \d{4}-\d\d-\d\d [\d:]+ UTC 0 ", text), text


def test_alerts_filter_by_state_and_text(client: TestClient) -> None:
    firing = _text(client.get("/alerts?state=firing").text)
    assert "HostDown" in firing
    assert "Quiet" not in firing
    inactive = _text(client.get("/alerts?state=inactive&search=qui").text)
    assert "Quiet" in inactive
    assert "Broken" not in inactive
    by_alert_label = _text(client.get("/alerts?search=instance%3Db%3A1").text)
    assert "HostDown" in by_alert_label
    assert "Quiet" not in by_alert_label


def test_label_values_from_data_show_as_text(client: TestClient) -> None:
    html = client.get("/alerts").text
    assert "<script>alert(1)" not in html
    assert 'team="&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_silence_button_links_to_a_silence_matching_the_alert_labels(
    client: TestClient,
) -> None:
    html = client.get("/alerts").text
    href = re.findall(r'<a class="button silence-link" href="([^"]+)"', html)[0]
    url = urlsplit(href.replace("&amp;", "&"))
    assert url.path == "/alerts/silences"
    lines = parse_qs(url.query)["matcher"]
    matchers = {m.name: m.value for line in lines for m in parse_matchers(line)}
    assert matchers == {
        "alertname": "HostDown",
        "instance": "a:1",
        "job": "web",
        "severity": "page",
        "team": "<script>alert(1)</script>",
    }
    page = client.get(href.replace("&amp;", "&")).text
    assert '<details class="new-silence" open>' in page
    assert "team=&#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in page  # in the textarea
    assert "<script>alert(1)" not in page


def test_the_alerts_section_has_tabs_for_its_pages(client: TestClient) -> None:
    html = client.get("/alerts/silences").text
    assert '<a href="/alerts/silences" aria-current="page">Silences</a>' in html
    assert re.findall(r'<li><a href="(/[a-z]+)"', html) == ["/explore", "/alerts", "/rules"]


def _held() -> list[Alert]:
    """What the Alertmanager API holds: HostDown's alert as the rule sent it, two from
    another Prometheus (one naming its expression), one whose generator URL is a script."""
    start = NOW_MS - 120_000
    return [
        Alert(
            (("alertname", "HostDown"), ("instance", "a:1")),
            starts_at_ms=start,
            generator_url="http://spyglass:9090/graph?g0.expr=ui_up+%3D%3D+0&g0.tab=1",
        ),
        Alert(
            (("alertname", "Elsewhere"), ("team", "<b>x</b>")),
            starts_at_ms=start,
            generator_url="http://prom:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1",
        ),
        Alert((("alertname", "NoExpr"),), starts_at_ms=start),
        Alert(
            (("alertname", "Sneaky"),),
            starts_at_ms=start,
            generator_url="javascript:alert(1)//?g0.expr=up",
        ),
        Alert((("alertname", "Over"),), starts_at_ms=start, ends_at_ms=NOW_MS - 1),
    ]


@pytest.fixture(scope="module")
def held_client() -> Iterator[TestClient]:
    groups = _groups()
    clock = lambda: NOW_MS / 1000  # noqa: E731
    held = [a for a in _held() if not a.resolved_at(NOW_MS)]  # as Router.active_alerts gives
    pages = [EXPLORE, alerts_page(lambda: groups, clock, held=lambda: held), silences_page()]
    with TestClient(create_app([WebUI(pages)], SelfMetrics())) as c:
        yield c


def test_alerts_no_rule_fired_are_listed_with_a_why_panel_when_they_name_an_expression(
    held_client: TestClient,
) -> None:
    html = held_client.get("/alerts").text
    section = re.search(r'<section class="other-alerts".*?</section>', html, re.S)
    assert section is not None
    other = section.group(0)
    text = _text(other)
    assert "Elsewhere" in text
    assert "NoExpr" in text
    assert "Sneaky" in text
    assert "HostDown" not in text  # the rule's own alert is under its rule
    assert "Over" not in text
    assert 'team="&lt;b&gt;x&lt;/b&gt;"' in other
    queries = re.findall(r'<div class="why" data-query="([^"]+)"', other)
    # Sneaky's URL names an expression too: the panel asks it, but it is no link.
    assert queries == ["rate(x[5m]) &gt; 1", "up"]
    sources = re.findall(r'<a class="source-link" href="([^"]+)"', other)
    assert sources == ["http://prom:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&amp;g0.tab=1"]
    assert "2m 0s ago" in text
    # A search narrows them by label; a state filter without firing hides them.
    searched = _text(held_client.get("/alerts?search=noexpr").text)
    assert "NoExpr" in searched
    assert "Elsewhere" not in searched
    assert "other-alerts" not in held_client.get("/alerts?state=inactive").text
